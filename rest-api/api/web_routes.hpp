// The browser page (web/, DESIGN §1): GET `/`, its scripts and style sheet, JsSIP at
// `/vendor/jssip.min.js`, and `/client-config.json` (where the page's SIP over WebSocket goes). All
// public: the scheduling part asks for a token and sends it as a Bearer header on its own /v1
// calls, and joining a room needs none — the SIP call itself is the admission, as for a phone.
//
// Files are read from `web_root` at request time, so an edited page shows on reload without a
// restart; each read is bounded by kMaxWebAssetBytes. A missing file is 404 problem+json (for JsSIP:
// `npm ci --prefix web` was not run, and the page then says joining is unavailable), one over the
// bound (or unreadable) 500. Only the names in kWebAssets and kJsSipAsset are served — never a path
// taken from the request — so nothing else under `web_root` (or outside it) can be reached.
//
// Every answer carries `Cache-Control: no-cache` (revalidate, RFC 9111 §5.2.2.4), `X-Content-Type-
// Options: nosniff` and a Content-Security-Policy whose `default-src 'self'` forbids inline script
// and style and every other origin (W3C CSP Level 3 §6.1.1); `connect-src` adds exactly the
// WebSocket origins `/client-config.json` names (CSP3 'self' would not cover another port);
// `frame-ancestors 'none'` keeps the page out of frames (it holds a token), as `default-src` does
// not cover framing. `Referrer-Policy: no-referrer` keeps the page's address out of any request it
// causes.
//
// The host in the WebSocket URLs is the one the browser used (the request's Host, RFC 9110 §7.2),
// so a page loaded as http://conf.example.org:8080/ connects to ws://conf.example.org:<ws port>
// and chorusd's Origin check (the server's own page) lets it in. A missing or malformed Host
// falls back to WebClientSettings::default_host. An IPv6 literal cannot be written in a CSP
// host-source (CSP3 §2.3.1 grammar), so there connect-src stays 'self' and the page explains
// that joining needs a host name or IPv4 address.
//
// Threading: add_web_routes() before serving; the handlers run where Router::handle runs (the
// control loop): a read is one small local file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "rest-api/router.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxWebAssetBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t kMaxWebHostLength = 255;                   // RFC 1035 §2.3.4 names, with room
inline constexpr std::string_view kClientConfigRoute = "/client-config.json";

struct WebAsset {
  std::string_view route;         // "/app.js"
  std::string_view file;          // "app.js", relative to the web root
  std::string_view content_type;  // RFC 9239 §6 for JavaScript
};

inline constexpr WebAsset kWebAssets[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/call.js", "call.js", "text/javascript; charset=utf-8"},
    {"/join.js", "join.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

// JsSIP's browser bundle, installed by `npm ci --prefix web` (web/package.json pins the version
// that still ships dist/), never committed.
inline constexpr WebAsset kJsSipAsset = {"/vendor/jssip.min.js", "node_modules/jssip/dist/jssip.min.js",
                                         "text/javascript; charset=utf-8"};

// What the page's join flow needs from chorusd's settings.
struct WebClientSettings {
  std::optional<std::uint16_t> ws_port;   // SIP over WebSocket (RFC 7118); empty: not served
  std::optional<std::uint16_t> wss_port;  // SIP over secure WebSocket; empty: not served
  std::string default_host;               // when the request has no usable Host: the public address
};

struct WebRoutesConfig {
  std::filesystem::path web_root;
  WebClientSettings client;
};

enum class WebAssetError { kMissing, kTooLarge, kUnreadable };

// The whole file, at most `limit` bytes; kMissing when there is no regular file at `path`.
[[nodiscard]] std::expected<std::string, WebAssetError> read_web_asset(const std::filesystem::path& path,
                                                                       std::size_t limit = kMaxWebAssetBytes);

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

void add_web_routes(Router& router, WebRoutesConfig config);

}  // namespace chorus::rest
