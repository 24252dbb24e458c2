// GET /v1/events through the Router: the answer is an event stream whose queue holds the replay
// after Last-Event-ID (header or query), then live events; a stream.reset when the backlog is
// gone; the ?types= filter; the scope; and that a stream's subscription is released once its
// client has gone.
#include "rest-api/api/event_routes.hpp"

#include <utility>  // before Boost 1.74 awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <regex>

#include "rest-api/event_stream.hpp"
#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace {

namespace asio = boost::asio;
namespace event_type = conference::event_type;
using namespace std::chrono_literals;

// Everything the source holds now, concatenated (pulls with a zero timeout until one times out).
std::string take_all(EventStreamSource& source) {
  std::string text;
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          StreamPull pull = co_await source.next(0ms);
          if (pull.kind != StreamPull::Kind::kChunk) co_return;
          text += pull.chunk;
        }
      },
      asio::detached);
  io.run();
  return text;
}

// The (event, id) of each SSE message in `text`; id 0 when it has none.
std::vector<std::pair<std::string, std::uint64_t>> messages(const std::string& text) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\n\n", start);
    const std::string block = text.substr(start, end - start);
    std::smatch match;
    std::string name;
    std::uint64_t id = 0;
    if (std::regex_search(block, match, std::regex("(^|\n)event: ([^\n]*)"))) name = match[2];
    if (std::regex_search(block, match, std::regex("(^|\n)id: ([0-9]+)"))) id = std::stoull(match[2]);
    out.emplace_back(name, id);
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return out;
}

using Messages = std::vector<std::pair<std::string, std::uint64_t>>;

class EventRoutesTest : public AdminApiTest {
 protected:
  void SetUp() override {
    add_event_routes(router_, services_);
    add_api_key_routes(router_, services_);
  }

  void publish_rooms(int count) {
    for (int i = 0; i < count; ++i) events_.publish(event_type::kRoomCreated, {{"room_id", std::to_string(i)}});
  }

  std::shared_ptr<EventStreamSource> open(const std::string& target, std::vector<Header> headers = {}) {
    auto response = call(http::verb::get, target, kAdminToken, nullptr, std::move(headers));
    EXPECT_EQ(response.status(), 200U) << response.message.body();
    EXPECT_EQ(header_of(response, http::field::content_type), kEventStreamContentType);
    EXPECT_NE(response.stream, nullptr);
    return response.stream;
  }
};

TEST_F(EventRoutesTest, ReplaysAfterLastEventIdThenGoesLive) {
  publish_rooms(3);  // ids 1..3
  const auto stream = open("/v1/events", {{"Last-Event-ID", "1"}});
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"room.created", 2}, {"room.created", 3}}));

  const auto live = events_.publish(event_type::kParticipantJoined, {{"room_id", "1000"}});
  const std::string text = take_all(*stream);
  EXPECT_EQ(text, conference::format_sse(live));
  EXPECT_EQ(messages(text), (Messages{{"participant.joined", 4}}));
  EXPECT_TRUE(take_all(*stream).empty());
}

TEST_F(EventRoutesTest, TheQueryParameterWorksLikeTheHeader) {
  publish_rooms(4);
  const auto stream = open("/v1/events?last_event_id=3");
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"room.created", 4}}));
}

TEST_F(EventRoutesTest, WithoutALastIdOnlyNewEventsAreSent) {
  publish_rooms(2);
  const auto stream = open("/v1/events");
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(take_all(*stream).empty());
  publish_rooms(1);
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"room.created", 3}}));
}

TEST_F(EventRoutesTest, ALostBacklogStartsWithStreamReset) {
  publish_rooms(2);
  // An id this log never reached (a previous run): reset, then all that is retained.
  const auto stream = open("/v1/events", {{"Last-Event-ID", "99"}});
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"stream.reset", 0}, {"room.created", 1}, {"room.created", 2}}));
}

TEST_F(EventRoutesTest, AnEventThatFellOutOfTheRingIsReportedLost) {
  conference::EventLog small(2);
  ApiServices services{.store = *store_,
                       .rooms = rooms_,
                       .calendar = calendar_,
                       .conference = conference_,
                       .events = small,
                       .metrics = metrics_};
  Router router(authenticator_, limiter_);
  add_event_routes(router, services);
  for (int i = 0; i < 4; ++i) small.publish(event_type::kRoomUpdated, {});  // the ring keeps 3 and 4

  const auto response =
      router.handle(make_request(http::verb::get, "/v1/events", kAdminToken, nullptr, {{"Last-Event-ID", "1"}}));
  ASSERT_EQ(response.status(), 200U);
  ASSERT_NE(response.stream, nullptr);
  const std::string text = take_all(*response.stream);
  EXPECT_EQ(messages(text), (Messages{{"stream.reset", 0}, {"room.updated", 3}, {"room.updated", 4}}));
  EXPECT_NE(text.find("\"last_event_id\":1"), std::string::npos) << text;
}

TEST_F(EventRoutesTest, FiltersByType) {
  events_.publish(event_type::kRoomCreated, {});
  events_.publish(event_type::kParticipantJoined, {});
  events_.publish(event_type::kParticipantLeft, {});
  const auto stream = open("/v1/events?types=participant.left,participant.joined&last_event_id=0");
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"participant.joined", 2}, {"participant.left", 3}}));
  events_.publish(event_type::kRoomDeleted, {});
  events_.publish(event_type::kParticipantLeft, {});
  EXPECT_EQ(messages(take_all(*stream)), (Messages{{"participant.left", 5}}));
}

TEST_F(EventRoutesTest, RefusesBadLastIdsAndUnknownTypes) {
  auto response = call(http::verb::get, "/v1/events", kAdminToken, nullptr, {{"Last-Event-ID", "abc"}});
  EXPECT_EQ(response.status(), 400U);
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"Last-Event-ID"});
  response = call(http::verb::get, "/v1/events?last_event_id=-1");
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"last_event_id"});
  response = call(http::verb::get, "/v1/events?types=room.created,room.exploded");
  EXPECT_EQ(response.status(), 400U);
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"types"});
  EXPECT_EQ(response.stream, nullptr);
}

TEST_F(EventRoutesTest, NeedsRoomsRead) {
  EXPECT_EQ(call(http::verb::get, "/v1/events", "").status(), 401U);
  const auto writer =
      body_of(call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", "writer"}, {"scopes", {"rooms:write"}}}));
  const auto refused = call(http::verb::get, "/v1/events", writer["token"].get<std::string>());
  EXPECT_EQ(refused.status(), 403U);
  EXPECT_EQ(refused.stream, nullptr);
  const auto reader =
      body_of(call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", "reader"}, {"scopes", {"rooms:read"}}}));
  const auto admitted = call(http::verb::get, "/v1/events", reader["token"].get<std::string>());
  EXPECT_EQ(admitted.status(), 200U);
  EXPECT_NE(admitted.stream, nullptr);
}

TEST_F(EventRoutesTest, AClosedStreamIsReleasedAtTheNextEvent) {
  std::weak_ptr<EventStreamSource> weak;
  {
    const auto stream = open("/v1/events");
    ASSERT_NE(stream, nullptr);
    weak = stream;
    stream->close();  // what the session does when the client goes away
  }
  EXPECT_FALSE(weak.expired()) << "still subscribed until the control loop sees it";
  publish_rooms(1);
  EXPECT_TRUE(weak.expired()) << "the subscription still holds the stream";
}

TEST_F(EventRoutesTest, AClosedStreamIsSweptWhenAnotherOpens) {
  std::weak_ptr<EventStreamSource> weak;
  {
    const auto stream = open("/v1/events");
    ASSERT_NE(stream, nullptr);
    weak = stream;
    stream->close();
  }
  const auto other = open("/v1/events");
  EXPECT_TRUE(weak.expired());
  publish_rooms(1);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(messages(take_all(*other)), (Messages{{"room.created", 1}}));
}

TEST_F(EventRoutesTest, OpenStreamsAreBounded) {
  std::vector<std::shared_ptr<EventStreamSource>> streams;
  for (std::size_t i = 0; i < kMaxEventStreams; ++i) {
    auto response = call(http::verb::get, "/v1/events");
    ASSERT_EQ(response.status(), 200U);
    streams.push_back(response.stream);
  }
  const auto refused = call(http::verb::get, "/v1/events");
  EXPECT_EQ(refused.status(), 503U);
  EXPECT_FALSE(header_of(refused, http::field::retry_after).empty());
  streams.back()->close();
  EXPECT_EQ(call(http::verb::get, "/v1/events").status(), 200U);
}

}  // namespace
}  // namespace chorus::rest::test
