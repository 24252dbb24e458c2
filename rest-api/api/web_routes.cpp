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

// The host the browser used, else the configured one.
std::string host_for(const RequestContext& context, const WebClientSettings& settings) {
  if (auto host = web_host_of(context.header(http::field::host))) return std::move(*host);
  return settings.default_host;  // add_web_routes put it in URL form
}

HttpResponse with_page_headers(HttpResponse response, const std::string& policy) {
  response.message.set(http::field::cache_control, "no-cache");
  // Beast 1.74's field enum predates these three; they go by name.
  response.message.set("X-Content-Type-Options", "nosniff");
  response.message.set("Content-Security-Policy", beast_view(policy));
  response.message.set("Referrer-Policy", "no-referrer");
  return response;
}

HttpResponse serve(const WebRoutesConfig& config, const WebAsset& asset, const RequestContext& context) {
  const auto path = config.web_root / asset.file;
  auto content = read_web_asset(path);
  if (!content) {
    switch (content.error()) {
      case WebAssetError::kMissing:
        if (asset.route == kJsSipAsset.route) return not_found("JsSIP is not installed (run `npm ci --prefix web`)");
        return not_found("the web page's " + std::string(asset.file) + " is not installed");
      case WebAssetError::kTooLarge:
        CHORUS_LOG(kError, "rest", "web asset over the size limit", {"path", path.string()});
        return internal_error("the web page's " + std::string(asset.file) + " is too large to serve");
      case WebAssetError::kUnreadable:
        CHORUS_LOG(kError, "rest", "web asset unreadable", {"path", path.string()});
        return internal_error("the web page's " + std::string(asset.file) + " could not be read");
    }
  }
  const auto policy = web_content_security_policy(config.client, host_for(context, config.client));
  return with_page_headers(HttpResponse::text(http::status::ok, std::move(*content), asset.content_type), policy);
}

HttpResponse serve_client_config(const WebRoutesConfig& config, const RequestContext& context) {
  const auto host = host_for(context, config.client);
  return with_page_headers(HttpResponse::json(http::status::ok, client_config_json(config.client, host)),
                           web_content_security_policy(config.client, host));
}

}  // namespace

void add_web_routes(Router& router, WebRoutesConfig config) {
  config.client.default_host = web_url_host(config.client.default_host);
  // Each handler keeps its own copy of the (small) settings: no state is shared between them.
  for (const auto& asset : kWebAssets) {
    RouteOptions options{.summary = "the browser page: " + std::string(asset.file), .public_route = true};
    router.add(http::verb::get, asset.route, std::move(options),
               [config, &asset](const RequestContext& context) { return serve(config, asset, context); });
  }
  router.add(http::verb::get, kJsSipAsset.route,
             RouteOptions{.summary = "the browser page: JsSIP (SIP over WebSocket)", .public_route = true},
             [config](const RequestContext& context) { return serve(config, kJsSipAsset, context); });
  router.add(
      http::verb::get, kClientConfigRoute,
      RouteOptions{.summary = "the browser page: where to join rooms (SIP over WebSocket)", .public_route = true},
      [config](const RequestContext& context) { return serve_client_config(config, context); });
}

}  // namespace chorus::rest
