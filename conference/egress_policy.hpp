// Egress policy (issue 12): where the server itself may reach out to. A dial-out (REST) makes
// chorusd send an INVITE — and then RTP — to an address an API caller names, and a webhook makes
// it open a TCP connection to one: both are server-side request forgery (SSRF) when the target is
// the server's own services (loopback), its segment (link-local, RFC 3927 / RFC 4291 §2.5.6) or
// the operator's private network (RFC 1918, RFC 4193 unique-local, RFC 6598 shared space).
//
// - classify_address names the kind of an address (IPv4-mapped IPv6 is judged as its IPv4).
// - DialOutPolicy: a dial-out target must be listed in `dial_out_allow` (address ranges, host names,
//   "*.domain" wildcards). Loopback, link-local, multicast, unspecified, broadcast and reserved
//   addresses are refused even then, unless a listed range lies wholly inside that special block
//   (an explicit "127.0.0.1" for tests; "0.0.0.0/0" does not open loopback). The check runs on the
//   URI's host before DNS and again on every address a name resolves to (a listed name that
//   resolves to 127.0.0.1 is refused).
// - WebhookTargetPolicy: a webhook's address must be public unless `webhook_allow_private` is set or
//   a range of `webhook_allow_ranges` holds it; checked at registration and again before each
//   delivery attempt (the setting may have changed, a stored URL may predate the check).
// Threading: pure values and functions; safe on any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/transport/address_range.hpp"

namespace chorus::conference {

enum class AddressKind : std::uint8_t {
  kPublic,
  kLoopback,     // 127/8, ::1
  kLinkLocal,    // 169.254/16, fe80::/10
  kMulticast,    // 224/4, ff00::/8
  kUnspecified,  // 0/8 ("this network", RFC 1122 §3.2.1.3), ::
  kBroadcast,    // 255.255.255.255
  kReserved,     // 240/4 (RFC 1112 §4)
  kPrivate,      // RFC 1918: 10/8, 172.16/12, 192.168/16
  kShared,       // RFC 6598 carrier-grade NAT: 100.64/10
  kUniqueLocal,  // RFC 4193: fc00::/7
};

[[nodiscard]] AddressKind classify_address(const boost::asio::ip::address& address);
[[nodiscard]] std::string_view address_kind_name(AddressKind kind);  // "loopback", "private (RFC 1918)", ...

// Kinds a dial-out never reaches unless a listed range lies inside the kind's block.
[[nodiscard]] bool is_special_purpose(AddressKind kind);

// `dial_out_allow`, parsed: each entry an address or CIDR range ("192.0.2.10", "198.51.100.0/24",
// "2001:db8::/32"), a host name or SIP domain matched exactly ("pbx.example.com"), or "*.example.com"
// for every name under example.com (not example.com itself). Names are compared case-insensitively,
// without a trailing dot.
struct DialOutAllowList {
  std::vector<sip::AddressRange> ranges;
  std::vector<std::string> hosts;    // lower case
  std::vector<std::string> domains;  // lower case, without the "*."

  [[nodiscard]] bool empty() const { return ranges.empty() && hosts.empty() && domains.empty(); }
};

// The error names the first entry that is none of the forms above.
std::expected<DialOutAllowList, std::string> parse_dial_out_allow(std::span<const std::string> entries);

// A host name as DNS and SIP write it (RFC 1123 §2.1 labels, RFC 3261 §25.1 hostname): letters,
// digits, '-' and '.', labels 1..63 bytes, 253 in all; a trailing dot is allowed.
[[nodiscard]] bool is_host_name(std::string_view text);

class DialOutPolicy {
 public:
  DialOutPolicy() = default;
  explicit DialOutPolicy(DialOutAllowList allow) : allow_(std::move(allow)) {}

  // The URI's host, before any DNS lookup: why it may not be dialled, or nullopt when it may (an
  // IP literal in a listed range, or a listed name — its addresses are then checked on their own).
  [[nodiscard]] std::optional<std::string> refuse_host(std::string_view host) const;
  // An address the target's name resolved to: why it may not be dialled (a special-purpose kind
  // not listed explicitly), or nullopt.
  [[nodiscard]] std::optional<std::string> refuse_address(const boost::asio::ip::address& address) const;

  [[nodiscard]] const DialOutAllowList& allow() const { return allow_; }

 private:
  DialOutAllowList allow_;
};

struct WebhookTargetPolicy {
  bool allow_private = false;                   // webhook_allow_private: every kind but those below
  std::vector<sip::AddressRange> allow_ranges;  // webhook_allow_ranges: these whatever their kind
  // Why a webhook may not be delivered to `address`, or nullopt. Multicast, broadcast, reserved and
  // unspecified addresses (0.0.0.0 connects to the local host on Linux) are refused even with
  // allow_private, unless a range holds them.
  [[nodiscard]] std::optional<std::string> refuse(const boost::asio::ip::address& address) const;
};

}  // namespace chorus::conference
