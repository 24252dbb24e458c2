// StreamRewriter: one forwarded video stream of a receiver (a slot: its own SSRC, one continuous
// sequence and timestamp space) whose source — a producer's simulcast layer — switches at
// keyframes. It maps each source packet's RTP sequence number and timestamp (RFC 3550 §5.1) into
// the slot's, so that every switch looks to the receiver like one unbroken stream.
//
// Rules:
//   - Within one source both fields are the source's plus a fixed offset, so reordered and
//     repeated packets map consistently, and a loss in the source stays a gap the receiver can
//     NACK. 16- and 32-bit wraps fall out of modular arithmetic.
//   - A switch happens only on a packet the caller marks as a switch point (the first packet of a
//     keyframe) of a source other than the current one. The outgoing sequence continues at the
//     newest sent + 1; the timestamp at the newest sent + the wall-clock time since that
//     timestamp was first sent, in the clock rate, at least one tick, so the receiver's jitter
//     buffer sees neither a repeat nor a jump the pause did not have.
//   - After a switch, late packets of the previous source and packets of the new one older than
//     its switch point are dropped (each would land on outgoing numbers already used or skipped).
//     Until the first switch point nothing is forwarded.
// It also remembers the last kMaxSegments sources' offsets so a receiver's NACK of an outgoing
// sequence number can be traced back to the source packet to retransmit (source_of).
//
// The packet path: no allocation, no throw, no lock; drops are returned and counted. Time is
// passed in (arrival), never read.
//
// Threading: one per slot, owned by the room's router on its media worker.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "media/rtp/sequence.hpp"

namespace chorus::sfu {

// The router's name for one source stream: a producer and one of its simulcast layers.
struct SourceKey {
  std::uint32_t producer = 0;
  std::uint8_t layer = 0;

  bool operator==(const SourceKey&) const = default;
};

struct StreamRewriterConfig {
  std::uint32_t clock_rate = 90000;  // RTP timestamp units per second (RFC 3551 §5: video 90 kHz)
  // Where the outgoing stream starts; RFC 3550 §5.1 wants both random, so the caller draws them.
  std::uint16_t initial_sequence_number = 0;
  std::uint32_t initial_timestamp = 0;
};

enum class RewriteDrop : std::uint8_t {
  kNoSource,           // nothing forwarded yet: waiting for a switch point
  kNotCurrentSource,   // another source than the current one (an old one, or a new one between keyframes)
  kBeforeSwitchPoint,  // the current source, but older than the packet the switch happened on
};
[[nodiscard]] std::string_view to_string(RewriteDrop drop) noexcept;

struct StreamRewriterCounters {
  std::uint64_t forwarded = 0;
  std::uint64_t switches = 0;
  std::uint64_t dropped_no_source = 0;
  std::uint64_t dropped_not_current_source = 0;
  std::uint64_t dropped_before_switch_point = 0;
};

class StreamRewriter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Sources whose outgoing ranges source_of() can still map back.
  static constexpr std::size_t kMaxSegments = 8;
  // Upper bound of the timestamp step at a switch: a quarter of the 32-bit space (over 3 hours at
  // 90 kHz), far from the half where a receiver would read the step as going backwards.
  static constexpr std::uint32_t kMaxSwitchTimestampStep = 1U << 30;

  struct Input {
    SourceKey source;
    std::uint16_t sequence_number = 0;
    std::uint32_t timestamp = 0;
    TimePoint arrival{};
    bool switch_point = false;  // the first packet of a keyframe of `source`
  };

  struct Output {
    std::uint16_t sequence_number = 0;
    std::uint32_t timestamp = 0;
    bool switched = false;  // the first packet of a new source: Vp8PictureIdRewriter needs to know

    bool operator==(const Output&) const = default;
  };

  // Where an outgoing sequence number came from.
  struct SourcePacket {
    SourceKey source;
    std::uint16_t sequence_number = 0;

    bool operator==(const SourcePacket&) const = default;
  };

  explicit StreamRewriter(StreamRewriterConfig config) noexcept;

  [[nodiscard]] std::expected<Output, RewriteDrop> rewrite(const Input& input) noexcept;

  // The source packet behind a sequence number this stream sent, for a NACK from the receiver;
  // nullopt when it was never sent or its source is older than the last kMaxSegments.
  [[nodiscard]] std::optional<SourcePacket> source_of(std::uint16_t outgoing_sequence_number) const noexcept;

  // Stops forwarding: the next switch point of any source — the previous one included — starts a
  // new segment (the slot was emptied and is being refilled). Outgoing continuity is kept.
  void reset_source() noexcept { current_.reset(); }

  [[nodiscard]] std::optional<SourceKey> current_source() const noexcept;
  [[nodiscard]] const StreamRewriterCounters& counters() const noexcept { return counters_; }

 private:
  // One source's stretch of the outgoing sequence space.
  struct Segment {
    SourceKey source;
    std::int64_t first_outgoing = 0;  // unwrapped in out_unwrapper_'s space
    std::uint16_t sequence_offset = 0;
  };

  struct CurrentSource {
    SourceKey key;
    std::uint16_t sequence_offset = 0;   // outgoing - source, mod 2^16
    std::uint32_t timestamp_offset = 0;  // outgoing - source, mod 2^32
    std::int64_t switch_point = 0;       // unwrapped source sequence number of the switch packet
    media::SequenceUnwrapper unwrapper;
  };

  void switch_to(const Input& input) noexcept;
  [[nodiscard]] Output forward(const Input& input, bool switched) noexcept;

  StreamRewriterConfig config_;
  std::optional<CurrentSource> current_;

  // The outgoing stream so far.
  bool sent_any_ = false;
  std::uint16_t newest_sequence_number_ = 0;
  std::uint32_t newest_timestamp_ = 0;
  TimePoint newest_timestamp_first_sent_{};  // arrival of the first packet sent with newest_timestamp_
  media::SequenceUnwrapper out_unwrapper_;
  std::int64_t newest_outgoing_ = 0;  // newest_sequence_number_ unwrapped

  std::array<Segment, kMaxSegments> segments_{};
  std::size_t segment_count_ = 0;  // up to kMaxSegments; segments_[(next_segment_ - 1) % N] is the newest
  std::size_t next_segment_ = 0;

  StreamRewriterCounters counters_;
};

}  // namespace chorus::sfu
