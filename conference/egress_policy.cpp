#include "conference/egress_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/ascii.hpp"

namespace chorus::conference {
namespace {

namespace ip = boost::asio::ip;

bool in_v4(std::uint32_t address, std::uint32_t network, unsigned prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

AddressKind classify_v4(const ip::address_v4& v4) {
  const std::uint32_t a = v4.to_uint();
  if (in_v4(a, 0x7F000000, 8)) return AddressKind::kLoopback;
  if (in_v4(a, 0x00000000, 8)) return AddressKind::kUnspecified;
  if (in_v4(a, 0xA9FE0000, 16)) return AddressKind::kLinkLocal;
  if (in_v4(a, 0xE0000000, 4)) return AddressKind::kMulticast;
  if (a == 0xFFFFFFFF) return AddressKind::kBroadcast;
  if (in_v4(a, 0xF0000000, 4)) return AddressKind::kReserved;
  if (in_v4(a, 0x0A000000, 8) || in_v4(a, 0xAC100000, 12) || in_v4(a, 0xC0A80000, 16)) return AddressKind::kPrivate;
  if (in_v4(a, 0x64400000, 10)) return AddressKind::kShared;
  return AddressKind::kPublic;
}

AddressKind classify_v6(const ip::address_v6& v6) {
  if (v6.is_v4_mapped()) return classify_v4(ip::make_address_v4(ip::v4_mapped, v6));
  if (v6.is_loopback()) return AddressKind::kLoopback;
  if (v6.is_unspecified()) return AddressKind::kUnspecified;
  const auto bytes = v6.to_bytes();
  if (bytes[0] == 0xFF) return AddressKind::kMulticast;                               // RFC 4291 §2.7
  if (bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80) return AddressKind::kLinkLocal;  // fe80::/10
  if ((bytes[0] & 0xFE) == 0xFC) return AddressKind::kUniqueLocal;                    // RFC 4193 §3.1
  return AddressKind::kPublic;
}

// The highest address of a range: its host bits all set.
ip::address last_address(const sip::AddressRange& range) {
  if (range.network.is_v4()) {
    const unsigned host_bits = 32 - range.prefix_length;
    const std::uint32_t hosts = host_bits == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << host_bits) - 1;
    return ip::address_v4(range.network.to_v4().to_uint() | hosts);
  }
  auto bytes = range.network.to_v6().to_bytes();
  for (unsigned bit = range.prefix_length; bit < 128; ++bit)
    bytes[bit / 8] = static_cast<unsigned char>(bytes[bit / 8] | (0x80U >> (bit % 8)));
  return ip::address_v6(bytes);
}

// True when some listed range lies wholly inside the special block `kind` of `address`: the
// operator named that block on purpose, not as part of a wider range.
bool listed_explicitly(std::span<const sip::AddressRange> ranges, const ip::address& address, AddressKind kind) {
  return std::ranges::any_of(ranges, [&](const sip::AddressRange& range) {
    return range.contains(address) && classify_address(range.network) == kind &&
           classify_address(last_address(range)) == kind;
  });
}

// A host name as the policy compares it: case-folded, without the root's trailing dot (RFC 1034 §3.1).
std::string host_name_key(std::string_view text) {
  std::string out = ascii_lowercase(text);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::optional<ip::address> address_literal(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return address;
}

}  // namespace

AddressKind classify_address(const ip::address& address) {
  return address.is_v4() ? classify_v4(address.to_v4()) : classify_v6(address.to_v6());
}

std::string_view address_kind_name(AddressKind kind) {
  switch (kind) {
    case AddressKind::kPublic:
      return "public";
    case AddressKind::kLoopback:
      return "loopback";
    case AddressKind::kLinkLocal:
      return "link-local";
    case AddressKind::kMulticast:
      return "multicast";
    case AddressKind::kUnspecified:
      return "unspecified";
    case AddressKind::kBroadcast:
      return "broadcast";
    case AddressKind::kReserved:
      return "reserved";
    case AddressKind::kPrivate:
      return "private (RFC 1918)";
    case AddressKind::kShared:
      return "shared CGNAT (RFC 6598)";
    case AddressKind::kUniqueLocal:
      return "unique-local (RFC 4193)";
  }
  return "unknown";
}

bool is_special_purpose(AddressKind kind) {
  switch (kind) {
    case AddressKind::kLoopback:
    case AddressKind::kLinkLocal:
    case AddressKind::kMulticast:
    case AddressKind::kUnspecified:
    case AddressKind::kBroadcast:
    case AddressKind::kReserved:
      return true;
    default:
      return false;
  }
}

bool is_host_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      // RFC 1123 §2.1: a label is 1..63 bytes and neither starts nor ends with '-'.
      if (label == 0 || label > 63 || text[i - 1] == '-' || text[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '-') return false;
    ++label;
  }
  return true;
}

std::expected<DialOutAllowList, std::string> parse_dial_out_allow(std::span<const std::string> entries) {
  DialOutAllowList out;
  for (const std::string& raw : entries) {
    const std::string_view entry = trim(raw);
    if (entry.empty()) continue;
    if (entry.starts_with("*.")) {
      if (!is_host_name(entry.substr(2)) || address_literal(entry.substr(2)))
        return std::unexpected("\"" + std::string(entry) + "\": a wildcard is *. followed by a domain name");
      out.domains.push_back(host_name_key(entry.substr(2)));
      continue;
    }
    const bool looks_numeric = entry.find_first_of(":/") != std::string_view::npos ||
                               std::ranges::all_of(entry, [](char c) { return c == '.' || std::isdigit(c); });
    if (looks_numeric) {
      auto range = sip::parse_address_range(entry);
      if (!range) return std::unexpected(range.error());
      out.ranges.push_back(*range);
      continue;
    }
    if (!is_host_name(entry))
      return std::unexpected("\"" + std::string(entry) +
                             "\": not an address, CIDR range, host name or *.domain wildcard");
    out.hosts.push_back(host_name_key(entry));
  }
  return out;
}

std::optional<std::string> DialOutPolicy::refuse_host(std::string_view host) const {
  if (allow_.empty()) return "dial-out is not enabled on this server (dial_out_allow is empty)";
  if (const auto literal = address_literal(host)) {
    if (auto refused = refuse_address(*literal)) return refused;
    if (!sip::any_contains(allow_.ranges, *literal)) return literal->to_string() + " is not in dial_out_allow";
    return std::nullopt;
  }
  if (!is_host_name(host)) return "\"" + std::string(host) + "\" is not a host name";
  const std::string name = host_name_key(host);
  if (std::ranges::find(allow_.hosts, name) != allow_.hosts.end()) return std::nullopt;
  for (const std::string& domain : allow_.domains)
    if (name.size() > domain.size() + 1 && name.ends_with(domain) && name[name.size() - domain.size() - 1] == '.')
      return std::nullopt;
  return "host " + name + " is not in dial_out_allow";
}

std::optional<std::string> DialOutPolicy::refuse_address(const ip::address& address) const {
  const AddressKind kind = classify_address(address);
  if (is_special_purpose(kind) && !listed_explicitly(allow_.ranges, address, kind))
    return address.to_string() + " is " + std::string(address_kind_name(kind)) +
           " (refused unless dial_out_allow lists it)";
  return std::nullopt;
}

std::optional<std::string> WebhookTargetPolicy::refuse(const ip::address& address) const {
  if (sip::any_contains(allow_ranges, address)) return std::nullopt;
  const AddressKind kind = classify_address(address);
  if (kind == AddressKind::kPublic) return std::nullopt;
  const bool never = kind == AddressKind::kMulticast || kind == AddressKind::kBroadcast ||
                     kind == AddressKind::kReserved || kind == AddressKind::kUnspecified;
  if (allow_private && !never) return std::nullopt;
  return address.to_string() + " is " + std::string(address_kind_name(kind)) +
         (never ? " (refused unless webhook_allow_ranges lists it)"
                : " (refused unless webhook_allow_private is set or webhook_allow_ranges lists it)");
}

}  // namespace chorus::conference
