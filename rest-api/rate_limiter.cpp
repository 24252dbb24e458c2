#include "rest-api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::rest {

RateLimiter::RateLimiter(RateLimitConfig config, Clock clock) : config_(config), clock_(std::move(clock)) {
  config_.burst = std::max(config_.burst, 1.0);
}

std::optional<std::chrono::seconds> RateLimiter::admit(std::string_view key) {
  if (config_.requests_per_second <= 0) return std::nullopt;
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.max_tracked_keys) drop_idle_buckets(now);
    // Still full of active callers: admit rather than track more (keys are valid principals, so
    // this needs more live API keys than the limit allows for).
    if (buckets_.size() >= config_.max_tracked_keys) return std::nullopt;
    it = buckets_.emplace(std::string(key), Bucket{config_.burst, now}).first;
  }
  auto& bucket = it->second;
  const std::chrono::duration<double> elapsed = std::max(now - bucket.updated, std::chrono::steady_clock::duration{});
  bucket.tokens = std::min(config_.burst, bucket.tokens + elapsed.count() * config_.requests_per_second);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - bucket.tokens) / config_.requests_per_second;
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
}

void RateLimiter::drop_idle_buckets(std::chrono::steady_clock::time_point now) {
  // A bucket that has had time to refill completely carries no state worth keeping.
  const std::chrono::duration<double> refill(config_.burst / config_.requests_per_second);
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.updated >= refill; });
}

}  // namespace chorus::rest
