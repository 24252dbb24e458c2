// libFuzzer target for SIP over WebSocket (RFC 7118): the real WsSession (signaling/transport/
// ws_session.hpp) reads the fuzz input as everything a client sends on the WS port — the HTTP
// upgrade request, then (after the session's answer) WebSocket frames — through Boost.Beast's test
// stream, then the peer hangs up.
//
//   make fuzz-build && build-fuzz/bin/ws_session_fuzz -max_total_time=60 -dict=fuzz/ws_session_fuzz.dict \
//       fuzz/seeds/ws_session_fuzz
//
// The first input byte picks the set-up, so the fuzzer can spend its time past the handshake:
//   bit 0: a valid upgrade request (kUpgrade) goes before the rest of the input;
//   bit 1: the Origin policy is "*" instead of https://rooms.example.com only;
//   bit 2: messages are limited to 1 KiB instead of 64 KiB (so 1009 is reached cheaply).
// Besides "no crash, no leak, no UB" it checks what the session promises its owner:
//   - it upgrades only a request that check_ws_upgrade accepts, and then answers 101 with "sip";
//   - a refused upgrade is answered 400, 403 or 426, never 101, and nothing is delivered;
//   - messages, keepalives and bad messages come only after the upgrade, from the session's peer,
//     and nothing comes after the close, which is reported exactly once.
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "signaling/transport/ws_protocol.hpp"
#include "signaling/transport/ws_session.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace chorus::sip;

// RFC 7118 §4.1's upgrade, with the Origin the strict policy allows.
constexpr std::string_view kUpgrade =
    "GET / HTTP/1.1\r\n"
    "Host: sip-ws.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: https://rooms.example.com\r\n"
    "Sec-WebSocket-Protocol: sip\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

constexpr int kMaxPollRounds = 10000;  // a bound against a session that keeps itself busy

void require(bool condition) {
  if (!condition) std::abort();
}

class Recorder final : public ConnectionEvents {
 public:
  PeerAddress expected;
  bool upgraded = false;
  int closed = 0;
  std::size_t delivered = 0;

  void on_stream_message(SipMessage message, const PeerAddress& source) override {
    check(source);
    require(!message.serialize().empty());
    ++delivered;
  }
  void on_stream_bad_message(const ParseError& error, const PeerAddress& source) override {
    check(source);
    require(!error.reason.empty());
    ++delivered;
  }
  void on_stream_keepalive(const PeerAddress& source) override { check(source); }
  void on_ws_upgraded(const PeerAddress& source) override {
    require(!upgraded && closed == 0 && source.connection == expected.connection);
    upgraded = true;
  }
  void on_stream_closed(ConnectionId id, std::optional<DropReason>, std::string_view) override {
    require(id == expected.connection);
    ++closed;
    require(closed == 1);
  }

 private:
  void check(const PeerAddress& source) const {
    require(upgraded && closed == 0);
    require(source.connection == expected.connection && source.kind == TransportKind::kWs);
  }
};

// What check_ws_upgrade says of the request at the start of `input`, parsed as the session does.
bool upgrade_acceptable(std::string_view input, const WsOptions& options) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_upgrade_bytes));
  parser.body_limit(0);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(input.data(), std::min(input.size(), options.max_upgrade_bytes)), ec);
  return !ec && parser.is_done() && check_ws_upgrade(parser.get(), *options.origins).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  chorus::set_log_level(chorus::LogLevel::kOff);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string input = (mode & 1) != 0 ? std::string(kUpgrade) : std::string();
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);

  WsOptions options;
  options.max_message_bytes = (mode & 4) != 0 ? 1024 : 64 * 1024;
  const std::vector<std::string> allowed{(mode & 2) != 0 ? "*" : "https://rooms.example.com"};
  options.origins = std::make_shared<const WsOriginPolicy>(WsOriginPolicy::make(allowed).value());
  const bool acceptable = upgrade_acceptable(input, options);

  boost::asio::io_context io;
  beast::test::stream server(io);
  beast::test::stream client(io);
  server.connect(client);  // each one's writes land in the other's input

  Recorder events;
  events.expected = PeerAddress{TransportKind::kWs, boost::asio::ip::address_v4::loopback(), 50000, 7};
  auto session =
      std::make_shared<WsSession<beast::test::stream>>(events.expected, events, options, nullptr, std::move(server));
  session->start_accepted();
  // RFC 6455 §4.1: a client sends nothing after its request until the answer has come, so the
  // header block goes first, and the rest (frames) once the session has answered.
  const std::size_t head_end = input.find("\r\n\r\n");
  const std::size_t split = head_end == std::string::npos ? input.size() : head_end + 4;
  for (const std::string_view part :
       {std::string_view(input).substr(0, split), std::string_view(input).substr(split)}) {
    boost::system::error_code ignored;
    boost::asio::write(client, boost::asio::buffer(part.data(), part.size()), ignored);
    io.restart();
    for (int round = 0; round < kMaxPollRounds && io.poll() > 0; ++round) {
    }
  }
  client.close();  // the client is gone: the session reads EOF
  io.restart();
  for (int round = 0; round < kMaxPollRounds && io.poll() > 0; ++round) {
  }
  session->close(std::nullopt, "fuzz input done");  // the handshake or idle timer is still armed
  io.restart();
  for (int round = 0; round < kMaxPollRounds && io.poll() > 0; ++round) {
  }
  require(events.closed == 1);

  const std::string_view answer(client.str().data(), client.str().size());
  if (events.upgraded) {
    require(acceptable);
    require(answer.starts_with("HTTP/1.1 101 "));
    require(answer.find("Sec-WebSocket-Protocol: sip\r\n") != std::string_view::npos);
  } else {
    require(events.delivered == 0);
    require(!answer.starts_with("HTTP/1.1 101"));
    if (!answer.empty()) {
      require(answer.starts_with("HTTP/1.1 400 ") || answer.starts_with("HTTP/1.1 403 ") ||
              answer.starts_with("HTTP/1.1 426 "));
    }
  }
  return 0;
}
