// BitrateMeter: bits per second over a sliding window, in fixed memory.
//
// The window (default 1 s) is cut into equal buckets (default 10 of 100 ms) on a grid fixed by the
// clock, each remembering which grid step it holds, so an idle meter needs no sweeping and a query
// is const: rate_bps() sums the buckets still inside the window and divides by the time they cover
// — the full buckets behind plus the elapsed part of the current one — so a steady stream reads
// true whatever the phase of the query within a bucket. While the meter is younger than the window
// — or after a silence longer than the window — the span starts at its first bucket (never less
// than one bucket), so a new or resumed stream is not read as a fraction of its rate for a second.
//
// It also says since when the stream has been live (packets no further apart than `idle_after`):
// LayerSelector moves a slot up only to a layer that has been live for a while, and never to one
// that stopped.
//
// Used per producer layer (what a simulcast layer costs) and per outgoing slot (what we send).
// Cost: add O(1), rate_bps O(buckets); no allocation.
// Threading: plain value; owned by the room's router on its media worker.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace chorus::sfu {

inline constexpr std::size_t kMaxBitrateBuckets = 64;  // a named limit: the array is sized by it

struct BitrateMeterConfig {
  std::chrono::milliseconds window{1000};     // clamped to at least 1 ms
  std::size_t buckets = 10;                   // clamped to 1..kMaxBitrateBuckets
  std::chrono::milliseconds idle_after{500};  // a gap longer than this ends a live run
};

class BitrateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit BitrateMeter(const BitrateMeterConfig& config = {}) noexcept;

  // `bytes` arrived at `now`. A time before the newest bucket still inside the window is counted
  // in its own bucket; one older than the window is dropped and counted (stale_adds()).
  void add(std::size_t bytes, Clock::time_point now) noexcept;

  // Bits per second over the window ending at `now`; 0 when nothing arrived inside it.
  [[nodiscard]] std::int64_t rate_bps(Clock::time_point now) const noexcept;

  // When the current live run began, or nullopt when nothing arrived within `idle_after` of `now`.
  [[nodiscard]] std::optional<Clock::time_point> live_since(Clock::time_point now) const noexcept;

  // Forget everything (e.g. the sender restarted the layer with a new SSRC).
  void reset() noexcept;

  [[nodiscard]] std::uint64_t stale_adds() const noexcept { return stale_adds_; }
  [[nodiscard]] Clock::duration window() const noexcept { return bucket_width_ * static_cast<int>(bucket_count_); }

 private:
  struct Bucket {
    std::int64_t step = 0;  // which grid step (now / bucket width) these bytes belong to
    std::uint64_t bytes = 0;
  };

  [[nodiscard]] std::int64_t step_of(Clock::time_point t) const noexcept;

  Clock::duration bucket_width_;
  std::size_t bucket_count_;
  Clock::duration idle_after_;
  std::array<Bucket, kMaxBitrateBuckets> buckets_{};
  std::optional<std::int64_t> first_step_;  // the first bucket since construction or reset()
  std::int64_t newest_step_ = 0;
  std::optional<Clock::time_point> last_add_;
  Clock::time_point run_start_{};
  std::uint64_t stale_adds_ = 0;
};

}  // namespace chorus::sfu
