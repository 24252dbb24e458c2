// The socket-free rules of SIP over WebSocket: the upgrade check (RFC 6455 §4.2.1, RFC 7118 §4,
// RFC 6454 Origin), the refusal answers, what a received message is, and UTF-8 for frame types.
#include "signaling/transport/ws_protocol.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <functional>
#include <string>
#include <vector>

namespace chorus::sip {
namespace ws_protocol_test {

namespace http = boost::beast::http;

// RFC 7118 §4.1's handshake request (the example's Origin is that page's).
constexpr std::string_view kRfc7118Upgrade =
    "GET / HTTP/1.1\r\n"
    "Host: sip-ws.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"  // RFC 6455 §1.3: base64 of "the sample nonce"
    "Origin: http://www.example.com\r\n"
    "Sec-WebSocket-Protocol: sip\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// RFC 6455 §1.2's handshake: a good WebSocket upgrade, for a chat, not for SIP.
constexpr std::string_view kRfc6455ChatUpgrade =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

WsUpgradeRequest parse_request(std::string_view text) {
  http::request_parser<http::empty_body> parser;
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

WsOriginPolicy policy(std::vector<std::string> allowed) {
  auto made = WsOriginPolicy::make(allowed);
  EXPECT_TRUE(made.has_value());
  return made.value_or(WsOriginPolicy{});
}

const WsOriginPolicy kExamplePages = policy({"http://www.example.com", "http://example.com"});

TEST(WsUpgrade, AcceptsTheRfc7118Handshake) {
  EXPECT_TRUE(check_ws_upgrade(parse_request(kRfc7118Upgrade), kExamplePages).has_value());
}

TEST(WsUpgrade, RefusesTheRfc6455ChatHandshakeForWantOfSip) {
  const auto checked = check_ws_upgrade(parse_request(kRfc6455ChatUpgrade), kExamplePages);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, http::status::bad_request);
  EXPECT_EQ(checked.error().reason, DropReason::kWsNoSipProtocol);
}

TEST(WsUpgrade, FindsSipInAnyProtocolListAndLine) {
  WsUpgradeRequest request = parse_request(kRfc6455ChatUpgrade);
  request.insert(http::field::sec_websocket_protocol, " wamp ,\tsip ");  // a second line, with OWS
  EXPECT_TRUE(check_ws_upgrade(request, kExamplePages).has_value());
  request.set(http::field::sec_websocket_protocol, "sips, sip.v2, Sip");  // near misses only
  EXPECT_EQ(check_ws_upgrade(request, kExamplePages).error().reason, DropReason::kWsNoSipProtocol);
}

TEST(WsUpgrade, OriginIsCheckedOnlyWhenPresent) {
  WsUpgradeRequest request = parse_request(kRfc7118Upgrade);
  const WsOriginPolicy none = policy({});
  const auto refused = check_ws_upgrade(request, none);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().status, http::status::forbidden);
  EXPECT_EQ(refused.error().reason, DropReason::kWsOriginRefused);
  request.erase(http::field::origin);  // a SIP UA that is not a browser
  EXPECT_TRUE(check_ws_upgrade(request, none).has_value());
  request.set(http::field::origin, "null");  // RFC 6454 §7.3: an opaque origin is no origin we allow
  EXPECT_FALSE(check_ws_upgrade(request, kExamplePages).has_value());
  EXPECT_TRUE(check_ws_upgrade(request, policy({"*"})).has_value());
}

struct Mutation {
  const char* what;
  std::function<void(WsUpgradeRequest&)> apply;
  http::status status;
  DropReason reason;
};

TEST(WsUpgrade, RefusesEachBrokenPartWithItsStatus) {
  const std::vector<Mutation> mutations{
      {"POST", [](auto& r) { r.method(http::verb::post); }, http::status::bad_request, DropReason::kWsBadUpgrade},
      {"HTTP/1.0", [](auto& r) { r.version(10); }, http::status::bad_request, DropReason::kWsBadUpgrade},
      {"no Host", [](auto& r) { r.erase(http::field::host); }, http::status::bad_request, DropReason::kWsBadUpgrade},
      {"no Upgrade", [](auto& r) { r.erase(http::field::upgrade); }, http::status::upgrade_required,
       DropReason::kWsNotUpgrade},
      {"Upgrade: h2c", [](auto& r) { r.set(http::field::upgrade, "h2c"); }, http::status::upgrade_required,
       DropReason::kWsNotUpgrade},
      {"Connection: keep-alive", [](auto& r) { r.set(http::field::connection, "keep-alive"); },
       http::status::upgrade_required, DropReason::kWsNotUpgrade},
      {"version 8", [](auto& r) { r.set(http::field::sec_websocket_version, "8"); }, http::status::upgrade_required,
       DropReason::kWsBadUpgrade},
      {"no key", [](auto& r) { r.erase(http::field::sec_websocket_key); }, http::status::bad_request,
       DropReason::kWsBadUpgrade},
      {"short key", [](auto& r) { r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZQ=="); },
       http::status::bad_request, DropReason::kWsBadUpgrade},
      {"key with bits past 16 bytes",
       [](auto& r) { r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZR=="); }, http::status::bad_request,
       DropReason::kWsBadUpgrade},
      {"key not base64", [](auto& r) { r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub2*jZQ=="); },
       http::status::bad_request, DropReason::kWsBadUpgrade},
      {"a body", [](auto& r) { r.set(http::field::content_length, "5"); }, http::status::bad_request,
       DropReason::kWsBadUpgrade},
      {"two Origins", [](auto& r) { r.insert(http::field::origin, "http://www.example.com"); }, http::status::forbidden,
       DropReason::kWsOriginRefused},
      {"no subprotocol", [](auto& r) { r.erase(http::field::sec_websocket_protocol); }, http::status::bad_request,
       DropReason::kWsNoSipProtocol},
  };
  for (const Mutation& mutation : mutations) {
    WsUpgradeRequest request = parse_request(kRfc7118Upgrade);
    mutation.apply(request);
    const auto checked = check_ws_upgrade(request, kExamplePages);
    ASSERT_FALSE(checked.has_value()) << mutation.what;
    EXPECT_EQ(checked.error().status, mutation.status) << mutation.what;
    EXPECT_EQ(checked.error().reason, mutation.reason) << mutation.what;
    EXPECT_FALSE(checked.error().detail.empty()) << mutation.what;
  }
}

TEST(WsUpgrade, ContentLengthZeroIsNoBody) {
  WsUpgradeRequest request = parse_request(kRfc7118Upgrade);
  request.set(http::field::content_length, "0");
  EXPECT_TRUE(check_ws_upgrade(request, kExamplePages).has_value());
}

TEST(WsRefusal, A426NamesTheUpgradeAndVersionAndClosesTheConnection) {
  const auto response = make_ws_refusal(WsRefusal{http::status::upgrade_required, DropReason::kWsNotUpgrade, "why"});
  EXPECT_EQ(response.result(), http::status::upgrade_required);
  EXPECT_EQ(response[http::field::upgrade], "websocket");
  EXPECT_EQ(response[http::field::sec_websocket_version], "13");  // RFC 6455 §4.4
  EXPECT_EQ(response[http::field::connection], "close");
  EXPECT_EQ(response.body(), "why\n");
  EXPECT_EQ(response[http::field::content_length], "4");
  EXPECT_FALSE(response.keep_alive());
  const auto forbidden = make_ws_refusal(WsRefusal{http::status::forbidden, DropReason::kWsOriginRefused, "no"});
  EXPECT_EQ(forbidden.count(http::field::upgrade), 0u);
}

TEST(WsPayload, TellsPingsAndKeepalivesFromMessages) {
  EXPECT_EQ(classify_ws_payload("\r\n\r\n"), WsPayload::kPing);  // RFC 5626 §3.5.1 double-CRLF ping
  EXPECT_EQ(classify_ws_payload("\r\n"), WsPayload::kKeepalive);
  EXPECT_EQ(classify_ws_payload("\n\n\n"), WsPayload::kKeepalive);
  EXPECT_EQ(classify_ws_payload("OPTIONS sip:a@b SIP/2.0\r\n\r\n"), WsPayload::kSipMessage);
  EXPECT_EQ(classify_ws_payload(""), WsPayload::kSipMessage);  // parsed, and refused, as a message
}

// RFC 3629 §4 and the boundaries of its table.
TEST(Utf8, AcceptsWellFormedSequences) {
  for (std::string_view text : {"", "plain ASCII\r\n", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xed\x9f\xbf", "\xef\xbf\xbf",
                                "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(is_valid_utf8(text)) << text;
    EXPECT_TRUE(send_as_text(text));
  }
}

TEST(Utf8, RefusesOverlongsSurrogatesAndTruncations) {
  for (std::string_view text : {
           std::string_view("\xc0\x80", 2),          // overlong NUL
           std::string_view("\xc1\xbf", 2),          // overlong
           std::string_view("\xe0\x80\x80", 3),      // overlong
           std::string_view("\xed\xa0\x80", 3),      // UTF-16 surrogate D800
           std::string_view("\xf0\x80\x80\x80", 4),  // overlong
           std::string_view("\xf4\x90\x80\x80", 4),  // past U+10FFFF
           std::string_view("\xf5\x80\x80\x80", 4),  // no such lead byte
           std::string_view("\xe2\x82", 2),          // truncated
           std::string_view("\x80", 1),              // lone continuation
           std::string_view("a\xc3(", 3),            // bad continuation
       }) {
    EXPECT_FALSE(is_valid_utf8(text));
    EXPECT_FALSE(send_as_text(text));
  }
}

}  // namespace ws_protocol_test
}  // namespace chorus::sip
