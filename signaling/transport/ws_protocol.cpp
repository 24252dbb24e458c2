#include "signaling/transport/ws_protocol.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace chorus::sip {

namespace http = boost::beast::http;

namespace {

std::unexpected<WsRefusal> refuse(http::status status, DropReason reason, std::string detail) {
  return std::unexpected(WsRefusal{status, reason, std::move(detail)});
}

std::string_view view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

// Whether any header `field` holds `token` in its comma-separated list (RFC 9110 §5.6.1);
// tokens compare case-insensitively (RFC 6455 §4.2.1 items 3-4).
bool any_header_has_token(const WsUpgradeRequest& request, http::field field, const char* token) {
  const auto [first, last] = request.equal_range(field);
  return std::any_of(first, last, [&](const auto& header) { return http::token_list{header.value()}.exists(token); });
}

// RFC 6455 §4.2.1 item 5: the key is 16 random bytes in base64 — 22 characters and "==". The last
// character before the padding holds two bits of data, so only A, Q, g and w can stand there.
bool is_sec_websocket_key(std::string_view key) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (key.size() != 24 || !key.ends_with("==")) return false;
  const std::string_view data = key.substr(0, 22);
  if (data.find_first_not_of(kAlphabet) != std::string_view::npos) return false;
  return std::string_view("AQgw").find(data.back()) != std::string_view::npos;
}

// RFC 6455 §4.1 and §11.3.4: Sec-WebSocket-Protocol is a list of tokens, possibly spread over
// several header lines; RFC 7936 §3 makes the comparison case-sensitive.
bool offers_sip(const WsUpgradeRequest& request) {
  const auto [first, last] = request.equal_range(http::field::sec_websocket_protocol);
  for (auto it = first; it != last; ++it) {
    std::string_view list = view(it->value());
    while (!list.empty()) {
      const std::size_t comma = std::min(list.find(','), list.size());
      std::string_view item = list.substr(0, comma);
      list.remove_prefix(std::min(comma + 1, list.size()));
      const std::size_t begin = item.find_first_not_of(" \t");
      if (begin == std::string_view::npos) continue;
      item = item.substr(begin, item.find_last_not_of(" \t") - begin + 1);
      if (item == kSipSubprotocol) return true;
    }
  }
  return false;
}

std::expected<void, WsRefusal> check_http(const WsUpgradeRequest& request) {
  if (request.version() != 11) return refuse(http::status::bad_request, DropReason::kWsBadUpgrade, "not HTTP/1.1");
  if (request.method() != http::verb::get) {
    return refuse(http::status::bad_request, DropReason::kWsBadUpgrade, "method is not GET");
  }
  if (request.count(http::field::host) != 1) {
    return refuse(http::status::bad_request, DropReason::kWsBadUpgrade, "not exactly one Host header");
  }
  if (!any_header_has_token(request, http::field::upgrade, "websocket") ||
      !any_header_has_token(request, http::field::connection, "upgrade")) {
    return refuse(http::status::upgrade_required, DropReason::kWsNotUpgrade, "no WebSocket upgrade requested");
  }
  if (request.count(http::field::sec_websocket_version) != 1 ||
      view(request[http::field::sec_websocket_version]) != "13") {
    return refuse(http::status::upgrade_required, DropReason::kWsBadUpgrade, "WebSocket version is not 13");
  }
  if (request.count(http::field::sec_websocket_key) != 1 ||
      !is_sec_websocket_key(view(request[http::field::sec_websocket_key]))) {
    return refuse(http::status::bad_request, DropReason::kWsBadUpgrade, "Sec-WebSocket-Key is not 16 bytes of base64");
  }
  // RFC 9112 §6.3: a GET with a body makes no sense here, and the parser stops at the headers.
  const bool has_body =
      request.chunked() || (request.has_content_length() && view(request[http::field::content_length]) != "0");
  if (has_body) {
    return refuse(http::status::bad_request, DropReason::kWsBadUpgrade, "an upgrade request has no body");
  }
  return {};
}

}  // namespace

std::expected<void, WsRefusal> check_ws_upgrade(const WsUpgradeRequest& request, const WsOriginPolicy& origins) {
  if (auto checked = check_http(request); !checked) return checked;
  // RFC 6454 §7.3: a user agent sends at most one Origin; two are a forgery or a broken proxy.
  if (const std::size_t count = request.count(http::field::origin);
      count > 1 || (count == 1 && !origins.allows(view(request[http::field::origin])))) {
    return refuse(http::status::forbidden, DropReason::kWsOriginRefused, "origin not allowed");
  }
  if (!offers_sip(request)) {
    return refuse(http::status::bad_request, DropReason::kWsNoSipProtocol, "Sec-WebSocket-Protocol does not offer sip");
  }
  return {};
}

WsRefusalResponse make_ws_refusal(const WsRefusal& refusal) {
  WsRefusalResponse response{refusal.status, 11};
  response.set(http::field::server, beast_view(kWsServerName));
  response.set(http::field::connection, "close");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  if (refusal.status == http::status::upgrade_required) {
    response.set(http::field::upgrade, "websocket");
    response.set(http::field::sec_websocket_version, "13");
  }
  response.body() = refusal.detail + "\n";
  response.prepare_payload();
  response.keep_alive(false);
  return response;
}

WsPayload classify_ws_payload(std::string_view payload) {
  if (payload.empty() || payload.find_first_not_of("\r\n") != std::string_view::npos) return WsPayload::kSipMessage;
  return payload == "\r\n\r\n" ? WsPayload::kPing : WsPayload::kKeepalive;
}

}  // namespace chorus::sip
