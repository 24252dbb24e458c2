// GET /v1/events through the Router: the answer is an event stream whose queue holds the replay
// after Last-Event-ID (header or query), then live events; a stream.reset when the backlog is
// gone; the ?types= filter; the scope; that a stream's subscription is released once its
// client has gone; and the issue-12 limits: streams per key (429) and overall (503), and a
// deleted key's streams ending at the next revalidation.
#include "rest-api/api/event_routes.hpp"

#include <utility>  // before Boost 1.74 awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <regex>

#include "common/timer_queue.hpp"
#include "rest-api/event_stream.hpp"
#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace event_routes_test {

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

// How a source ends: kEnd once it finished (or was closed), kTimeout while it is still live.
StreamPull::Kind drain(EventStreamSource& source) {
  StreamPull::Kind last = StreamPull::Kind::kTimeout;
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          StreamPull pull = co_await source.next(0ms);
          last = pull.kind;
          if (pull.kind != StreamPull::Kind::kChunk) co_return;
        }
      },
      asio::detached);
  io.run();
  return last;
}

class EventRoutesTest : public AdminApiTest {
 protected:
  static constexpr std::size_t kPerKey = 3;
  static constexpr std::size_t kOverall = 8;

  void SetUp() override {
    services_.event_streams = {.max_per_key = kPerKey, .max_streams = kOverall, .revalidate_interval = 1000ms};
    services_.timers = &timers_;
    add_event_routes(router_, services_);
    add_api_key_routes(router_, services_);
  }

  // A new API key with rooms:read: {id, token}.
  std::pair<std::string, std::string> reader_key(const std::string& name) {
    const auto key =
        body_of(call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", name}, {"scopes", {"rooms:read"}}}));
    return {key["id"].get<std::string>(), key["token"].get<std::string>()};
  }

  HttpResponse get_events(std::string_view token) { return call(http::verb::get, "/v1/events", token); }

  ManualTimerQueue timers_;

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

TEST_F(EventRoutesTest, OpenStreamsAreBoundedOverall) {
  std::vector<std::shared_ptr<EventStreamSource>> streams;
  for (std::size_t k = 0; streams.size() < kOverall; ++k) {
    const auto [id, token] = reader_key("reader-" + std::to_string(k));
    for (std::size_t i = 0; i < kPerKey && streams.size() < kOverall; ++i) {
      auto response = get_events(token);
      ASSERT_EQ(response.status(), 200U) << response.message.body();
      streams.push_back(response.stream);
    }
  }
  const auto refused = get_events(kAdminToken);
  EXPECT_EQ(refused.status(), 503U);
  EXPECT_FALSE(header_of(refused, http::field::retry_after).empty());
  streams.back()->close();
  EXPECT_EQ(get_events(kAdminToken).status(), 200U);
  EXPECT_NE(metrics_.render().find("chorus_http_event_streams_refused_total{reason=\"global\"} 1\n"),
            std::string::npos);
}

TEST_F(EventRoutesTest, AKeyPastItsStreamCapGets429WhileOtherKeysOpen) {
  const auto [a_id, a_token] = reader_key("a");
  const auto [b_id, b_token] = reader_key("b");
  std::vector<std::shared_ptr<EventStreamSource>> a_streams;
  for (std::size_t i = 0; i < kPerKey; ++i) {
    auto response = get_events(a_token);
    ASSERT_EQ(response.status(), 200U);
    a_streams.push_back(response.stream);
  }
  const auto refused = get_events(a_token);
  EXPECT_EQ(refused.status(), 429U);
  EXPECT_EQ(refused.stream, nullptr);
  EXPECT_EQ(header_of(refused, http::field::content_type), kProblemContentType);
  EXPECT_EQ(body_of(refused)["type"], problem_type_uri(kProblemRateLimited));
  EXPECT_FALSE(header_of(refused, http::field::retry_after).empty());
  EXPECT_EQ(get_events(b_token).status(), 200U) << "another key has its own allowance";
  a_streams.front()->close();  // the client went away: its slot is free at the next open
  EXPECT_EQ(get_events(a_token).status(), 200U);
  EXPECT_NE(metrics_.render().find("chorus_http_event_streams_refused_total{reason=\"per_key\"} 1\n"),
            std::string::npos);
}

TEST_F(EventRoutesTest, TheAdminTokenHasAStreamCapToo) {
  std::vector<std::shared_ptr<EventStreamSource>> streams;
  for (std::size_t i = 0; i < kPerKey; ++i) streams.push_back(open("/v1/events"));
  EXPECT_EQ(get_events(kAdminToken).status(), 429U);
}

TEST_F(EventRoutesTest, DeletingAKeyEndsItsOpenStreamsAtTheNextRevalidation) {
  const auto [a_id, a_token] = reader_key("a");
  const auto [b_id, b_token] = reader_key("b");
  const auto a1 = get_events(a_token).stream;
  const auto a2 = get_events(a_token).stream;
  const auto b = get_events(b_token).stream;
  const auto admin = open("/v1/events");
  ASSERT_TRUE(a1 && a2 && b && admin);
  ASSERT_EQ(call(http::verb::delete_, "/v1/api-keys/" + a_id).status(), 204U);
  timers_.advance(500ms);
  EXPECT_EQ(drain(*a1), StreamPull::Kind::kTimeout) << "ends at the revalidation, not before";
  timers_.advance(500ms);
  EXPECT_EQ(drain(*a1), StreamPull::Kind::kEnd);
  EXPECT_EQ(drain(*a2), StreamPull::Kind::kEnd);
  EXPECT_EQ(drain(*b), StreamPull::Kind::kTimeout);
  EXPECT_EQ(drain(*admin), StreamPull::Kind::kTimeout);
  EXPECT_NE(metrics_.render().find("chorus_http_event_streams_revoked_total 2\n"), std::string::npos);
  // The live streams are still fed, and checked again on the next turn.
  publish_rooms(1);
  EXPECT_EQ(messages(take_all(*b)), (Messages{{"room.created", 1}}));
  ASSERT_EQ(call(http::verb::delete_, "/v1/api-keys/" + b_id).status(), 204U);
  timers_.advance(1000ms);
  EXPECT_EQ(drain(*b), StreamPull::Kind::kEnd);
  EXPECT_EQ(drain(*admin), StreamPull::Kind::kTimeout);
}

TEST_F(EventRoutesTest, NoRevalidationIsScheduledWithoutOpenStreams) {
  EXPECT_EQ(timers_.pending(), 0U);
  const auto stream = open("/v1/events");
  EXPECT_EQ(timers_.pending(), 1U);
  stream->close();
  timers_.advance(1000ms);  // swept: nothing left to check, so no next turn
  EXPECT_EQ(timers_.pending(), 0U);
}

}  // namespace event_routes_test
}  // namespace chorus::rest::test
