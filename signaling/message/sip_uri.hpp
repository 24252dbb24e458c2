// SIP and SIPS URIs (RFC 3261 §19.1, §25.1) with IPv6 references (RFC 5118), plus a fallback for
// absolute URIs of other schemes (tel:, http:, ...) that may appear in headers (RFC 4475 §3.3.4).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::sip {

struct UriParam {
  std::string name;   // lower-cased: URI parameter names compare case-insensitively (§19.1.4)
  std::string value;  // empty for a flag parameter such as `lr`
  bool has_value = false;
};

class SipUri {
 public:
  // "sip", "sips", or another scheme (then only `opaque_` is meaningful).
  std::string scheme;
  std::string user;      // %-decoded user part, may be empty
  std::string password;  // %-decoded, rarely used
  std::string host;      // IPv6 without brackets; hostnames lower-cased
  std::optional<std::uint16_t> port;
  std::vector<UriParam> params;
  std::vector<std::pair<std::string, std::string>> headers;  // ?name=value after the params
  std::string opaque;  // whole text after "scheme:" when the scheme is not sip/sips

  [[nodiscard]] bool is_sip() const { return scheme == "sip" || scheme == "sips"; }
  [[nodiscard]] bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  [[nodiscard]] const UriParam* param(std::string_view name) const;
  [[nodiscard]] std::optional<std::string_view> param_value(std::string_view name) const;
  [[nodiscard]] bool has_param(std::string_view name) const { return param(name) != nullptr; }

  // Text form with user-part escapes re-applied; IPv6 hosts get their brackets back.
  [[nodiscard]] std::string to_string() const;
};

// Parses `text` as a URI. sip/sips are parsed fully; other schemes need only `scheme ":" 1*char`.
std::expected<SipUri, std::string> parse_uri(std::string_view text);

// Host with brackets if it is an IPv6 address, for use in Via sent-by and URIs.
std::string bracket_host(std::string_view host);

}  // namespace chorus::sip
