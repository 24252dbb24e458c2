// TransportCcRecorder: the receive side of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01). One per media transport: every RTP packet
// that carries the transport-wide sequence number extension (§2) is recorded with its arrival
// time, and build_feedback() turns what arrived since the last feedback into RTCP transport-cc
// packets (§3.1) for the sender's estimator.
//
// Recording: sequence numbers are unwrapped to 64 bits and kept in a fixed ring of
// `max_pending` slots, each tagged with the unwrapped number it holds, so reordering and
// duplicates cost nothing and memory never grows. The ring covers [first unreported,
// first unreported + max_pending): a packet behind it (already reported, or far in the past) is
// dropped and counted; a packet beyond it slides the window forward and the unreported packets
// that fall out are counted as evicted (the sender then sees them neither received nor lost).
//
// Feedback: each packet covers a run of consecutive sequence numbers from the first unreported
// one up to the highest received. A packet is cut short, and the next one starts with its own
// reference time, when (a) it would exceed `max_packet_size` octets, (b) the next arrival delta
// does not fit the 16-bit signed "large" delta (±8.19 s, §3.1.5), or (c) the status count would
// exceed 65535. Deltas are computed from absolute 250 µs ticks since the reference time, so
// truncation never accumulates along a packet. The feedback packet count (§3.1) is 8 bits and
// wraps; the reference time is the first received packet's arrival in 64 ms units, modulo 2^24.
//
// Interval: we recommend one feedback every 100 ms (`interval`, see feedback_due()). The
// sender's delay-based estimator reacts one feedback after the queue starts to grow, so the
// interval adds directly to its reaction time; 100 ms keeps that below a typical RTT's worth
// while the feedback costs about 10 packets/s (~64 B + 2 bits and ~1 B per reported packet,
// well under 1 % of a 1 Mbit/s stream). 50 ms halves the reaction time at twice the packets,
// worth it only above a few Mbit/s; libwebrtc's receivers use 50–250 ms. feedback_due() also
// says "now" when half the window is pending, so a burst never evicts.
//
// Pure logic, no clock of its own: the caller passes arrival and current times in.
// Threading: a plain value owned by the media worker of its transport; use it from that thread.
// on_packet() neither allocates nor throws; build_feedback() reuses a kept scratch list.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/transport_cc.hpp"
#include "media/rtp/sequence.hpp"

namespace chorus::media::rtcp {

struct TransportCcRecorderConfig {
  // Sequence numbers kept between two feedbacks (the window). 1..32768.
  std::size_t max_pending = 1000;
  // One transport-cc packet at most, in octets: the MTU budget left after IP/UDP/SRTCP overhead
  // and anything the caller puts in the same compound. At least kMinPacketSize.
  std::size_t max_packet_size = 1200;
  // How often feedback_due() says a feedback should go out.
  std::chrono::milliseconds interval{100};
};

struct TransportCcRecorderCounters {
  std::uint64_t packets_recorded = 0;
  std::uint64_t duplicates = 0;        // a sequence number already recorded; the first arrival is kept
  std::uint64_t too_old = 0;           // behind the window: already reported, or far in the past
  std::uint64_t evicted = 0;           // received but pushed out of the window unreported by a jump ahead
  std::uint64_t feedback_packets = 0;  // transport-cc packets written
  std::uint64_t buffer_too_small = 0;  // build_feedback() calls that could not fit a pending packet
};

class TransportCcRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  // Feedback header (12) + fixed FCI (8) + one chunk (2) + one large delta (2), padded: 24.
  static constexpr std::size_t kMinPacketSize = 24;
  static constexpr std::size_t kMaxPending = 32768;

  // Control path: throws std::invalid_argument for a window outside 1..kMaxPending, a packet
  // size below kMinPacketSize or a non-positive interval.
  explicit TransportCcRecorder(TransportCcRecorderConfig config = {});

  // Records one arrival. false when the packet was not recorded (a duplicate or too old; counted).
  bool on_packet(std::uint16_t transport_sequence, Clock::time_point arrival) noexcept;

  // True when there is something to report and either `interval` has passed since the last
  // feedback or half the window is pending.
  [[nodiscard]] bool feedback_due(Clock::time_point now) const noexcept;

  // Writes one or more complete transport-cc packets (a reduced-size compound, RFC 5506 §3.1)
  // into `out` covering what arrived since the last feedback, each at most max_packet_size.
  // Returns the octets written: 0 when nothing is pending or not even one packet fits (counted in
  // buffer_too_small). What does not fit stays pending, so a caller with one MTU-sized buffer
  // calls again until it returns 0.
  std::size_t build_feedback(Clock::time_point now, std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                             std::span<std::uint8_t> out);

  [[nodiscard]] bool has_pending() const noexcept { return received_any_ && next_unreported_ <= highest_; }
  [[nodiscard]] const TransportCcRecorderCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint8_t feedback_count() const noexcept { return feedback_count_; }

 private:
  struct Slot {
    std::int64_t sequence = -1;  // the unwrapped number this slot holds; anything else means empty
    Clock::time_point arrival{};
  };

  [[nodiscard]] const Slot* received(std::int64_t sequence) const noexcept;
  void slide_window_to(std::int64_t sequence) noexcept;
  // Fills scratch_ with the next packet's statuses from next_unreported_; false if none fits.
  bool collect_next_packet(TransportCc& feedback);

  TransportCcRecorderConfig config_;
  std::vector<Slot> slots_;  // sized once: max_pending
  SequenceUnwrapper unwrapper_;
  bool received_any_ = false;
  std::int64_t next_unreported_ = 0;  // the window's start
  std::int64_t highest_ = -1;         // highest received; always a received packet
  std::uint8_t feedback_count_ = 0;
  std::optional<Clock::time_point> last_feedback_;
  TransportCc scratch_;  // packets' capacity kept across feedbacks
  TransportCcRecorderCounters counters_;
};

}  // namespace chorus::media::rtcp
