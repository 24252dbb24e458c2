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
// Threading: add_web_routes() before serving; the handlers run where Router::handle runs (the
// control loop): a read is one small local file.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

#include "rest-api/api/web_client_config.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxWebAssetBytes = std::size_t{1} << 20;  // 1 MiB
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

struct WebRoutesConfig {
  std::filesystem::path web_root;
  WebClientSettings client;
};

enum class WebAssetError { kMissing, kTooLarge, kUnreadable };

// The whole file, at most `limit` bytes; kMissing when there is no regular file at `path`.
[[nodiscard]] std::expected<std::string, WebAssetError> read_web_asset(const std::filesystem::path& path,
                                                                       std::size_t limit = kMaxWebAssetBytes);

void add_web_routes(Router& router, WebRoutesConfig config);

}  // namespace chorus::rest
