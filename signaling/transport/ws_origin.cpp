#include "signaling/transport/ws_origin.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/ascii.hpp"

namespace chorus::sip {

namespace {

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool is_scheme(std::string_view text) {
  if (text.empty() || std::isalpha(static_cast<unsigned char>(text.front())) == 0) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
  });
}

// RFC 3986 §3.2.2, narrowed to what a browser serialises: a bracketed IPv6 literal, or a name or
// IPv4 address of unreserved characters (IDNs arrive as punycode, RFC 6454 §6.2).
bool is_host(std::string_view text) {
  if (text.empty()) return false;
  if (text.front() == '[') {
    if (text.size() < 4 || text.back() != ']') return false;
    const std::string_view inside = text.substr(1, text.size() - 2);
    return std::all_of(inside.begin(), inside.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

std::optional<std::uint16_t> default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return std::nullopt;
}

}  // namespace

std::string WsOrigin::to_string() const {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict, bug 105651) on `a + "://" + b`.
  std::string out = scheme;
  out.append("://").append(host);
  if (port && port != default_port(scheme)) out.append(":").append(std::to_string(*port));
  return out;
}

std::expected<WsOrigin, std::string> parse_ws_origin(std::string_view text) {
  const std::size_t separator = text.find("://");
  if (separator == std::string_view::npos) return std::unexpected("not scheme://host[:port]");
  WsOrigin origin;
  if (!is_scheme(text.substr(0, separator))) return std::unexpected("the scheme is not a URI scheme");
  origin.scheme = ascii_lowercase(text.substr(0, separator));
  std::string_view authority = text.substr(separator + 3);
  if (authority.find_first_of("/?#") != std::string_view::npos) {
    return std::unexpected("an origin has no path, query or fragment");
  }
  // The port follows the last ':' that is outside an IPv6 literal's brackets.
  std::string_view host = authority;
  std::string_view port_text;
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return std::unexpected("the port is not a number from 1 to 65535");
    }
    origin.port = static_cast<std::uint16_t>(value);
  } else {
    origin.port = default_port(origin.scheme);
  }
  if (!is_host(host)) return std::unexpected("the host is not a name or an address literal");
  origin.host = ascii_lowercase(host);
  return origin;
}

std::expected<WsOriginPolicy, std::string> WsOriginPolicy::make(std::span<const std::string> allowed) {
  WsOriginPolicy policy;
  for (const std::string& entry : allowed) {
    if (entry == kAnyOrigin) {
      policy.any_ = true;
      continue;
    }
    auto origin = parse_ws_origin(entry);
    if (!origin) return std::unexpected("allowed WebSocket origin \"" + entry + "\": " + origin.error());
    policy.allowed_.push_back(std::move(*origin));
  }
  return policy;
}

bool WsOriginPolicy::allows(std::string_view origin_header) const {
  if (any_) return true;
  auto origin = parse_ws_origin(origin_header);
  return origin && std::find(allowed_.begin(), allowed_.end(), *origin) != allowed_.end();
}

std::vector<std::string> own_http_origins(std::string_view public_host, std::uint16_t http_port) {
  std::string host(public_host);
  if (host.find(':') != std::string::npos && !host.starts_with("[")) host = "[" + host + "]";
  const std::string port = std::to_string(http_port);
  std::vector<std::string> origins;
  for (const char* scheme : {"http://", "https://"}) {
    for (const std::string& name : {host, std::string("127.0.0.1"), std::string("localhost")}) {
      std::string origin(scheme);
      origin.append(name).append(":").append(port);
      if (std::find(origins.begin(), origins.end(), origin) == origins.end()) origins.push_back(std::move(origin));
    }
  }
  return origins;
}

}  // namespace chorus::sip
