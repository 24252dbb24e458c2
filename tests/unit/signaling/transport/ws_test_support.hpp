// A Boost.Beast WebSocket client for the WS and WSS transport tests: it connects to the layer under
// test on loopback, driven by the same io_context, offers the subprotocols and Origin it is given,
// and records the upgrade answer, every message it reads and how the server closed on it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/unit/signaling/transport/transport_test_support.hpp"

namespace chorus::sip::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsClientOptions {
  std::string subprotocols = "sip";   // Sec-WebSocket-Protocol; empty: the header is left out
  std::optional<std::string> origin;  // Origin, when a browser is played
  std::string ca_file;                // WSS: the only CA trusted
};

template <typename NextLayer>
class BasicWsClient {
 public:
  static constexpr bool kTls = !std::is_same_v<NextLayer, asio::ip::tcp::socket>;

  BasicWsClient(asio::io_context& io, std::uint16_t port, WsClientOptions options = {})
      : options_(std::move(options)), tls_context_(asio::ssl::context::tls_client), ws_(make_stream(io)) {
    beast::get_lowest_layer(ws_).connect(asio::ip::tcp::endpoint(kLoopback, port));
    if constexpr (kTls) {
      ws_.next_layer().set_verify_mode(asio::ssl::verify_peer);
      ws_.next_layer().set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
      ws_.next_layer().async_handshake(asio::ssl::stream_base::client, [this](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;  // this client is gone
        if (ec) {
          upgrade_error = ec;
          finished_upgrade = true;
          return;
        }
        upgrade();
      });
    } else {
      upgrade();
    }
  }

  // Sends one WebSocket message, text unless `binary`.
  void write(std::string text, bool binary = false) {
    outgoing_.push_back({std::move(text), binary});
    if (!writing_) write_next();
  }

  // Sends a WebSocket ping (RFC 6455 §5.5.2); not while a write is under way.
  void ping() {
    ws_.async_ping({}, [this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) ++pings_sent;
    });
  }

  [[nodiscard]] std::uint16_t local_port() const { return beast::get_lowest_layer(ws_).local_endpoint().port(); }
  // The messages that hold `needle`.
  [[nodiscard]] std::size_t count_containing(std::string_view needle) const {
    std::size_t n = 0;
    for (const auto& m : messages) n += m.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  bool finished_upgrade = false;
  boost::system::error_code upgrade_error;
  websocket::response_type response;  // the server's answer to the upgrade, 101 or an error
  std::vector<std::string> messages;
  std::vector<bool> binary;  // per message: a binary frame
  std::size_t pings_sent = 0;
  bool closed = false;
  boost::system::error_code read_error;
  websocket::close_reason close_reason;  // the code the server's close frame carried

 private:
  struct Outgoing {
    std::string text;
    bool binary = false;
  };

  NextLayer make_stream(asio::io_context& io) {
    if constexpr (kTls) {
      if (!options_.ca_file.empty()) tls_context_.load_verify_file(options_.ca_file);
      return NextLayer(io, tls_context_);
    } else {
      return NextLayer(io);
    }
  }

  void upgrade() {
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& request) {
      if (!options_.subprotocols.empty())
        request.set(beast::http::field::sec_websocket_protocol, options_.subprotocols);
      if (options_.origin) request.set(beast::http::field::origin, *options_.origin);
    }));
    ws_.async_handshake(response, "127.0.0.1", "/", [this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // this client is gone
      upgrade_error = ec;
      finished_upgrade = true;
      if (!ec) read();
    });
  }

  void read() {
    ws_.async_read(buffer_, [this](const boost::system::error_code& ec, std::size_t) {
      if (ec == asio::error::operation_aborted) return;  // this client is gone
      if (ec) {
        read_error = ec;
        close_reason = ws_.reason();
        closed = true;
        return;
      }
      messages.push_back(beast::buffers_to_string(buffer_.data()));
      binary.push_back(ws_.got_binary());
      buffer_.consume(buffer_.size());
      read();
    });
  }

  void write_next() {
    writing_ = true;
    ws_.binary(outgoing_.front().binary);
    ws_.async_write(asio::buffer(outgoing_.front().text), [this](const boost::system::error_code& ec, std::size_t) {
      if (ec == asio::error::operation_aborted) return;
      writing_ = false;
      outgoing_.erase(outgoing_.begin());
      if (!ec && !outgoing_.empty()) write_next();
    });
  }

  WsClientOptions options_;
  asio::ssl::context tls_context_;
  websocket::stream<NextLayer> ws_;
  beast::flat_buffer buffer_;
  std::vector<Outgoing> outgoing_;
  bool writing_ = false;
};

using WsClient = BasicWsClient<asio::ip::tcp::socket>;
using WssClient = BasicWsClient<asio::ssl::stream<asio::ip::tcp::socket>>;

}  // namespace chorus::sip::testing
