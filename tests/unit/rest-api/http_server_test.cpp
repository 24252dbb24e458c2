// End to end: a real HttpServer on 127.0.0.1, a handler that runs on a second io_context thread
// (as the control loop will), and a blocking socket client. Every wait is bounded.
#include "rest-api/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>  // operator<< of a message: the serializer's bytes
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "rest-api/event_stream.hpp"
#include "rest-api/metrics.hpp"
#include "rest-api/problem.hpp"
#include "tests/unit/rest-api/http_test_client.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::rest {
namespace http_server_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using test::HttpTestClient;

using chorus::test::wait_until;

// The handler runs each request on its own "control" thread, like the server wiring does.
class ControlLoopHandler : public RequestHandler {
 public:
  ControlLoopHandler() : work_(asio::make_work_guard(control_)), thread_([this] { control_.run(); }) {}
  ~ControlLoopHandler() override {
    work_.reset();
    thread_.join();
  }

  // The pattern for the server wiring: a coroutine taking its arguments by value, created first and
  // then co_spawned onto the control executor. (GCC 12 destroys a lambda temporary inside a
  // co_await expression twice; naming the awaitable first avoids that.)
  asio::awaitable<HttpResponse> handle(HttpRequest request) override {
    auto task = run_on_control(std::move(request));
    auto response = co_await asio::co_spawn(control_.get_executor(), std::move(task), asio::use_awaitable);
    co_return response;
  }

  std::shared_ptr<EventStreamQueue> wait_for_stream(std::size_t index) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, 5s, [&] { return streams_.size() > index; })) return nullptr;
    return streams_[index];
  }

 private:
  asio::awaitable<HttpResponse> run_on_control(HttpRequest request) { co_return respond(request); }

  HttpResponse respond(const HttpRequest& request) {
    const auto target = std_view(request.message.target());
    if (target == "/hello") {
      auto response = HttpResponse::text(http::status::ok, "hello", "text/plain");
      response.message.set("X-Control-Thread", std::this_thread::get_id() == thread_.get_id() ? "yes" : "no");
      return response;
    }
    if (target == "/echo") return HttpResponse::text(http::status::ok, request.message.body(), "text/plain");
    if (target == "/throw") throw std::runtime_error("handler bug");
    if (target == "/events") {
      auto queue = std::make_shared<EventStreamQueue>();
      {
        std::lock_guard lock(mutex_);
        streams_.push_back(queue);
      }
      changed_.notify_all();
      return HttpResponse::event_stream(queue);
    }
    return not_found("nothing here");
  }

  asio::io_context control_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<EventStreamQueue>> streams_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerConfig config = {}) {
    config.bind_address = "127.0.0.1";
    config.port = 0;
    config.metrics = &metrics_;
    server_.emplace(config, handler_);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
    ASSERT_NE(server_->port(), 0);
  }
  std::uint16_t port() const { return server_->port(); }

  // Reads an event stream's chunks (the event text) as they come.
  struct StreamReader {
    explicit StreamReader(HttpTestClient& client) : client(client) {
      parser.body_limit(boost::none);
      parser.on_chunk_body(on_body);
      http::read_header(client, client.buffer(), parser);
    }
    void read_until(std::string_view text) {
      while (received.find(text) == std::string::npos && !parser.is_done()) {
        http::read_some(client, client.buffer(), parser);
      }
    }
    HttpTestClient& client;
    http::response_parser<http::string_body> parser;
    std::string received;
    std::function<std::size_t(std::uint64_t, boost::beast::string_view, boost::system::error_code&)> on_body =
        [this](std::uint64_t, boost::beast::string_view body, boost::system::error_code&) {
          received.append(body.data(), body.size());
          return body.size();
        };
  };

  MetricsRegistry registry_;
  HttpMetrics metrics_{registry_};
  ControlLoopHandler handler_;
  std::optional<HttpServer> server_;  // after the handler: stopped first
};

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnectionFromTheControlThread) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.read_response();
  EXPECT_EQ(first.result_int(), 200U);
  EXPECT_EQ(first.body(), "hello");
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(first["X-Control-Thread"], "yes");
  EXPECT_EQ(first[http::field::server], "chorus");

  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nworld"));
  auto second = client.read_response();
  EXPECT_EQ(second.result_int(), 200U);
  EXPECT_EQ(second.body(), "world");
  EXPECT_EQ(server_->connections(), 1U);
  EXPECT_NE(registry_.render().find("chorus_http_responses_total{code=\"2xx\"} 2\n"), std::string::npos);
}

// Issue 13: the session writes the header block it formats itself; the bytes on the wire must stay
// those of Beast's serializer (status line, fields in order, Content-Length, the body), for
// HTTP/1.1 keep-alive and HTTP/1.0 answers alike.
TEST_F(HttpServerTest, AnAnswerIsTheBytesBeastsSerializerWrites) {
  start();
  for (const unsigned version : {11U, 10U}) {
    HttpTestClient client(port());
    const std::string request =
        version == 11 ? "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /hello HTTP/1.0\r\n\r\n";
    ASSERT_TRUE(client.send(request));
    BeastResponse expected{http::status::ok, version};
    expected.set(http::field::content_type, "text/plain");
    expected.set("X-Control-Thread", "yes");
    expected.keep_alive(version == 11);
    expected.set(http::field::server, "chorus");
    expected.body() = "hello";
    expected.prepare_payload();
    std::ostringstream beast_bytes;
    beast_bytes << expected;
    std::string wire;
    char chunk[1024];
    while (wire.size() < beast_bytes.str().size()) {
      boost::system::error_code ec;
      const auto got = client.read_some(boost::asio::buffer(chunk), ec);
      if (ec) break;
      wire.append(chunk, got);
    }
    EXPECT_EQ(wire, beast_bytes.str()) << "HTTP/" << version / 10 << "." << version % 10;
  }
}

TEST_F(HttpServerTest, ConnectionCloseRequestIsAnsweredThenClosed) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413ThenClose) {
  start();
  HttpTestClient client(port());
  const std::string body(2 * 1024 * 1024, 'x');
  // The server answers after the header and drains the body it refused, so this send completes.
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 413U);
  EXPECT_EQ(response[http::field::content_type], "application/problem+json");
  EXPECT_NE(response.body().find("payload-too-large"), std::string::npos);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  start({.body_limit = 1000});
  HttpTestClient client(port());
  const std::string chunk(800, 'y');
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                          "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  EXPECT_EQ(client.read_response().result_int(), 413U);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
  EXPECT_EQ(client.read_response().result_int(), 100U);
  ASSERT_TRUE(client.send("ok"));
  auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_EQ(response.body(), "ok");
}

TEST_F(HttpServerTest, HeaderBlockOverTheLimitIs431) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20 * 1024, 'h') + "\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 431U);
  EXPECT_NE(response.body().find("headers-too-large"), std::string::npos);
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost t\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 400U);
  EXPECT_EQ(response[http::field::content_type], "application/problem+json");
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndTheConnectionSurvives) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(client.read_response().result_int(), 500U);
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(client.read_response().result_int(), 200U);
}

TEST_F(HttpServerTest, ANewConnectionThatSendsNothingIsClosedAtTheHeaderTimeout) {
  start({.header_timeout = 200ms});
  HttpTestClient client(port());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_closed());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  EXPECT_TRUE(wait_until([&] { return server_->connections() == 0; }));
  EXPECT_NE(registry_.render().find("chorus_http_request_timeouts_total{phase=\"header\"} 1\n"), std::string::npos);
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedAtTheIdleTimeout) {
  start({.idle_timeout = 200ms, .header_timeout = 5s});
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(client.read_response().result_int(), 200U);
  const auto answered = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_closed());
  EXPECT_GE(std::chrono::steady_clock::now() - answered, 150ms);
}

TEST_F(HttpServerTest, AKeepAliveRequestsHeaderDeadlineStartsAtItsFirstByte) {
  // Pooled clients reuse a connection that sat idle longer than the header timeout: that is the
  // idle timeout's business, not a slow request.
  start({.idle_timeout = 5s, .header_timeout = 200ms});
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(client.read_response().result_int(), 200U);
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(client.read_response().result_int(), 200U);
}

TEST_F(HttpServerTest, AHeaderTrickledOneByteAtATimeGets408ThenClose) {
  start({.header_timeout = 300ms});
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nX"));
  // Slowloris: a byte every 50 ms for a second never completes the header and never moves the
  // deadline. (The server drains what we send after its answer, so these sends succeed.)
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
    if (!client.send("x")) break;
  }
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 408U);
  EXPECT_EQ(std_view(response[http::field::content_type]), kProblemContentType);
  EXPECT_NE(response.body().find("request-timeout"), std::string::npos) << response.body();
  EXPECT_TRUE(client.wait_closed());
  EXPECT_NE(registry_.render().find("chorus_http_request_timeouts_total{phase=\"header\"} 1\n"), std::string::npos);
}

TEST_F(HttpServerTest, ABodyThatStopsComingGets408) {
  start({.body_timeout = 300ms});
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 408U);
  EXPECT_TRUE(client.wait_closed());
  const auto text = registry_.render();
  EXPECT_NE(text.find("chorus_http_request_timeouts_total{phase=\"body\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_request_timeouts_total{phase=\"header\"} 0\n"), std::string::npos) << text;
}

TEST_F(HttpServerTest, OneAddressPastItsConnectionCapGets503WhileAnotherIsServed) {
  start({.max_connections_per_ip = 2});
  HttpTestClient a(port());
  HttpTestClient b(port());
  for (auto* client : {&a, &b}) {
    ASSERT_TRUE(client->send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(client->read_response().result_int(), 200U);
  }
  HttpTestClient refused(port());
  const auto response = refused.read_response();
  EXPECT_EQ(response.result_int(), 503U);
  EXPECT_EQ(response[http::field::retry_after], "1");
  EXPECT_NE(response.body().find("your address"), std::string::npos) << response.body();
  EXPECT_TRUE(refused.wait_closed());

  HttpTestClient other(port(), 5s, "127.0.0.2");  // loopback is one /8: a second source address
  ASSERT_TRUE(other.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(other.read_response().result_int(), 200U);
  const auto text = registry_.render();
  EXPECT_NE(text.find("chorus_http_connections_refused_per_ip_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_connections_rejected_total 0\n"), std::string::npos) << text;

  a.close();  // its count is released when its session ends
  ASSERT_TRUE(wait_until([&] { return server_->connections() <= 2; }));
  HttpTestClient later(port());
  ASSERT_TRUE(later.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(later.read_response().result_int(), 200U);
}

TEST_F(HttpServerTest, ConnectionOverTheCapGets503) {
  start({.max_connections = 2});
  HttpTestClient a(port());
  HttpTestClient b(port());
  for (auto* client : {&a, &b}) {
    ASSERT_TRUE(client->send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(client->read_response().result_int(), 200U);
  }
  HttpTestClient refused(port());
  auto response = refused.read_response();
  EXPECT_EQ(response.result_int(), 503U);
  EXPECT_EQ(response[http::field::retry_after], "1");
  EXPECT_NE(registry_.render().find("chorus_http_connections_rejected_total 1\n"), std::string::npos);

  a.close();
  ASSERT_TRUE(wait_until([&] { return server_->connections() <= 1; }));
  HttpTestClient later(port());
  ASSERT_TRUE(later.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(later.read_response().result_int(), 200U);
}

TEST_F(HttpServerTest, EventStreamDeliversEventsAndEndsWhenTheClientCloses) {
  start();
  auto client = std::make_unique<HttpTestClient>(port());
  ASSERT_TRUE(client->send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"));
  StreamReader reader(*client);
  EXPECT_EQ(reader.parser.get().result_int(), 200U);
  EXPECT_EQ(reader.parser.get()[http::field::content_type], "text/event-stream");
  EXPECT_TRUE(reader.parser.chunked());
  auto queue = handler_.wait_for_stream(0);
  ASSERT_TRUE(queue);
  EXPECT_TRUE(queue->push(format_event("room.updated", R"({"id":"1000"})", "1")));
  EXPECT_TRUE(queue->push(format_event("room.deleted", R"({"id":"7"})", "2")));
  reader.read_until("id: 2");
  reader.read_until("\n\n");
  EXPECT_EQ(reader.received,
            "event: room.updated\nid: 1\ndata: {\"id\":\"1000\"}\n\n"
            "event: room.deleted\nid: 2\ndata: {\"id\":\"7\"}\n\n");

  client.reset();  // the client goes away
  EXPECT_TRUE(wait_until([&] { return queue->ended(); }));
  EXPECT_TRUE(wait_until([&] { return server_->connections() == 0; }));
  EXPECT_FALSE(queue->push("data: late\n\n"));
}

TEST_F(HttpServerTest, QuietEventStreamGetsKeepaliveComments) {
  start({.keepalive_interval = 100ms});
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  StreamReader reader(client);
  reader.read_until(": keepalive\n\n");
  EXPECT_TRUE(reader.received.starts_with(": keepalive\n\n"));
}

TEST_F(HttpServerTest, EventStreamEndsWithTheLastChunkWhenTheSourceFinishes) {
  start();
  HttpTestClient client(port());
  ASSERT_TRUE(client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  StreamReader reader(client);
  auto queue = handler_.wait_for_stream(0);
  ASSERT_TRUE(queue);
  queue->push(format_event("bye", "now"));
  queue->finish();
  reader.read_until("no such text");  // returns when the chunked body is complete
  EXPECT_TRUE(reader.parser.is_done());
  EXPECT_EQ(reader.received, "event: bye\ndata: now\n\n");
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, StopWithOpenConnectionsReturnsPromptly) {
  start();
  HttpTestClient idle(port());
  ASSERT_TRUE(idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(idle.read_response().result_int(), 200U);
  HttpTestClient streaming(port());
  ASSERT_TRUE(streaming.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  StreamReader reader(streaming);
  auto queue = handler_.wait_for_stream(0);
  ASSERT_TRUE(queue);
  HttpTestClient silent(port());  // connected, never sends
  ASSERT_TRUE(wait_until([&] { return server_->connections() == 3; }));

  const auto started = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(silent.wait_closed());
  EXPECT_TRUE(queue->ended());
  EXPECT_THROW(HttpTestClient late(port()), std::runtime_error);  // nothing listens any more
}

TEST_F(HttpServerTest, StartReportsBadAddressAndPortInUse) {
  start();
  HttpServer clash({.bind_address = "127.0.0.1", .port = port()}, handler_);
  auto result = clash.start();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("cannot listen for HTTP on 127.0.0.1:"), std::string::npos) << result.error();
  HttpServer bad({.bind_address = "not-an-address", .port = 0}, handler_);
  auto bad_result = bad.start();
  ASSERT_FALSE(bad_result);
  EXPECT_NE(bad_result.error().find("bad HTTP bind address"), std::string::npos) << bad_result.error();
}

// EventStreamQueue on its own, driven by a local io_context.
class EventStreamQueueTest : public ::testing::Test {
 protected:
  StreamPull pull(std::chrono::milliseconds timeout) {
    std::optional<StreamPull> result;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> { result = co_await queue_->next(timeout); }, asio::detached);
    io_.restart();
    io_.run_for(5s);
    return result.value_or(StreamPull{StreamPull::Kind::kEnd, "did not complete"});
  }
  asio::io_context io_;
  std::shared_ptr<EventStreamQueue> queue_ = std::make_shared<EventStreamQueue>(2);
};

TEST_F(EventStreamQueueTest, QueuedChunksComeInOrderThenTimeout) {
  queue_->push("a");
  queue_->push("b");
  auto first = pull(1s);
  EXPECT_EQ(first.kind, StreamPull::Kind::kChunk);
  EXPECT_EQ(first.chunk, "a");
  EXPECT_EQ(pull(1s).chunk, "b");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(pull(50ms).kind, StreamPull::Kind::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
}

TEST_F(EventStreamQueueTest, PushFromAnotherThreadWakesTheWaiter) {
  std::thread producer([queue = queue_] {
    std::this_thread::sleep_for(50ms);
    queue->push("late");
  });
  auto result = pull(5s);
  producer.join();
  EXPECT_EQ(result.kind, StreamPull::Kind::kChunk);
  EXPECT_EQ(result.chunk, "late");
}

TEST_F(EventStreamQueueTest, FinishDrainsThenEnds) {
  queue_->push("last");
  queue_->finish();
  EXPECT_FALSE(queue_->push("after"));
  EXPECT_EQ(pull(1s).chunk, "last");
  EXPECT_EQ(pull(1s).kind, StreamPull::Kind::kEnd);
}

TEST_F(EventStreamQueueTest, SlowConsumerIsCutOff) {
  EXPECT_TRUE(queue_->push("1"));
  EXPECT_TRUE(queue_->push("2"));
  EXPECT_FALSE(queue_->push("3"));  // max_queued 2
  EXPECT_TRUE(queue_->overflowed());
  EXPECT_TRUE(queue_->ended());
  EXPECT_EQ(pull(1s).kind, StreamPull::Kind::kEnd);
}

TEST(EventStreamFormat, FramesFieldsAndSplitsDataLines) {
  EXPECT_EQ(format_event("", "x"), "data: x\n\n");
  EXPECT_EQ(format_event("meeting.created", "{}", "42"), "event: meeting.created\nid: 42\ndata: {}\n\n");
  EXPECT_EQ(format_event("e", "one\ntwo\r\nthree\rfour"),
            "event: e\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
  EXPECT_EQ(format_event("bad\nname", "x"), "event: bad name\ndata: x\n\n");
}

}  // namespace http_server_test
}  // namespace chorus::rest
