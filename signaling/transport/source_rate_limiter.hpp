// SourceRateLimiter: a pike-like limit on SIP messages per source IP (Kamailio's pike module does
// the same job), checked by the transport before a message is parsed, so a flood from one address
// costs a table lookup per datagram and never reaches the parser, the transaction layer or a log
// line per packet.
//
// Each source has a token bucket (`rate` tokens a second, at most `burst`); a message takes one.
// A source that finds its bucket empty is blocked for `block_time`: everything it sends is dropped,
// and it is sent nothing, not even a response (a response would be reflected at whoever it spoofs).
// When the block ends it starts again with a full bucket. Sources in `trusted` (a SIP trunk, the
// Kamailio front of DESIGN §7) are never limited. Loopback is not exempt unless listed.
//
// The table is bounded (`max_sources`): when it is full, the source seen least recently is
// forgotten, blocked or not. A table entry is allocated only the first time a source is seen, and
// reused when evicted, so steady traffic allocates nothing.
//
// Time is passed in (no clock inside), so tests drive it. Threading: the control loop only (the
// TransportLayer that owns it); the counters are relaxed atomics so /metrics can read them.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "signaling/transport/address_range.hpp"

namespace chorus::sip {

struct SourceLimits {
  std::uint32_t rate = 30;   // messages per second per source IP; 0 turns the limiter off
  std::uint32_t burst = 60;  // messages a source may send at once (the bucket's size), at least 1
  std::chrono::seconds block_time{60};
  std::size_t max_sources = 65536;    // sources tracked at once (about 64 bytes each)
  std::vector<AddressRange> trusted;  // never limited
};

struct SourceLimiterCounters {
  std::atomic<std::uint64_t> sources_blocked{0};   // times a source went onto the block list
  std::atomic<std::uint64_t> messages_dropped{0};  // messages (or connections) refused while blocked
  std::atomic<std::uint64_t> sources_evicted{0};   // table full: the least recently seen forgotten
  std::atomic<std::uint64_t> trusted_messages{0};  // messages from trusted sources, not limited

  [[nodiscard]] std::array<PublishedCounter, 3> published() const {
    return {PublishedCounter{"chorus_sip_sources_blocked_total",
                             "SIP sources put on the block list for exceeding sip_requests_per_second_per_source",
                             "sip_sources_blocked", &sources_blocked},
            PublishedCounter{"chorus_sip_blocked_messages_total",
                             "SIP messages and connections from blocked sources dropped unanswered",
                             "sip_blocked_messages", &messages_dropped},
            PublishedCounter{"chorus_sip_source_table_evictions_total",
                             "SIP sources forgotten by the rate limiter because its table was full",
                             "sip_source_evictions", &sources_evicted}};
  }
};

class SourceRateLimiter {
 public:
  enum class Verdict : std::uint8_t {
    kAllowed,     // within its rate
    kTrusted,     // in the allow list: not counted
    kBlockedNow,  // just went over its rate: dropped, and the caller logs the block once
    kBlocked,     // on the block list: dropped silently
  };

  explicit SourceRateLimiter(SourceLimits limits);

  // One message (or connection attempt) from `source` at `now`.
  Verdict admit(const boost::asio::ip::address& source, TimePoint now);
  // Whether `source` is on the block list at `now` (takes no token).
  [[nodiscard]] bool blocked(const boost::asio::ip::address& source, TimePoint now) const;

  [[nodiscard]] bool enabled() const { return limits_.rate > 0; }
  [[nodiscard]] const SourceLimits& limits() const { return limits_; }
  [[nodiscard]] std::size_t tracked() const { return index_.size(); }
  [[nodiscard]] const SourceLimiterCounters& counters() const { return counters_; }

 private:
  using Key = std::array<unsigned char, 16>;
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };
  static constexpr std::uint32_t kNone = UINT32_MAX;
  struct Entry {
    Key key{};
    double tokens = 0;
    TimePoint refilled{};
    TimePoint blocked_until{};    // in the past: not blocked
    std::uint32_t newer = kNone;  // LRU list: towards the most recently seen
    std::uint32_t older = kNone;
  };

  static Key key_of(const boost::asio::ip::address& source);
  std::uint32_t find_or_insert(const Key& key, TimePoint now);
  void unlink(std::uint32_t slot);
  void push_newest(std::uint32_t slot);

  SourceLimits limits_;
  std::vector<Entry> entries_;  // grows to max_sources, then slots are reused
  std::unordered_map<Key, std::uint32_t, KeyHash> index_;
  std::uint32_t newest_ = kNone;
  std::uint32_t oldest_ = kNone;
  SourceLimiterCounters counters_;
};

}  // namespace chorus::sip
