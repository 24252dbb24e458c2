// PairedSink: one video section served by two engines at once. In an `sfu` room a camera is both
// an SFU producer (forwarded to the others' slots) and an input of the room's composite (built by
// the video MCU only while someone receives it: a SIP endpoint with sip_video composite, or the
// meeting's recorder). The composite's sink sees each packet first, since it only copies it, and
// the SFU's second, since it may rewrite the packet in place to forward it (MediaSink::on_rtp).
// Threading: the room's media worker, like any sink.
#pragma once

#include <memory>
#include <utility>

#include "media/transport/media_sink.hpp"
#include "media/worker/media_worker.hpp"

namespace chorus::conference {

class PairedSink final : public media::MediaSink {
 public:
  // `reader` never modifies packets; `forwarder` may.
  PairedSink(std::unique_ptr<media::MediaSink> reader, std::unique_ptr<media::MediaSink> forwarder)
      : reader_(std::move(reader)), forwarder_(std::move(forwarder)) {}

  void on_attached(media::MediaSession& session) override {
    reader_->on_attached(session);
    forwarder_->on_attached(session);
  }
  void on_detached(media::MediaSession& session) override {
    reader_->on_detached(session);
    forwarder_->on_detached(session);
  }
  void on_rtp(media::MediaSession& session, media::RtpPacket& packet, std::span<std::uint8_t> buffer) override {
    reader_->on_rtp(session, packet, buffer);
    forwarder_->on_rtp(session, packet, buffer);
  }
  void on_rtcp(media::MediaSession& session, std::span<const std::uint8_t> compound) override {
    reader_->on_rtcp(session, compound);
    forwarder_->on_rtcp(session, compound);
  }
  void on_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) override {
    reader_->on_feedback(session, feedback);
    forwarder_->on_feedback(session, feedback);
  }
  // Each engine takes what is about its own stream (the composite's receiver, the SFU's slot); a
  // section has at most one of the two, so both are asked.
  bool on_transport_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) override {
    const bool read = reader_->on_transport_feedback(session, feedback);
    const bool forwarded = forwarder_->on_transport_feedback(session, feedback);
    return read || forwarded;
  }

  // Both when both are set, else the one that is (or none).
  static media::SinkFactory pair(media::SinkFactory reader, media::SinkFactory forwarder) {
    if (!reader) return forwarder;
    if (!forwarder) return reader;
    return [reader = std::move(reader), forwarder = std::move(forwarder)]() -> std::unique_ptr<media::MediaSink> {
      return std::make_unique<PairedSink>(reader(), forwarder());
    };
  }

 private:
  std::unique_ptr<media::MediaSink> reader_;
  std::unique_ptr<media::MediaSink> forwarder_;
};

}  // namespace chorus::conference
