// AddressRange: an IPv4 or IPv6 network in CIDR notation (RFC 4632 §3.1, RFC 4291 §2.3), for allow
// lists such as `sip_trusted_sources`. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack
// socket reports for an IPv4 peer) match the IPv4 ranges they map to.
// Pure values: no state; safe to copy and share.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::sip {

struct AddressRange {
  boost::asio::ip::address network;  // host bits cleared
  unsigned prefix_length = 0;        // 0..32 for IPv4, 0..128 for IPv6

  [[nodiscard]] bool contains(const boost::asio::ip::address& address) const;
  [[nodiscard]] std::string to_string() const;  // "10.0.0.0/8", "2001:db8::/32"
  bool operator==(const AddressRange&) const = default;
};

// "a.b.c.d/n", "x::y/n", or a bare address (a /32 or /128). Host bits set below the prefix are an
// error (a typo such as 10.1.2.3/8 is more likely than an intent), as are names and empty text.
std::expected<AddressRange, std::string> parse_address_range(std::string_view text);

// A comma-separated list of ranges (whitespace around items ignored; empty text: an empty list).
// The error names the first item that is not a range.
std::expected<std::vector<AddressRange>, std::string> parse_address_ranges(std::string_view text);

[[nodiscard]] bool any_contains(std::span<const AddressRange> ranges, const boost::asio::ip::address& address);

}  // namespace chorus::sip
