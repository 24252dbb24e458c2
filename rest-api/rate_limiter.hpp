// Per-caller request rate limit: one token bucket per API key (and the admin token), refilled at
// `requests_per_second` up to `burst`. A request that finds its bucket empty gets 429 with
// Retry-After (RFC 6585 §4). The clock is injected so tests are deterministic.
//
// Threading: thread-safe (a mutex); the router calls it on the control loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::rest {

struct RateLimitConfig {
  double requests_per_second = 20;  // 0 disables the limit
  double burst = 40;
  std::size_t max_tracked_keys = 10'000;  // bounds the bucket map; idle (full) buckets are dropped first
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit RateLimiter(RateLimitConfig config = {}, Clock clock = [] { return std::chrono::steady_clock::now(); });

  // Takes one token from `key`'s bucket. nullopt: admitted. Otherwise refused, and the value is
  // when to retry: the time until the bucket holds a token, in whole seconds, at least 1.
  std::optional<std::chrono::seconds> admit(std::string_view key);

  [[nodiscard]] const RateLimitConfig& config() const { return config_; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  void drop_idle_buckets(std::chrono::steady_clock::time_point now);

  RateLimitConfig config_;
  Clock clock_;
  std::mutex mutex_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace chorus::rest
