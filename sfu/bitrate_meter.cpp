#include "sfu/bitrate_meter.hpp"

#include <algorithm>
#include <limits>

namespace chorus::sfu {
namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

// Floor division, so times before the clock's epoch (a test's fake clock) still fall on the grid.
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t slot_of(std::int64_t step, std::size_t count) noexcept {
  const auto n = static_cast<std::int64_t>(count);
  return static_cast<std::size_t>(((step % n) + n) % n);
}

}  // namespace

BitrateMeter::BitrateMeter(const BitrateMeterConfig& config) noexcept
    : bucket_count_(std::clamp<std::size_t>(config.buckets, 1, kMaxBitrateBuckets)),
      idle_after_(std::max(config.idle_after, std::chrono::milliseconds{0})) {
  const Clock::duration window = std::max<Clock::duration>(config.window, std::chrono::milliseconds{1});
  bucket_width_ = std::max<Clock::duration>(window / static_cast<int>(bucket_count_), Clock::duration{1});
}

std::int64_t BitrateMeter::step_of(Clock::time_point t) const noexcept {
  return floor_div(t.time_since_epoch().count(), bucket_width_.count());
}

void BitrateMeter::add(std::size_t bytes, Clock::time_point now) noexcept {
  const std::int64_t step = step_of(now);
  const auto count = static_cast<std::int64_t>(bucket_count_);
  if (first_step_ && step <= newest_step_ - count) {
    ++stale_adds_;  // its bucket already left the window: counting it would inflate a newer one
    return;
  }
  // After a silence longer than the window the meter starts afresh, so a resumed layer is read at
  // its rate at once instead of diluted over a window of nothing.
  if (!first_step_ || step >= newest_step_ + count) first_step_ = step;
  first_step_ = std::min(*first_step_, step);
  newest_step_ = std::max(newest_step_, step);
  // The slot for `step` holds either `step` or a step at least one window older (see the header).
  Bucket& bucket = buckets_[slot_of(step, bucket_count_)];
  if (bucket.step != step) bucket = Bucket{.step = step, .bytes = 0};
  bucket.bytes = saturating_add(bucket.bytes, bytes);

  if (!last_add_ || now - *last_add_ > idle_after_) run_start_ = now;
  if (!last_add_ || now > *last_add_) last_add_ = now;
}

std::int64_t BitrateMeter::rate_bps(Clock::time_point now) const noexcept {
  if (!first_step_) return 0;
  const std::int64_t current = step_of(now);
  const auto count = static_cast<std::int64_t>(bucket_count_);
  const std::int64_t oldest = current - count + 1;
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < bucket_count_; ++i) {
    const Bucket& bucket = buckets_[i];
    if (bucket.step >= oldest && bucket.step <= current) bytes = saturating_add(bytes, bucket.bytes);
  }
  if (bytes == 0) return 0;
  // The span runs from the start of the oldest bucket that can hold data to `now`.
  const std::int64_t start_step = std::max(oldest, *first_step_);
  const Clock::duration span =
      std::max(now.time_since_epoch() - bucket_width_ * start_step, Clock::duration{bucket_width_});
  const double seconds = std::chrono::duration<double>(span).count();
  const double bps = static_cast<double>(bytes) * 8.0 / seconds;
  constexpr auto kMax = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2);
  return static_cast<std::int64_t>(std::min(bps, kMax) + 0.5);
}

std::optional<BitrateMeter::Clock::time_point> BitrateMeter::live_since(Clock::time_point now) const noexcept {
  if (!last_add_ || now - *last_add_ > idle_after_) return std::nullopt;
  return run_start_;
}

void BitrateMeter::reset() noexcept {
  buckets_.fill(Bucket{});
  first_step_.reset();
  newest_step_ = 0;
  last_add_.reset();
  run_start_ = {};
}

}  // namespace chorus::sfu
