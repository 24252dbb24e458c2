// The browser page (web/, DESIGN §1): GET `/`, `/app.js` and `/style.css`, public (no token: the
// page asks for one and sends it as a Bearer header on its own /v1 calls).
//
// Files are read from `web_root` at request time, so an edited page shows on reload without a
// restart; each read is bounded by kMaxWebAssetBytes. A missing file is 404 problem+json, one
// over the bound (or unreadable) 500. Only these three names are served — never a path taken from
// the request — so nothing else under `web_root` (or outside it) can be reached.
//
// Every answer carries `Cache-Control: no-cache` (revalidate, RFC 9111 §5.2.2.4), `X-Content-Type-
// Options: nosniff` and a Content-Security-Policy whose `default-src 'self'` forbids inline script
// and style and every other origin (W3C CSP Level 3 §6.1.1); `frame-ancestors 'none'` keeps the
// page out of frames (it holds a token), as `default-src` does not cover framing. `Referrer-Policy:
// no-referrer` keeps the page's address out of any request it causes.
//
// Threading: add_web_routes() before serving; the handlers run where Router::handle runs (the
// control loop): a read is one small local file.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

#include "rest-api/router.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxWebAssetBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::string_view kWebContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct WebAsset {
  std::string_view route;         // "/app.js"
  std::string_view file;          // "app.js", relative to the web root
  std::string_view content_type;  // RFC 9239 §6 for JavaScript
};

inline constexpr WebAsset kWebAssets[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

enum class WebAssetError { kMissing, kTooLarge, kUnreadable };

// The whole file, at most `limit` bytes; kMissing when there is no regular file at `path`.
[[nodiscard]] std::expected<std::string, WebAssetError> read_web_asset(const std::filesystem::path& path,
                                                                       std::size_t limit = kMaxWebAssetBytes);

void add_web_routes(Router& router, std::filesystem::path web_root);

}  // namespace chorus::rest
