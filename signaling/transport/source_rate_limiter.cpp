#include "signaling/transport/source_rate_limiter.hpp"

#include <algorithm>
#include <utility>

#include "signaling/transport/via_routing.hpp"

namespace chorus::sip {

namespace ip = boost::asio::ip;

SourceRateLimiter::SourceRateLimiter(SourceLimits limits) : limits_(std::move(limits)) {
  limits_.burst = std::max<std::uint32_t>(limits_.burst, 1);
  limits_.max_sources = std::clamp<std::size_t>(limits_.max_sources, 1, kNone - 1);
  index_.reserve(std::min<std::size_t>(limits_.max_sources, 4096));
}

std::size_t SourceRateLimiter::KeyHash::operator()(const Key& key) const {
  // FNV-1a over the 16 bytes: cheap, and the table holds at most max_sources entries.
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char byte : key) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(hash);
}

SourceRateLimiter::Key SourceRateLimiter::key_of(const ip::address& source) {
  const auto address = normalize_address(source);
  if (address.is_v4()) return ip::make_address_v6(ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

void SourceRateLimiter::unlink(std::uint32_t slot) {
  Entry& entry = entries_[slot];
  if (entry.newer != kNone)
    entries_[entry.newer].older = entry.older;
  else
    newest_ = entry.older;
  if (entry.older != kNone)
    entries_[entry.older].newer = entry.newer;
  else
    oldest_ = entry.newer;
  entry.newer = entry.older = kNone;
}

void SourceRateLimiter::push_newest(std::uint32_t slot) {
  Entry& entry = entries_[slot];
  entry.older = newest_;
  entry.newer = kNone;
  if (newest_ != kNone) entries_[newest_].newer = slot;
  newest_ = slot;
  if (oldest_ == kNone) oldest_ = slot;
}

std::uint32_t SourceRateLimiter::find_or_insert(const Key& key, TimePoint now) {
  if (auto it = index_.find(key); it != index_.end()) {
    unlink(it->second);
    push_newest(it->second);
    return it->second;
  }
  std::uint32_t slot = 0;
  if (entries_.size() < limits_.max_sources) {
    slot = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    // Full: the least recently seen source is forgotten (if it was blocked, its block ends early;
    // the counter shows when the table is too small for the traffic).
    slot = oldest_;
    unlink(slot);
    index_.erase(entries_[slot].key);
    counters_.sources_evicted.fetch_add(1, std::memory_order_relaxed);
  }
  entries_[slot] = Entry{key, static_cast<double>(limits_.burst), now, TimePoint{}, kNone, kNone};
  index_.emplace(key, slot);
  push_newest(slot);
  return slot;
}

SourceRateLimiter::Verdict SourceRateLimiter::admit(const ip::address& source, TimePoint now) {
  if (!enabled()) return Verdict::kAllowed;
  if (any_contains(limits_.trusted, source)) {
    counters_.trusted_messages.fetch_add(1, std::memory_order_relaxed);
    return Verdict::kTrusted;
  }
  Entry& entry = entries_[find_or_insert(key_of(source), now)];
  if (now < entry.blocked_until) {
    counters_.messages_dropped.fetch_add(1, std::memory_order_relaxed);
    return Verdict::kBlocked;
  }
  if (entry.blocked_until != TimePoint{}) {  // the block is over: a fresh start
    entry.blocked_until = TimePoint{};
    entry.tokens = static_cast<double>(limits_.burst);
    entry.refilled = now;
  }
  const std::chrono::duration<double> elapsed = now - entry.refilled;
  if (elapsed.count() > 0) {
    entry.tokens = std::min(static_cast<double>(limits_.burst), entry.tokens + elapsed.count() * limits_.rate);
    entry.refilled = now;
  }
  if (entry.tokens >= 1.0) {
    entry.tokens -= 1.0;
    return Verdict::kAllowed;
  }
  entry.blocked_until = now + limits_.block_time;
  counters_.sources_blocked.fetch_add(1, std::memory_order_relaxed);
  counters_.messages_dropped.fetch_add(1, std::memory_order_relaxed);
  return Verdict::kBlockedNow;
}

bool SourceRateLimiter::blocked(const ip::address& source, TimePoint now) const {
  if (!enabled()) return false;
  auto it = index_.find(key_of(source));
  return it != index_.end() && now < entries_[it->second].blocked_until;
}

}  // namespace chorus::sip
