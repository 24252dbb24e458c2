// What the REST server keeps per source to hold against exhaustion (issue 12, "REST"): the count of
// open connections per remote address behind `http_max_connections_per_ip`, and a gate that lets a
// security log line through at most once per interval, so that a flood of refusals or timeouts
// makes one line a second, not one per connection (DESIGN §5: count what is dropped, log it
// rate-limited).
//
// Threading: none of it is thread-safe; the REST server uses both on its own thread only.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace chorus::rest {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack listener reports for an IPv4
// peer, RFC 4291 §2.5.5.2) as the IPv4 address it is, so one peer has one count however it came.
[[nodiscard]] boost::asio::ip::address canonical_address(const boost::asio::ip::address& address);

// Open connections per remote address. An address with no connection has no entry, so the map
// holds at most one entry per open connection (bounded by the server's max_connections).
class PerAddressCounter {
 public:
  // `limit`: connections one address may hold at once; 0: no limit (still counted).
  explicit PerAddressCounter(std::size_t limit) : limit_(limit) {}

  // Counts one more connection from `address`; false (and nothing counted) when it already holds
  // `limit`.
  [[nodiscard]] bool try_acquire(const boost::asio::ip::address& address);
  // Ends a connection try_acquire() counted. Releasing an address with no count is ignored.
  void release(const boost::asio::ip::address& address);

  [[nodiscard]] std::size_t count(const boost::asio::ip::address& address) const;
  [[nodiscard]] std::size_t addresses() const { return counts_.size(); }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::map<boost::asio::ip::address, std::size_t> counts_;
};

// Lets one event through per `interval`; counts the ones it held back meanwhile.
class LogGate {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  LogGate() = default;  // one line a second (not explicit: SessionHub is an aggregate)
  explicit LogGate(std::chrono::milliseconds interval) : interval_(interval) {}

  // nullopt: stay quiet (counted). Otherwise log now; the value is how many were held back since
  // the last line.
  [[nodiscard]] std::optional<std::uint64_t> pass(TimePoint now);

 private:
  std::chrono::milliseconds interval_{std::chrono::seconds(1)};
  std::optional<TimePoint> last_;
  std::uint64_t held_back_ = 0;
};

}  // namespace chorus::rest
