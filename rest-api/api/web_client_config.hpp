// What the page needs to join rooms (rest-api/api/web_routes.hpp serves it): the answer of
// `/client-config.json` and the Content-Security-Policy that lets the page open exactly those
// WebSocket origins, both for the host the browser used. Pure functions, kept apart from the routes
// so fuzz/web_host_fuzz.cpp can drive the Host parsing (untrusted bytes) without an HTTP stack.
//
// The host in the WebSocket URLs is the one the browser used (the request's Host, RFC 9110 §7.2),
// so a page loaded as http://conf.example.org:8080/ connects to ws://conf.example.org:<ws port>
// and chorusd's Origin check (the server's own page) lets it in. A missing or malformed Host
// falls back to WebClientSettings::default_host. An IPv6 literal cannot be written in a CSP
// host-source (CSP3 §2.3.1 grammar), so there connect-src stays 'self' and the page explains
// that joining needs a host name or IPv4 address.
//
// Threading: pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::rest {

inline constexpr std::size_t kMaxWebHostLength = 255;  // RFC 1035 §2.3.4 names, with room

// What the page's join flow needs from chorusd's settings.
struct WebClientSettings {
  std::optional<std::uint16_t> ws_port;   // SIP over WebSocket (RFC 7118); empty: not served
  std::optional<std::uint16_t> wss_port;  // SIP over secure WebSocket; empty: not served
  std::string default_host;               // when the request has no usable Host: the public address
};

// The host part of a Host header value (RFC 9110 §7.2: uri-host [":" port]) in the form a URL
// carries it — a DNS name or IPv4 address in lower case, or an IPv6 literal in brackets — or
// nullopt when the value is not one (empty, over kMaxWebHostLength, a bad port, other characters).
// Only these characters reach the JSON and the CSP header built from it.
[[nodiscard]] std::optional<std::string> web_host_of(std::string_view host_header);

// `host` as a URL carries it: an IPv6 address ("::1") gets brackets ("[::1]"), others stay as
// they are.
[[nodiscard]] std::string web_url_host(std::string_view host);

// `/client-config.json` for a page loaded through `host` (as web_host_of gives it):
// {"sip_domain": host, "ws_url": "ws://host:port" or null, "wss_url": "wss://host:port" or null};
// every member null when there is no host at all (no Host and no default_host).
[[nodiscard]] nlohmann::json client_config_json(const WebClientSettings& settings, std::string_view host);

// The Content-Security-Policy for a page loaded through `host`: default-src 'self' plus connect-src
// with the WebSocket origins client_config_json names (none for an IPv6 literal, see above).
[[nodiscard]] std::string web_content_security_policy(const WebClientSettings& settings, std::string_view host);

}  // namespace chorus::rest
