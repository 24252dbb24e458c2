// The rules of SIP over WebSocket (RFC 7118) that do not need a socket: whether an HTTP request may
// be upgraded (RFC 6455 §4.2.1, RFC 7118 §4), the HTTP answer to one that may not, what a received
// WebSocket message is (RFC 7118 §5), and which frame type a message we send needs (RFC 7118 §5.1).
// Pure functions over Boost.Beast HTTP types; WsConnection applies them, the tests and the fuzz
// target call them directly.
#pragma once

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "common/utf8.hpp"
#include "signaling/transport/transport_counters.hpp"
#include "signaling/transport/ws_origin.hpp"

namespace chorus::sip {

// RFC 7118 §4 / IANA WebSocket Subprotocol Name Registry: the one subprotocol we speak. Matched
// case-sensitively (RFC 7936 §3).
inline constexpr std::string_view kSipSubprotocol = "sip";
inline constexpr std::string_view kWsServerName = "chorus";

// Beast 1.74 speaks boost::string_view.
inline boost::beast::string_view beast_view(std::string_view text) {
  return {text.data(), text.size()};
}

using WsUpgradeRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using WsRefusalResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Why an upgrade request is refused, and the HTTP status that says so.
struct WsRefusal {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  DropReason reason = DropReason::kWsBadUpgrade;
  std::string detail;  // for the log line and the answer's body; never echoes header values
};

// Checks a complete upgrade request, in this order:
//   HTTP/1.1 GET with a Host (RFC 6455 §4.2.1 items 1-2)                       → 400 kWsBadUpgrade
//   `Upgrade: websocket` and `Connection: upgrade` (items 3-4)                 → 426 kWsNotUpgrade
//   `Sec-WebSocket-Version: 13` (item 6; §4.4)                                 → 426 kWsBadUpgrade
//   `Sec-WebSocket-Key`: base64 of 16 bytes (item 5)                           → 400 kWsBadUpgrade
//   one Origin, allowed by `origins`, when Origin is present (§4.2.2, §10.2)    → 403 kWsOriginRefused
//   `Sec-WebSocket-Protocol` lists "sip" (RFC 7118 §4)                         → 400 kWsNoSipProtocol
std::expected<void, WsRefusal> check_ws_upgrade(const WsUpgradeRequest& request, const WsOriginPolicy& origins);

// The answer to a refused upgrade: the status, `Connection: close`, a short text body, and for 426
// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` (RFC 9110 §15.5.22, RFC 6455 §4.4).
WsRefusalResponse make_ws_refusal(const WsRefusal& refusal);

// What a received WebSocket message carries (RFC 7118 §5: exactly one SIP message per message).
enum class WsPayload : std::uint8_t {
  kSipMessage,  // parse it
  kPing,        // "\r\n\r\n": a double-CRLF keepalive ping (RFC 5626 §3.5.1, as SIP.js sends it): answer "\r\n"
  kKeepalive,   // other CR/LF-only payloads (a "\r\n" pong): count, answer nothing
};
WsPayload classify_ws_payload(std::string_view payload);

// RFC 7118 §5.1: a message goes in a text frame when it is valid UTF-8, else in a binary frame
// (a body that is not UTF-8 must not be sent as text, RFC 6455 §5.6).
inline bool send_as_text(std::string_view message) {
  return is_valid_utf8(message);
}

}  // namespace chorus::sip
