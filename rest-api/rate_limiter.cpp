#include "rest-api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/log.hpp"
#include "rest-api/metrics.hpp"

namespace chorus::rest {

namespace {

std::string_view caller_name(RateLimiter::Caller caller) {
  return caller == RateLimiter::Caller::kAdmin ? "admin" : "api_key";
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

RateLimiter::RateLimiter(RateLimitConfig config, Clock clock) : config_(config), clock_(std::move(clock)) {
  config_.burst = std::max(config_.burst, 1.0);
  config_.admin_burst = std::max(config_.admin_burst, 1.0);
}

void RateLimiter::attach_metrics(MetricsRegistry& registry) {
  for (const Caller caller : {Caller::kApiKey, Caller::kAdmin}) {
    refused_counters_[static_cast<std::size_t>(caller)] =
        &registry.counter("chorus_http_rate_limited_total", "REST requests refused 429 by the per-caller rate limit.",
                          {{"caller", std::string(caller_name(caller))}});
  }
}

std::optional<std::chrono::seconds> RateLimiter::admit(std::string_view key, Caller caller) {
  if (caller == Caller::kAdmin) {
    if (config_.admin_requests_per_second <= 0) return std::nullopt;
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    if (!admin_bucket_) admin_bucket_ = Bucket{config_.admin_burst, now};
    auto retry = take(*admin_bucket_, config_.admin_requests_per_second, config_.admin_burst, now);
    if (retry) on_refused(caller, key, *admin_bucket_);
    return retry;
  }
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
  auto retry = take(it->second, config_.requests_per_second, config_.burst, now);
  if (retry) on_refused(caller, key, it->second);
  return retry;
}

std::optional<std::chrono::seconds> RateLimiter::take(Bucket& bucket, double rate, double burst,
                                                      std::chrono::steady_clock::time_point now) {
  const std::chrono::duration<double> elapsed = std::max(now - bucket.updated, std::chrono::steady_clock::duration{});
  bucket.tokens = std::min(burst, bucket.tokens + elapsed.count() * rate);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    bucket.limited = false;
    return std::nullopt;
  }
  const double wait = (1.0 - bucket.tokens) / rate;
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
}

void RateLimiter::on_refused(Caller caller, std::string_view key, Bucket& bucket) {
  const auto index = static_cast<std::size_t>(caller);
  refused_[index].fetch_add(1, std::memory_order_relaxed);
  if (refused_counters_[index] != nullptr) refused_counters_[index]->inc();
  if (bucket.limited) return;
  bucket.limited = true;
  const bool admin = caller == Caller::kAdmin;
  // Key ids are not secrets (they are listed by GET /v1/api-keys); the token never appears.
  CHORUS_LOG(kWarn, "security", "http_rate_limited", {"caller", caller_name(caller)}, {"key_id", key},
             {"rate", number_text(admin ? config_.admin_requests_per_second : config_.requests_per_second)},
             {"burst", number_text(admin ? config_.admin_burst : config_.burst)});
}

void RateLimiter::drop_idle_buckets(std::chrono::steady_clock::time_point now) {
  // A bucket that has had time to refill completely carries no state worth keeping.
  const std::chrono::duration<double> refill(config_.burst / config_.requests_per_second);
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.updated >= refill; });
}

}  // namespace chorus::rest
