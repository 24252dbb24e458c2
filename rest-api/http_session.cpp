#include "rest-api/http_session.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>

#include "common/log.hpp"
#include "rest-api/event_stream.hpp"
#include "rest-api/metrics.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// After an error response the client may still be sending (a 2 MiB body we refused after its
// header): read and drop that much for that long before closing, so the close does not turn into
// a reset that destroys our response in the client's receive buffer (RFC 9112 §9.6).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 8 * 1024 * 1024;
// How long a refused connection gets to take its 503.
constexpr std::chrono::seconds kRefuseTimeout{2};
constexpr std::string_view kKeepaliveComment = ": keepalive\n\n";  // WHATWG HTML §9.2.6: a comment line
constexpr std::string_view kServerName = "chorus";

auto redirect(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

bool wants_continue(const BeastRequest& request) {
  const auto it = request.find(http::field::expect);
  return it != request.end() && beast::iequals(it->value(), "100-continue");
}

}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket socket, SessionHub& hub, bool refused)
    : hub_(hub), id_(hub.next_id++), refused_(refused), stream_(std::move(socket)) {
  error_code ec;
  remote_ = stream_.socket().remote_endpoint(ec).address();
  ++(refused_ ? hub_.refusing : hub_.serving);
  hub_.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (hub_.config.metrics != nullptr) {
    if (refused_) {
      hub_.config.metrics->on_connection_rejected();
    } else {
      hub_.config.metrics->on_connection_opened();
    }
  }
}

HttpSession::~HttpSession() {
  if (source_) source_->close();  // also when the frame is destroyed with the io_context
  --(refused_ ? hub_.refusing : hub_.serving);
  hub_.sessions.erase(id_);
  hub_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (hub_.config.metrics != nullptr && !refused_) hub_.config.metrics->on_connection_closed();
}

void HttpSession::launch(asio::ip::tcp::socket socket, SessionHub& hub, bool refused) {
  auto session = std::make_shared<HttpSession>(std::move(socket), hub, refused);
  hub.sessions.emplace(session->id_, session);
  auto executor = session->stream_.get_executor();
  // The lambda (and so the shared_ptr) lives in the coroutine frame: the session lives exactly as
  // long as its coroutine.
  asio::co_spawn(
      executor, [session] { return session->refused_ ? session->refuse() : session->serve(); }, asio::detached);
}

void HttpSession::close() {
  closing_ = true;
  if (source_) source_->close();
  stream_.close();  // aborts pending operations and the stream's timers
}

asio::awaitable<void> HttpSession::serve() {
  try {
    while (!closing_) {
      const bool more = co_await exchange();
      if (!more) break;
    }
  } catch (const std::exception& error) {
    // Not expected (handlers' exceptions are caught in call_handler); never let one escape.
    CHORUS_LOG(kError, "rest", "session failed", {"remote", remote_.to_string()}, {"error", error.what()});
  }
  error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

asio::awaitable<void> HttpSession::refuse() {
  auto response = service_unavailable("the server has too many open connections", std::chrono::seconds(1));
  response.message.version(11);
  response.message.keep_alive(false);
  response.message.prepare_payload();
  stream_.expires_after(kRefuseTimeout);
  error_code ec;
  co_await http::async_write(stream_, response.message, redirect(ec));
  if (!ec) co_await linger_close();
  stream_.close();
}

asio::awaitable<bool> HttpSession::exchange() {
  http::request_parser<http::string_body> parser;
  parser.body_limit(hub_.config.body_limit);
  parser.header_limit(hub_.config.header_limit);
  // One deadline for the keep-alive wait and the whole request (beast timers are absolute).
  stream_.expires_after(hub_.config.idle_timeout);
  error_code ec;
  co_await http::async_read_header(stream_, buffer_, parser, redirect(ec));
  if (ec) {
    const bool more = co_await answer_read_error(ec);
    co_return more;
  }
  if (!parser.is_done()) {
    if (wants_continue(parser.get())) {
      // RFC 9110 §10.1.1: the client waits for 100 before sending the body.
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      co_await http::async_write(stream_, go_on, redirect(ec));
      if (ec) co_return false;
    }
    co_await http::async_read(stream_, buffer_, parser, redirect(ec));
    if (ec) {
      const bool more = co_await answer_read_error(ec);
      co_return more;
    }
  }
  HttpRequest request{parser.release(), remote_};
  const bool keep_alive = request.message.keep_alive();
  const unsigned version = request.message.version();
  const auto started = std::chrono::steady_clock::now();
  auto response = co_await call_handler(std::move(request));
  if (hub_.config.metrics != nullptr) {
    hub_.config.metrics->on_response(response.status(), std::chrono::steady_clock::now() - started);
  }
  if (response.stream) {
    co_await stream_events(std::move(response), version);
    co_return false;
  }
  const bool keep = keep_alive && !hub_.stopping && !closing_;
  const bool written = co_await write(response.message, version, keep);
  co_return written&& keep;
}

asio::awaitable<bool> HttpSession::answer_read_error(error_code ec) {
  std::optional<HttpResponse> answer;
  if (ec == http::error::body_limit) {
    answer = payload_too_large(hub_.config.body_limit);
  } else if (ec == http::error::header_limit) {
    answer = headers_too_large(hub_.config.header_limit);
  } else if (is_parse_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    answer = bad_request("malformed HTTP request: " + ec.message());
  }
  if (answer) co_await write_and_linger(std::move(*answer));
  // Otherwise the peer closed (end_of_stream), went idle (timeout), reset, or we are stopping:
  // nothing to answer.
  co_return false;
}

asio::awaitable<HttpResponse> HttpSession::call_handler(HttpRequest request) {
  try {
    auto response = co_await hub_.handler.handle(std::move(request));
    co_return response;
  } catch (const std::exception& error) {
    CHORUS_LOG(kError, "rest", "request handler failed", {"remote", remote_.to_string()}, {"error", error.what()});
  }
  co_return internal_error("the server could not complete the request");
}

asio::awaitable<bool> HttpSession::write(BeastResponse& message, unsigned version, bool keep_alive) {
  message.version(version);
  message.keep_alive(keep_alive);
  message.set(http::field::server, beast_view(kServerName));
  message.prepare_payload();
  stream_.expires_after(hub_.config.idle_timeout);
  error_code ec;
  co_await http::async_write(stream_, message, redirect(ec));
  co_return !ec;
}

asio::awaitable<void> HttpSession::write_and_linger(HttpResponse response) {
  const bool written = co_await write(response.message, 11, false);
  if (written) co_await linger_close();
}

asio::awaitable<void> HttpSession::linger_close() {
  error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(kLingerTime);
  std::array<char, 16 * 1024> scratch{};
  std::size_t drained = 0;
  while (!ec && drained < kLingerBytes) {
    const std::size_t read = co_await stream_.async_read_some(asio::buffer(scratch), redirect(ec));
    drained += read;
  }
}

asio::awaitable<void> HttpSession::stream_events(HttpResponse response, unsigned version) {
  source_ = std::move(response.stream);
  http::response<http::empty_body> head(std::move(response.message.base()));
  head.version(version);
  head.keep_alive(false);  // the connection ends with the stream
  head.chunked(true);
  head.set(http::field::server, beast_view(kServerName));
  head.set("X-Accel-Buffering", "no");  // reverse proxies (nginx) must not buffer the stream
  http::response_serializer<http::empty_body> serializer(head);
  stream_.expires_after(hub_.config.idle_timeout);
  error_code ec;
  if (!closing_ && !hub_.stopping) co_await http::async_write_header(stream_, serializer, redirect(ec));
  if (!closing_ && !hub_.stopping && !ec) {
    stream_.expires_never();
    // Named first: GCC 12 mishandles lambda temporaries in coroutine full-expressions.
    auto watch = [self = shared_from_this()] { return self->watch_for_close(); };
    asio::co_spawn(stream_.get_executor(), std::move(watch), asio::detached);
    while (!closing_) {
      auto pull = co_await source_->next(hub_.config.keepalive_interval);
      if (closing_ || pull.kind == StreamPull::Kind::kEnd) break;
      const std::string_view text = pull.kind == StreamPull::Kind::kChunk ? pull.chunk : kKeepaliveComment;
      if (text.empty()) continue;                       // an empty chunk would end the chunked body (RFC 9112 §7.1)
      stream_.expires_after(hub_.config.idle_timeout);  // bounds a client that stopped reading
      const auto chunk = http::make_chunk(asio::buffer(text.data(), text.size()));
      co_await asio::async_write(stream_, chunk, redirect(ec));
      if (ec) break;
    }
    if (!closing_ && !ec) {
      stream_.expires_after(hub_.config.idle_timeout);
      const auto last = http::make_chunk_last();
      co_await asio::async_write(stream_, last, redirect(ec));
    }
  }
  closing_ = true;
  source_->close();
  stream_.close();  // ends watch_for_close
}

asio::awaitable<void> HttpSession::watch_for_close() {
  // Reads the raw socket, not the tcp_stream: the stream's timers belong to the writer. Whatever
  // the client sends during a stream is dropped; its close (or reset) ends the stream.
  std::array<char, 512> scratch{};
  error_code ec;
  while (!ec) co_await stream_.socket().async_read_some(asio::buffer(scratch), redirect(ec));
  if (!closing_) {
    closing_ = true;
    if (source_) source_->close();
  }
}

}  // namespace chorus::rest
