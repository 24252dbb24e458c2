#include "rest-api/api/web_routes.hpp"

#include <algorithm>
#include <cctype>
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

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string websocket_url(std::string_view scheme, std::string_view host, std::uint16_t port) {
  return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port);
}

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
    return lower(host.substr(0, close + 1));
  }
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    if (!is_port(host.substr(colon + 1))) return std::nullopt;
    host = host.substr(0, colon);
  }
  if (!is_name_or_ipv4(host)) return std::nullopt;
  return lower(host);
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
