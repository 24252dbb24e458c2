// Slot: one video slot of a receiver — a video section it takes from us, with our own SSRC — as the
// room's router fills it (DESIGN §7). A slot is one continuous stream whatever it shows: its source
// (a producer's simulcast layer) changes only at a keyframe of the new source, and StreamRewriter /
// Vp8PictureIdRewriter keep sequence numbers, timestamps and VP8 picture ids unbroken across every
// switch. While a switch is pending (`target`), the current source keeps flowing until the target's
// keyframe arrives.
// It remembers what it sent (outgoing sequence number → timestamp and VP8 ids) so a receiver's NACK
// can be answered from the producer's retransmission cache with the same rewritten header (RFC 4588).
// Threading: the room's media worker.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "media/transport/media_session.hpp"
#include "sfu/payload/vp8_picture_id_rewriter.hpp"
#include "sfu/producer.hpp"
#include "sfu/router_types.hpp"
#include "sfu/stream_rewriter.hpp"

namespace chorus::sfu {

using SlotId = std::uint32_t;

// A producer's layer, as slots name their source.
struct LayerRef {
  ProducerId producer = 0;
  std::size_t layer = 0;
  bool operator==(const LayerRef&) const = default;
};

class Slot {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::size_t kSentHistory = 1024;  // outgoing packets a NACK can still name

  // What the slot sent with one outgoing sequence number.
  struct Sent {
    bool valid = false;
    std::uint16_t sequence_number = 0;
    std::uint32_t timestamp = 0;
    std::optional<std::uint16_t> picture_id;  // VP8, as rewritten
    std::optional<std::uint8_t> tl0_pic_idx;
    std::optional<TimePoint> retransmitted;  // last time a NACK was answered for it
  };

  Slot(SlotId id, media::MediaSession& session, SlotSpec spec);

  [[nodiscard]] SlotId id() const { return id_; }
  [[nodiscard]] const SlotSpec& spec() const { return spec_; }
  [[nodiscard]] media::MediaSession& session() const { return *session_; }
  // The receiver's payload type for `codec`, and its RTX payload type; nullopt when it does not take it.
  [[nodiscard]] const CodecMapping* receiver_codec(VideoCodec codec) const;

  // Who the slot shows (the allocator's choice) and from which layer.
  std::optional<ParticipantId> shown;
  std::optional<LayerRef> current;  // what is forwarded now
  std::optional<LayerRef> target;   // what it switches to at the target's next keyframe
  std::optional<TimePoint> target_since;

  StreamRewriter rewriter;
  Vp8PictureIdRewriter vp8;
  std::uint16_t rtx_sequence = 0;  // RFC 4588 §4: the retransmission stream's own numbering
  std::uint32_t last_timestamp = 0;

  void remember(const Sent& sent) { sent_[sent.sequence_number % kSentHistory] = sent; }
  [[nodiscard]] Sent* sent(std::uint16_t sequence_number) {
    Sent& entry = sent_[sequence_number % kSentHistory];
    return entry.valid && entry.sequence_number == sequence_number ? &entry : nullptr;
  }

 private:
  SlotId id_;
  media::MediaSession* session_;
  SlotSpec spec_;
  std::array<Sent, kSentHistory> sent_{};
};

}  // namespace chorus::sfu
