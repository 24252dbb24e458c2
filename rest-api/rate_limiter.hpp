// Per-caller request rate limit: one token bucket per API key, refilled at `requests_per_second`
// up to `burst`, and one bucket for the admin token with its own rate and burst. A request that
// finds its bucket empty gets 429 with Retry-After (RFC 6585 §4). The clock is injected so tests
// are deterministic.
//
// Each caller's first refusal after it was admitted logs one line (comp=security
// msg=http_rate_limited): one line per episode, not per request, so a flood cannot flood the log.
// Refusals are counted per caller kind (chorus_http_rate_limited_total{caller=...} once
// attach_metrics() was called).
//
// Threading: thread-safe (a mutex); the router calls it on the control loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chorus::rest {

class Counter;
class MetricsRegistry;

struct RateLimitConfig {
  double requests_per_second = 20;  // each API key; 0 disables the limit for keys
  double burst = 40;
  std::size_t max_tracked_keys = 10'000;  // bounds the bucket map; idle (full) buckets are dropped first
  // The admin token is the operator's own (scripts, the bench's wrk run): not limited by default.
  double admin_requests_per_second = 0;  // 0: not limited
  double admin_burst = 40;
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  enum class Caller : std::uint8_t { kApiKey, kAdmin };

  explicit RateLimiter(RateLimitConfig config = {}, Clock clock = [] { return std::chrono::steady_clock::now(); });

  // Takes one token from the caller's bucket (`key` names an API key; the admin token has one
  // bucket whatever `key` says). nullopt: admitted. Otherwise refused, and the value is when to
  // retry: the time until the bucket holds a token, in whole seconds, at least 1.
  std::optional<std::chrono::seconds> admit(std::string_view key, Caller caller = Caller::kApiKey);

  // Registers chorus_http_rate_limited_total{caller="api_key"|"admin"}; `registry` outlives this.
  void attach_metrics(MetricsRegistry& registry);

  [[nodiscard]] const RateLimitConfig& config() const { return config_; }
  [[nodiscard]] std::uint64_t refused(Caller caller) const {
    return refused_[static_cast<std::size_t>(caller)].load(std::memory_order_relaxed);
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
    bool limited = false;  // refused since its last admission: the episode was logged
  };
  std::optional<std::chrono::seconds> take(Bucket& bucket, double rate, double burst,
                                           std::chrono::steady_clock::time_point now);
  void on_refused(Caller caller, std::string_view key, Bucket& bucket);
  void drop_idle_buckets(std::chrono::steady_clock::time_point now);

  RateLimitConfig config_;
  Clock clock_;
  std::mutex mutex_;
  // Hashed, with string_view look-ups (no key copied): with thousands of keys in turn an ordered
  // map's comparisons were a visible share of a request (issue 13's profile).
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets_;
  std::optional<Bucket> admin_bucket_;
  std::atomic<std::uint64_t> refused_[2] = {0, 0};
  Counter* refused_counters_[2] = {nullptr, nullptr};
};

}  // namespace chorus::rest
