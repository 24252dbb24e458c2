#include "rest-api/http_session.hpp"

#include <algorithm>
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
#include <string>
#include <vector>

#include "common/log.hpp"
#include "rest-api/event_stream.hpp"
#include "rest-api/file_response.hpp"
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
// The socket-closing backstop behind our own read deadline (which only cancels the read): should
// a cancel ever miss a read, beast's timer still ends the connection this much later.
constexpr std::chrono::seconds kDeadlineBackstop{2};
// The keep-alive wait reads at most this much before the parser takes over.
constexpr std::size_t kFirstReadBytes = 4096;
// RFC 9110 §15.5.9; a slug next to problem.hpp's (rest-api/README.md lists it).
constexpr std::string_view kProblemRequestTimeout = "request-timeout";
// A file download is read and written this much at a time: what a download holds in memory.
constexpr std::size_t kFileChunkBytes = 64 * 1024;

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

HttpSession::HttpSession(asio::ip::tcp::socket socket, asio::ip::address remote, SessionHub& hub, Admission admission)
    : hub_(hub),
      id_(hub.next_id++),
      admission_(admission),
      refused_(admission != Admission::kServe),
      stream_(std::move(socket)),
      remote_(remote),
      read_deadline_(stream_.get_executor()) {
  ++(refused_ ? hub_.refusing : hub_.serving);
  hub_.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (hub_.config.metrics != nullptr) {
    if (admission_ == Admission::kRefuseBusy) {
      hub_.config.metrics->on_connection_rejected();  // per-address refusals: counted by the server
    } else if (!refused_) {
      hub_.config.metrics->on_connection_opened();
    }
  }
}

HttpSession::~HttpSession() {
  if (source_) source_->close();  // also when the frame is destroyed with the io_context
  --(refused_ ? hub_.refusing : hub_.serving);
  if (!refused_) hub_.per_address.release(remote_);  // counted by the accept loop
  hub_.sessions.erase(id_);
  hub_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (hub_.config.metrics != nullptr && !refused_) hub_.config.metrics->on_connection_closed();
}

void HttpSession::launch(asio::ip::tcp::socket socket, asio::ip::address remote, SessionHub& hub, Admission admission) {
  auto session = std::make_shared<HttpSession>(std::move(socket), remote, hub, admission);
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
  auto response = admission_ == Admission::kRefusePerAddress
                      ? service_unavailable("too many open connections from your address", std::chrono::seconds(1))
                      : service_unavailable("the server has too many open connections", std::chrono::seconds(1));
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
  // Slowloris (issue 12): the first request's header block is due `header_timeout` after the
  // accept; a keep-alive request's `header_timeout` after its first byte, which itself may take
  // `idle_timeout` to come. A trickle of bytes never moves a deadline.
  if (!first_request_) {
    const bool arrived = co_await await_next_request();
    if (!arrived) co_return false;
  }
  first_request_ = false;
  error_code ec;
  arm_read_deadline(hub_.config.header_timeout);
  co_await http::async_read_header(stream_, buffer_, parser, redirect(ec));
  disarm_read_deadline();
  if (ec) {
    const bool more = co_await answer_read_error(ec, false);
    co_return more;
  }
  if (!parser.is_done()) {
    if (wants_continue(parser.get())) {
      // RFC 9110 §10.1.1: the client waits for 100 before sending the body.
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      stream_.expires_after(hub_.config.idle_timeout);
      co_await http::async_write(stream_, go_on, redirect(ec));
      if (ec) co_return false;
    }
    arm_read_deadline(hub_.config.body_timeout);
    co_await http::async_read(stream_, buffer_, parser, redirect(ec));
    disarm_read_deadline();
    if (ec) {
      const bool more = co_await answer_read_error(ec, true);
      co_return more;
    }
  }
  HttpRequest request{parser.release(), remote_};
  const bool keep_alive = request.message.keep_alive();
  const unsigned version = request.message.version();
  const bool head_only = request.message.method() == http::verb::head;
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
  if (response.file) {
    const bool sent = co_await send_file(std::move(response), version, keep, head_only);
    co_return sent&& keep;
  }
  const bool written = co_await write(response.message, version, keep);
  co_return written&& keep;
}

asio::awaitable<bool> HttpSession::await_next_request() {
  if (buffer_.size() > 0) co_return true;  // pipelined: already here
  stream_.expires_after(hub_.config.idle_timeout);
  error_code ec;
  const std::size_t read = co_await stream_.async_read_some(buffer_.prepare(kFirstReadBytes), redirect(ec));
  buffer_.commit(read);
  // An idle keep-alive connection that ends (timeout, close, reset) owes nobody an answer.
  co_return !ec && read > 0;
}

void HttpSession::arm_read_deadline(std::chrono::milliseconds timeout) {
  read_timed_out_ = false;
  const std::uint64_t generation = ++deadline_generation_;
  stream_.expires_after(timeout + kDeadlineBackstop);
  read_deadline_.expires_after(timeout);
  read_deadline_.async_wait([weak = weak_from_this(), generation](error_code ec) {
    const auto self = weak.lock();
    if (ec || !self || self->deadline_generation_ != generation) return;
    self->read_timed_out_ = true;
    error_code ignored;
    self->stream_.socket().cancel(ignored);  // the pending read ends with operation_aborted
  });
}

void HttpSession::disarm_read_deadline() {
  ++deadline_generation_;
  read_deadline_.cancel();
}

asio::awaitable<void> HttpSession::answer_timeout(bool reading_body, bool request_started) {
  if (hub_.config.metrics != nullptr) hub_.config.metrics->on_request_timeout(reading_body);
  if (const auto held_back = hub_.timeout_log.pass(std::chrono::steady_clock::now())) {
    const auto limit = reading_body ? hub_.config.body_timeout : hub_.config.header_timeout;
    CHORUS_LOG(kWarn, "security", "http_request_timeout", {"source", remote_.to_string()},
               {"phase", reading_body ? "body" : "header"}, {"timeout_ms", limit.count()}, {"held_back", *held_back});
  }
  if (!request_started || !stream_.socket().is_open()) co_return;
  Problem problem{
      .status = http::status::request_timeout,
      .slug = kProblemRequestTimeout,
      .title = "Request timeout",
      .detail = reading_body ? "the request body did not arrive in time" : "the request header did not arrive in time"};
  co_await write_and_linger(problem_response(problem));
}

asio::awaitable<bool> HttpSession::answer_read_error(error_code ec, bool reading_body) {
  if ((read_timed_out_ && ec == asio::error::operation_aborted) || ec == beast::error::timeout) {
    const bool request_started = reading_body || buffer_.size() > 0;
    if (!closing_ && !hub_.stopping) co_await answer_timeout(reading_body, request_started);
    co_return false;
  }
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

namespace {

// RFC 9112 §4 status line and §5 field lines of `message`, in one buffer: the bytes Beast's
// serializer writes, without walking its sequence of several small buffers per field on every
// write (a visible share of a small answer's cost in issue 13's profile).
std::string header_block(const BeastResponse& message) {
  std::string out;
  out.reserve(256);
  const unsigned version = message.version();
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
  out += ' ';
  out += std::to_string(message.result_int());
  out += ' ';
  const auto reason = message.reason();
  out += std_view(reason.empty() ? http::obsolete_reason(message.result()) : reason);
  out += "\r\n";
  for (const auto& field : message) {
    out += std_view(field.name_string());
    out += ": ";
    out += std_view(field.value());
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace

asio::awaitable<bool> HttpSession::write(BeastResponse& message, unsigned version, bool keep_alive) {
  message.version(version);
  message.keep_alive(keep_alive);
  message.set(http::field::server, beast_view(kServerName));
  message.prepare_payload();  // a string body: Content-Length, never chunked
  stream_.expires_after(hub_.config.idle_timeout);
  const std::string head = header_block(message);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(message.body())};
  error_code ec;
  co_await asio::async_write(stream_, buffers, redirect(ec));
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

asio::awaitable<bool> HttpSession::send_file(HttpResponse response, unsigned version, bool keep_alive, bool head_only) {
  const std::shared_ptr<const FileSlice> file = std::move(response.file);  // the descriptor, until we return
  http::response<http::empty_body> head(std::move(response.message.base()));
  head.version(version);
  head.keep_alive(keep_alive);
  head.set(http::field::server, beast_view(kServerName));
  // RFC 9110 §8.6: the slice's length, also for HEAD (§9.3.2: the headers a GET would get).
  head.content_length(file->length());
  http::response_serializer<http::empty_body> serializer(head);
  stream_.expires_after(hub_.config.idle_timeout);
  error_code ec;
  co_await http::async_write_header(stream_, serializer, redirect(ec));
  if (ec) co_return false;
  if (head_only) co_return true;
  // One buffer for the whole download; each chunk is read, then written under the write timeout.
  // The read is a pread on this thread: at most kFileChunkBytes, from the page cache when the file
  // was written recently (recordings), so it is short next to the write.
  std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(kFileChunkBytes, file->length())));
  std::uint64_t sent = 0;
  while (sent < file->length()) {
    if (closing_) co_return false;  // close(): the socket is gone already
    const auto read = file->read(sent, chunk);
    if (!read || *read == 0) {
      // The file shrank or failed under us: Content-Length cannot be met, so the connection ends
      // short of it and the client sees an incomplete response (RFC 9112 §8).
      CHORUS_LOG(kWarn, "rest", "file download cut short", {"remote", remote_.to_string()}, {"sent", sent},
                 {"length", file->length()}, {"error", read ? "end of file" : read.error().message()});
      co_return false;
    }
    stream_.expires_after(hub_.config.idle_timeout);  // bounds a client that stopped reading
    co_await asio::async_write(stream_, asio::buffer(chunk.data(), *read), redirect(ec));
    if (ec) co_return false;
    sent += *read;
  }
  co_return true;
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
