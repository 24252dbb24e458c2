// libFuzzer target: the SIP per-source limits' inputs — CIDR lists (`sip_trusted_sources`,
// signaling/transport/address_range.hpp) and a stream of (source, time) events through
// SourceRateLimiter with a tiny table, so eviction, blocking and unblocking all happen.
//
// Input: text up to the first '\n' is an address-range list; every 6 bytes after it are one event:
// byte 0 picks IPv4 (even) or IPv6 (odd), bytes 1–3 the address's low bits (a few hundred
// sources, so they repeat), bytes 4–5 the milliseconds since the previous event.
// Invariants: a parsed range prints and reparses to itself and contains its own network; the table
// never holds more than max_sources; trusted sources are never blocked; a source reported
// kBlockedNow is blocked at that instant and its next message is kBlocked.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signaling/transport/address_range.hpp"
#include "signaling/transport/source_rate_limiter.hpp"

namespace {

namespace ip = boost::asio::ip;
using chorus::sip::SourceRateLimiter;

void require(bool condition) {
  if (!condition) std::abort();
}

ip::address event_address(const std::uint8_t* e) {
  if (e[0] % 2 == 0) return ip::address_v4(0x0A000000U | (std::uint32_t{e[1]} << 8) | (e[2] & 0x03U));
  ip::address_v6::bytes_type bytes{};
  bytes[0] = 0x20;
  bytes[1] = 0x01;
  bytes[2] = 0x0d;
  bytes[3] = 0xb8;
  bytes[14] = e[1];
  bytes[15] = e[3] & 0x07U;
  if (e[0] % 4 == 1) {  // sometimes the IPv4-mapped form of an IPv4 source
    bytes = {};
    bytes[10] = bytes[11] = 0xff;
    bytes[12] = 10;
    bytes[14] = e[1];
    bytes[15] = e[2] & 0x03U;
  }
  return ip::address_v6(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = all.find('\n');
  const std::string_view list = all.substr(0, newline);

  chorus::sip::SourceLimits limits;
  limits.rate = 2;
  limits.burst = 3;
  limits.block_time = std::chrono::seconds(1);
  limits.max_sources = 8;
  if (auto ranges = chorus::sip::parse_address_ranges(list)) {
    for (const auto& range : *ranges) {
      auto again = chorus::sip::parse_address_range(range.to_string());
      require(again.has_value() && *again == range);
      require(range.contains(range.network));
    }
    limits.trusted = std::move(*ranges);
  }
  if (newline == std::string_view::npos) return 0;

  SourceRateLimiter limiter(limits);
  chorus::TimePoint now{};
  for (std::size_t at = newline + 1; at + 6 <= size; at += 6) {
    const std::uint8_t* e = data + at;
    now += std::chrono::milliseconds((std::uint32_t{e[4]} << 8) | e[5]);
    const ip::address source = event_address(e);
    const auto verdict = limiter.admit(source, now);
    require(limiter.tracked() <= limits.max_sources);
    const bool trusted = chorus::sip::any_contains(limits.trusted, source);
    require(trusted == (verdict == SourceRateLimiter::Verdict::kTrusted));
    if (verdict == SourceRateLimiter::Verdict::kBlockedNow) {
      require(limiter.blocked(source, now));
      require(limiter.admit(source, now) == SourceRateLimiter::Verdict::kBlocked);
    }
  }
  return 0;
}
