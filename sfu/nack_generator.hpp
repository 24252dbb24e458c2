// NackGenerator: upstream loss recovery for one received stream (a producer's layer). It watches
// the sequence numbers that arrive, remembers the missing ones, and hands out batches of them to
// send to the sender as RTCP generic NACKs (RFC 4585 §6.2.1); the sender answers with RTX.
//
// The policy, per missing packet:
//   - NACKed first as soon as a collect() runs at least `reorder_delay` after the gap was seen
//     (0 by default, as libwebrtc: reordering is rarer than loss on a media path);
//   - NACKed again no more often than once per RTT (the caller's current estimate, never below
//     `min_retry_interval`), at most `max_retries` times in all;
//   - given up after `max_age` (its retransmission could no longer arrive in time to play);
//   - forgotten as soon as it arrives, late or through RTX.
// The set is bounded (`max_missing`). A jump forward of more than the bound, or a set that is
// still full after dropping what precedes the last keyframe, clears everything and asks for a
// keyframe instead: past that point retransmissions cost more than a fresh keyframe. So does a
// packet more than 8192 behind the newest: a sender that restarted its numbering, not a straggler.
//
// All storage is allocated once, at construction; on_packet() and collect() never allocate or
// throw. Time is passed in.
//
// Threading: one per received stream, on its room's media worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/feedback.hpp"
#include "media/rtcp/generic_nack.hpp"
#include "media/rtp/sequence.hpp"

namespace chorus::sfu {

struct NackGeneratorConfig {
  std::size_t max_missing = 512;                     // the bounded set (~2.5 s of a 2 Mbit/s layer's packets)
  unsigned max_retries = 10;                         // NACKs per missing packet
  std::chrono::milliseconds min_retry_interval{20};  // the floor under the caller's RTT
  std::chrono::milliseconds max_age{1000};           // since the gap was seen
  std::chrono::milliseconds reorder_delay{0};        // before the first NACK
};

// What one received sequence number did.
enum class NackEvent : std::uint8_t {
  kInOrder,         // the next expected one (or the first ever)
  kGap,             // newer than expected: the ones in between are now missing
  kRecovered,       // one of the missing ones, arriving late or through RTX
  kDuplicate,       // seen before, or older than anything missing
  kKeyframeNeeded,  // too large a gap, or a restart: the set was cleared; ask the sender for a keyframe
};

struct NackGeneratorCounters {
  std::uint64_t missing = 0;  // sequence numbers ever recorded missing
  std::uint64_t recovered = 0;
  std::uint64_t nacks_sent = 0;  // sequence numbers handed out by collect(), retries included
  std::uint64_t given_up_retries = 0;
  std::uint64_t given_up_age = 0;
  std::uint64_t dropped_before_keyframe = 0;  // discarded to make room, older than the last keyframe
  std::uint64_t keyframe_requests = 0;
};

class NackGenerator {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::size_t kMaxMissingLimit = 16384;  // max_missing is clamped to 1..this

  explicit NackGenerator(NackGeneratorConfig config);

  NackEvent on_packet(std::uint16_t sequence_number, bool keyframe, TimePoint now) noexcept;

  // Fills `out` with the sequence numbers due for a NACK at `now`, oldest first, and counts each
  // as sent. Returns how many were written; the rest wait for the next call.
  std::size_t collect(TimePoint now, std::chrono::milliseconds rtt, std::span<std::uint16_t> out) noexcept;

  [[nodiscard]] std::size_t missing_count() const noexcept { return active_; }
  [[nodiscard]] bool is_missing(std::uint16_t sequence_number) const noexcept;
  [[nodiscard]] const NackGeneratorCounters& counters() const noexcept { return counters_; }

 private:
  struct Entry {
    std::int64_t sequence = 0;  // unwrapped
    TimePoint first_missing{};
    TimePoint last_sent{};
    std::uint16_t sends = 0;
    bool active = false;
  };

  [[nodiscard]] Entry& at(std::size_t i) noexcept { return ring_[(head_ + i) % ring_.size()]; }
  [[nodiscard]] const Entry& at(std::size_t i) const noexcept { return ring_[(head_ + i) % ring_.size()]; }
  [[nodiscard]] std::optional<std::size_t> find(std::int64_t sequence) const noexcept;
  bool make_room(std::size_t needed) noexcept;
  void compact() noexcept;
  void drop_front_inactive() noexcept;
  void clear() noexcept;
  void deactivate(Entry& entry) noexcept;
  [[nodiscard]] bool due(const Entry& entry, TimePoint now, std::chrono::milliseconds interval) const noexcept;

  NackGeneratorConfig config_;
  std::vector<Entry> ring_;  // entries in increasing sequence order from head_, count_ of them
  std::size_t head_ = 0;
  std::size_t count_ = 0;   // entries in the ring, given-up/recovered ones not yet popped included
  std::size_t active_ = 0;  // entries still missing
  media::SequenceUnwrapper unwrapper_;
  std::optional<std::int64_t> newest_;
  std::optional<std::int64_t> last_keyframe_;
  NackGeneratorCounters counters_;
};

// RFC 4585 §6.2.1: packs ascending (wrap-aware) sequence numbers into PID + BLP entries, each
// naming a PID and which of the 16 after it are lost too. Returns the entries written to `out`;
// `consumed` says how many sequence numbers they cover (fewer than given when `out` fills up).
struct NackPacking {
  std::size_t items = 0;
  std::size_t consumed = 0;
};
NackPacking pack_nack_items(std::span<const std::uint16_t> sequence_numbers,
                            std::span<media::rtcp::NackItem> out) noexcept;

// Writes one RTPFB generic NACK (FMT 1) with `items` into `out`; its size, or nullopt when there
// are no items or `out` is too small. The non-allocating twin of media::rtcp::GenericNack::write.
std::optional<std::size_t> write_generic_nack(std::span<std::uint8_t> out, media::rtcp::FeedbackSsrcs ssrcs,
                                              std::span<const media::rtcp::NackItem> items) noexcept;

}  // namespace chorus::sfu
