// VideoSink: the MediaSink that joins one video section of a participant's session to its room's
// router — as a producer (the section carries the participant's camera to us), as a slot (we send
// someone's video in it), or both (a SIP room system's one sendrecv video m-line).
// Threading: the room's media worker, like the router it holds.
#pragma once

#include <memory>
#include <optional>

#include "media/transport/media_sink.hpp"
#include "sfu/router.hpp"

namespace chorus::sfu {

class VideoSink final : public media::MediaSink {
 public:
  VideoSink(std::shared_ptr<Router> router, std::optional<ProducerSpec> producer, std::optional<SlotSpec> slot)
      : router_(std::move(router)), producer_spec_(std::move(producer)), slot_spec_(std::move(slot)) {}

  void on_attached(media::MediaSession& session) override {
    if (producer_spec_) producer_ = router_->add_producer(session, *producer_spec_);
    if (slot_spec_) slot_ = router_->add_slot(session, *slot_spec_);
  }
  void on_detached(media::MediaSession& /*session*/) override {
    if (producer_) router_->remove_producer(*producer_);
    if (slot_) router_->remove_slot(*slot_);
    producer_.reset();
    slot_.reset();
  }
  void on_rtp(media::MediaSession& /*session*/, media::RtpPacket& packet, std::span<std::uint8_t> buffer) override {
    if (producer_) router_->on_producer_rtp(*producer_, packet, buffer);
  }
  void on_feedback(media::MediaSession& /*session*/, const media::RtcpFeedback& feedback) override {
    if (slot_) router_->on_slot_feedback(*slot_, feedback);
  }
  bool on_transport_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) override {
    return router_->on_transport_feedback(session, feedback);
  }

 private:
  std::shared_ptr<Router> router_;
  std::optional<ProducerSpec> producer_spec_;
  std::optional<SlotSpec> slot_spec_;
  std::optional<ProducerId> producer_;
  std::optional<SlotId> slot_;
};

}  // namespace chorus::sfu
