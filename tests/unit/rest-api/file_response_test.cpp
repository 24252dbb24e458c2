// File downloads end to end: a real HttpServer on 127.0.0.1 whose handler answers with
// file_download() on a "control" thread (as the server wiring does), a ~1 MB file of known
// pseudo-random bytes, and a blocking socket client. Every wait is bounded.
#include "rest-api/file_response.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "rest-api/http_server.hpp"
#include "tests/unit/rest-api/http_test_client.hpp"
#include "tests/unit/test_support/temp_dir.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::rest {
namespace file_response_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using chorus::test::TempDir;
using chorus::test::wait_until;
using test::HttpTestClient;

// Not a multiple of the session's 64 KiB chunk, so the last chunk is a short one.
constexpr std::size_t kFileSize = 1'000'003;
// Sparse, so it costs no disk: far more than the loopback socket buffers hold.
constexpr std::uintmax_t kLargeFileSize = 256ULL * 1024 * 1024;
// The client's parsers take any Content-Length. Not boost::none: Beast 1.74 compares the length
// with the optional limit directly, and a length is always greater than none.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

std::string pseudo_random_bytes(std::size_t size) {
  std::mt19937 generator(20240531);  // fixed seed: the same bytes every run
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  return bytes;
}

// Whether a descriptor of this process refers to `path` (an unlinked file's link reads
// "<path> (deleted)"): proves the response's descriptor is closed once the download is over.
bool descriptor_open_to(const fs::path& path) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    const auto target = fs::read_symlink(entry.path(), ec);
    if (!ec && target.string().starts_with(path.string())) return true;
  }
  return false;
}

std::string request(std::string_view target, std::string_view headers = {}, std::string_view method = "GET") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(headers) + "\r\n";
}

// Answers each request with `respond` on its own "control" thread, like the server wiring.
class ControlThreadHandler : public RequestHandler {
 public:
  explicit ControlThreadHandler(std::function<HttpResponse(const HttpRequest&)> respond)
      : respond_(std::move(respond)), work_(asio::make_work_guard(control_)), thread_([this] { control_.run(); }) {}
  ~ControlThreadHandler() override {
    work_.reset();
    thread_.join();
  }
  ControlThreadHandler(const ControlThreadHandler&) = delete;
  ControlThreadHandler& operator=(const ControlThreadHandler&) = delete;

  asio::awaitable<HttpResponse> handle(HttpRequest request) override {
    auto task = run_on_control(std::move(request));  // named first: GCC 12 (rest-api/README.md)
    auto response = co_await asio::co_spawn(control_.get_executor(), std::move(task), asio::use_awaitable);
    co_return response;
  }

 private:
  asio::awaitable<HttpResponse> run_on_control(HttpRequest request) { co_return respond_(request); }

  std::function<HttpResponse(const HttpRequest&)> respond_;
  asio::io_context control_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

class FileResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = pseudo_random_bytes(kFileSize);
    file_ = fs::canonical(dir_.file("recording.webm", content_));
    ASSERT_EQ(fs::file_size(file_), kFileSize);
    large_ = fs::canonical(dir_.path()) / "large.webm";
    {
      std::ofstream{large_};
    }
    fs::resize_file(large_, kLargeFileSize);
    server_.emplace(HttpServerConfig{.bind_address = "127.0.0.1", .port = 0}, handler_);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
  }

  HttpResponse respond(const HttpRequest& request) {
    const auto target = std_view(request.message.target());
    const auto range = range_to_honour(request.message);
    if (target == "/recording") return file_download(file_, "video/webm", range);
    if (target == "/unlinked") {
      auto response = file_download(file_, "video/webm", range);
      fs::remove(file_);  // after the response is built, before it is sent
      return response;
    }
    if (target == "/missing") return file_download(dir_.missing("none.webm"), "video/webm", range);
    if (target == "/directory") return file_download(dir_.path(), "video/webm", range);
    if (target == "/large") return file_download(large_, "video/webm", range);
    if (target == "/shrinking") {
      auto response = file_download(large_, "video/webm", range);
      fs::resize_file(large_, 0);  // the promised Content-Length can no longer be met
      return response;
    }
    return HttpResponse::empty(http::status::not_found);
  }

  std::uint16_t port() const { return server_->port(); }

  TempDir dir_;
  std::string content_;
  fs::path file_;
  fs::path large_;
  ControlThreadHandler handler_{[this](const HttpRequest& request) { return respond(request); }};
  std::optional<HttpServer> server_;  // after the handler: stopped first
};

TEST_F(FileResponseTest, FullGetReturnsTheWholeFileByteForByte) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_EQ(response[http::field::content_type], "video/webm");
  EXPECT_EQ(response[http::field::accept_ranges], "bytes");
  EXPECT_EQ(response[http::field::content_length], std::to_string(kFileSize));
  EXPECT_EQ(response.count(http::field::content_range), 0U);
  EXPECT_TRUE(response.keep_alive());
  ASSERT_EQ(response.body().size(), kFileSize);
  EXPECT_TRUE(response.body() == content_);  // not EXPECT_EQ: a mismatch would print 1 MB
  // The response's descriptor is closed once the download is over.
  EXPECT_TRUE(wait_until([&] { return !descriptor_open_to(file_); }));
}

TEST_F(FileResponseTest, RangeGives206WithThoseBytes) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=1000-1999\r\n")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 206U);
  EXPECT_EQ(response[http::field::content_range], "bytes 1000-1999/" + std::to_string(kFileSize));
  EXPECT_EQ(response[http::field::accept_ranges], "bytes");
  EXPECT_EQ(response[http::field::content_length], "1000");
  EXPECT_TRUE(response.body() == content_.substr(1000, 1000));
}

TEST_F(FileResponseTest, RangeAcrossSeveralChunksGivesThoseBytes) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=65000-300000\r\n")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 206U);
  EXPECT_TRUE(response.body() == content_.substr(65000, 235001));
}

TEST_F(FileResponseTest, SuffixRangeGivesTheLastBytes) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=-100\r\n")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 206U);
  EXPECT_EQ(response[http::field::content_range], "bytes " + std::to_string(kFileSize - 100) + "-" +
                                                      std::to_string(kFileSize - 1) + "/" + std::to_string(kFileSize));
  EXPECT_TRUE(response.body() == content_.substr(kFileSize - 100));
}

TEST_F(FileResponseTest, RangePastTheEndIs416WithTheSize) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=5000000-\r\n")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 416U);
  EXPECT_EQ(response[http::field::content_range], "bytes */" + std::to_string(kFileSize));
  EXPECT_EQ(response[http::field::content_type], "application/problem+json");
  EXPECT_NE(response.body().find("range-not-satisfiable"), std::string::npos);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_TRUE(wait_until([&] { return !descriptor_open_to(file_); }));
}

TEST_F(FileResponseTest, TwoDownloadsOnOneKeepAliveConnection) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording")));
  const auto first = client.read_response();
  EXPECT_EQ(first.result_int(), 200U);
  EXPECT_TRUE(first.body() == content_);
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=999000-\r\n")));
  const auto second = client.read_response();
  EXPECT_EQ(second.result_int(), 206U);
  EXPECT_TRUE(second.body() == content_.substr(999000));
  EXPECT_EQ(server_->connections(), 1U);
}

TEST_F(FileResponseTest, FileUnlinkedAfterTheResponseIsBuiltStillDownloads) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/unlinked")));
  const auto response = client.read_response();
  EXPECT_FALSE(fs::exists(file_));
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_TRUE(response.body() == content_);
  EXPECT_TRUE(wait_until([&] { return !descriptor_open_to(file_); }));  // the space is freed
}

TEST_F(FileResponseTest, MissingFileOrDirectoryIs404Problem) {
  HttpTestClient client(port());
  for (const char* target : {"/missing", "/directory"}) {
    ASSERT_TRUE(client.send(request(target)));
    const auto response = client.read_response();
    EXPECT_EQ(response.result_int(), 404U) << target;
    EXPECT_EQ(response[http::field::content_type], "application/problem+json") << target;
    EXPECT_TRUE(response.keep_alive()) << target;
  }
}

TEST_F(FileResponseTest, HeadSendsTheHeadersOnlyAndIgnoresRange) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=0-9\r\n", "HEAD")));
  http::response_parser<http::empty_body> head;
  head.skip(true);  // RFC 9110 §9.3.2: no content follows a HEAD response's header
  http::read(client, client.buffer(), head);
  EXPECT_EQ(head.get().result_int(), 200U);  // §14.2: Range is defined for GET only
  EXPECT_EQ(head.get()[http::field::content_length], std::to_string(kFileSize));
  // Had any body bytes followed the header, they would be parsed as this response.
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=0-9\r\n")));
  const auto next = client.read_response();
  EXPECT_EQ(next.result_int(), 206U);
  EXPECT_TRUE(next.body() == content_.substr(0, 10));
}

TEST_F(FileResponseTest, IfRangeServesTheWholeFile) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/recording", "Range: bytes=0-9\r\nIf-Range: \"some-etag\"\r\n")));
  const auto response = client.read_response();
  EXPECT_EQ(response.result_int(), 200U);  // RFC 9110 §13.1.5: we sent no validator that could match
  EXPECT_EQ(response.body().size(), kFileSize);
}

TEST_F(FileResponseTest, StopAbortsADownloadInProgress) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/large")));
  http::response_parser<http::empty_body> parser;
  parser.body_limit(kNoBodyLimit);
  http::read_header(client, client.buffer(), parser);
  ASSERT_EQ(parser.get().result_int(), 200U);
  ASSERT_TRUE(descriptor_open_to(large_));
  // The client reads no more: the session now waits on a full socket buffer.
  server_->stop();
  EXPECT_EQ(server_->connections(), 0U);  // the session ended on its own, within stop()'s grace
  EXPECT_FALSE(descriptor_open_to(large_));
  std::uint64_t received = client.buffer().size();
  char scratch[64 * 1024];
  boost::system::error_code ec;
  while (!ec) received += client.read_some(boost::asio::buffer(scratch), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
  EXPECT_LT(received, kLargeFileSize);
}

TEST_F(FileResponseTest, FileCutShortClosesTheConnection) {
  HttpTestClient client(port());
  ASSERT_TRUE(client.send(request("/shrinking")));
  http::response_parser<http::string_body> parser;
  parser.body_limit(kNoBodyLimit);
  http::read_header(client, client.buffer(), parser);
  ASSERT_EQ(parser.get()[http::field::content_length], std::to_string(kLargeFileSize));
  // Fewer bytes than Content-Length, then the close: an incomplete response (RFC 9112 §8).
  EXPECT_THROW(http::read(client, client.buffer(), parser), boost::system::system_error);
  EXPECT_FALSE(parser.is_done());
  EXPECT_TRUE(wait_until([&] { return server_->connections() == 0; }));
}

TEST(RangeToHonour, GetWithRangeIsHonoured) {
  BeastRequest get{http::verb::get, "/r", 11};
  get.set(http::field::range, "bytes=0-9");
  EXPECT_EQ(range_to_honour(get), "bytes=0-9");
  get.erase(http::field::range);
  EXPECT_EQ(range_to_honour(get), "");
}

TEST(RangeToHonour, OtherMethodsAndIfRangeIgnoreIt) {
  BeastRequest head{http::verb::head, "/r", 11};
  head.set(http::field::range, "bytes=0-9");
  EXPECT_EQ(range_to_honour(head), "");
  BeastRequest conditional{http::verb::get, "/r", 11};
  conditional.set(http::field::range, "bytes=0-9");
  conditional.set(http::field::if_range, "\"v1\"");
  EXPECT_EQ(range_to_honour(conditional), "");
}

TEST(FileDownload, EmptyFileIsA200WithNoBytesAndRangesOfItAre416) {
  TempDir dir;
  const auto path = dir.file("empty.webm", "");
  const auto whole = file_download(path, "video/webm", "");
  EXPECT_EQ(whole.status(), 200U);
  ASSERT_NE(whole.file, nullptr);
  EXPECT_EQ(whole.file->length(), 0U);
  const auto ranged = file_download(path, "video/webm", "bytes=0-");
  EXPECT_EQ(ranged.status(), 416U);
  EXPECT_EQ(ranged.file, nullptr);
  EXPECT_EQ(ranged.message[http::field::content_range], "bytes */0");
}

}  // namespace file_response_test
}  // namespace chorus::rest
