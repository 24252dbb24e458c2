#include "rest-api/api/web_client_config.hpp"

#include <algorithm>

#include "common/ascii.hpp"

namespace chorus::rest {

namespace {

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 §3.2.3: port = *DIGIT; a Host header's port is 1..65535 when present.
bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  int value = 0;
  for (const char c : text) value = value * 10 + (c - '0');
  return value >= 1 && value <= 65535;
}

// A DNS name or IPv4 address: labels of letters, digits and '-' (RFC 1123 §2.1), none empty
// except a trailing root dot, none starting or ending with '-'.
bool is_name_or_ipv4(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty()) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63 || host[i - label] == '-' || host[i - 1] == '-') return false;
      label = 0;
    } else if (is_ascii_alnum(host[i]) || host[i] == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

// The inside of an IP-literal (RFC 3986 §3.2.2) loosely: hex digits, ':' (at least two) and the
// dots of an embedded IPv4 address. Exact parsing is not needed: only these characters pass, and
// the browser already used this literal to reach us.
bool is_ipv6_literal(std::string_view inside) {
  return inside.size() >= 2 && std::ranges::count(inside, ':') >= 2 &&
         std::ranges::all_of(inside, [](char c) { return is_hex_digit(c) || c == ':' || c == '.'; });
}

std::string websocket_url(std::string_view scheme, std::string_view host, std::uint16_t port) {
  return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port);
}

}  // namespace

std::string web_url_host(std::string_view host) {
  if (host.find(':') != std::string_view::npos && !host.starts_with('[')) return "[" + std::string(host) + "]";
  return std::string(host);
}

std::optional<std::string> web_host_of(std::string_view host_header) {
  if (host_header.empty() || host_header.size() > kMaxWebHostLength) return std::nullopt;
  std::string_view host = host_header;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos || !is_ipv6_literal(host.substr(1, close - 1))) return std::nullopt;
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && !(rest.starts_with(':') && is_port(rest.substr(1)))) return std::nullopt;
    return ascii_lowercase(host.substr(0, close + 1));
  }
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    if (!is_port(host.substr(colon + 1))) return std::nullopt;
    host = host.substr(0, colon);
  }
  if (!is_name_or_ipv4(host)) return std::nullopt;
  return ascii_lowercase(host);
}

nlohmann::json client_config_json(const WebClientSettings& settings, std::string_view host) {
  nlohmann::json ws = nullptr;
  nlohmann::json wss = nullptr;
  if (host.empty()) return nlohmann::json{{"sip_domain", nullptr}, {"ws_url", ws}, {"wss_url", wss}};
  if (settings.ws_port) ws = websocket_url("ws", host, *settings.ws_port);
  if (settings.wss_port) wss = websocket_url("wss", host, *settings.wss_port);
  return nlohmann::json{{"sip_domain", host}, {"ws_url", std::move(ws)}, {"wss_url", std::move(wss)}};
}

std::string web_content_security_policy(const WebClientSettings& settings, std::string_view host) {
  std::string connect = "connect-src 'self'";
  if (!host.empty() && !host.starts_with('[')) {  // CSP3 §2.3.1: a host-source has no IPv6 literal form
    if (settings.ws_port) connect += " " + websocket_url("ws", host, *settings.ws_port);
    if (settings.wss_port) connect += " " + websocket_url("wss", host, *settings.wss_port);
  }
  return "default-src 'self'; " + connect + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

}  // namespace chorus::rest
