#include "rest-api/api/web_routes.hpp"

#include <fstream>
#include <system_error>
#include <utility>

#include "common/log.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

std::expected<std::string, WebAssetError> read_web_asset(const std::filesystem::path& path, std::size_t limit) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::unexpected(WebAssetError::kMissing);
  const auto size = std::filesystem::file_size(path, error);
  if (error) return std::unexpected(WebAssetError::kUnreadable);
  if (size > limit) return std::unexpected(WebAssetError::kTooLarge);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(WebAssetError::kUnreadable);
  // Read one byte past the limit: the file may have grown since file_size().
  std::string content(limit + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return std::unexpected(WebAssetError::kUnreadable);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got > limit) return std::unexpected(WebAssetError::kTooLarge);
  content.resize(got);
  return content;
}

namespace {

HttpResponse serve(const std::filesystem::path& web_root, const WebAsset& asset) {
  const auto path = web_root / asset.file;
  auto content = read_web_asset(path);
  if (!content) {
    switch (content.error()) {
      case WebAssetError::kMissing:
        return not_found("the web page's " + std::string(asset.file) + " is not installed");
      case WebAssetError::kTooLarge:
        CHORUS_LOG(kError, "rest", "web asset over the size limit", {"path", path.string()});
        return internal_error("the web page's " + std::string(asset.file) + " is too large to serve");
      case WebAssetError::kUnreadable:
        CHORUS_LOG(kError, "rest", "web asset unreadable", {"path", path.string()});
        return internal_error("the web page's " + std::string(asset.file) + " could not be read");
    }
  }
  auto response = HttpResponse::text(http::status::ok, std::move(*content), asset.content_type);
  response.message.set(http::field::cache_control, "no-cache");
  // Beast 1.74's field enum predates these three; they go by name.
  response.message.set("X-Content-Type-Options", "nosniff");
  response.message.set("Content-Security-Policy", beast_view(kWebContentSecurityPolicy));
  response.message.set("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace

void add_web_routes(Router& router, std::filesystem::path web_root) {
  for (const auto& asset : kWebAssets) {
    RouteOptions options{.summary = "the browser page: " + std::string(asset.file), .public_route = true};
    router.add(http::verb::get, asset.route, std::move(options),
               [web_root, &asset](const RequestContext&) { return serve(web_root, asset); });
  }
}

}  // namespace chorus::rest
