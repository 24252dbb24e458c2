// Issue 13: GET /v1/rooms from RoomListSnapshot. Its pages are the bytes the store path gives; it
// goes stale with every RoomDirectory change (whoever makes it) and the next request on the control
// loop rebuilds it; while stale the HTTP thread (Router::handle_local) leaves the request to the
// loop, so a room created, changed or deleted through the API is in the very next list.
#include "rest-api/api/room_list_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conference/room_lock.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api_key_cache.hpp"
#include "tests/unit/rest-api/api/api_test_fixture.hpp"

namespace chorus::rest::api_test {
namespace room_list_snapshot_test {

using ::testing::ElementsAre;

class RoomListSnapshotTest : public ApiRoutesTest {
 protected:
  RoomListSnapshotTest() {
    services_->room_list = &snapshot_;
    rooms_.set_listener(&snapshot_);
    add_room_routes(router_with_snapshot_, *services_);
  }
  ~RoomListSnapshotTest() override { rooms_.set_listener(nullptr); }

  HttpRequest list_request(std::string target, std::string_view token) {
    HttpRequest request;
    request.message.method(http::verb::get);
    request.message.target(target);
    request.message.version(11);
    request.message.set(http::field::authorization, "Bearer " + std::string(token));
    return request;
  }
  // As the HTTP thread would: an answer, or nullopt for "ask the control loop".
  std::optional<HttpResponse> local_list(std::string target = "/v1/rooms", std::string_view token = kAdminToken) {
    return router_with_snapshot_.handle_local(list_request(std::move(target), token));
  }
  HttpResponse loop_list(std::string target = "/v1/rooms", std::string_view token = kAdminToken) {
    return router_with_snapshot_.handle(list_request(std::move(target), token));
  }
  std::vector<std::string> names(const HttpResponse& response) {
    std::vector<std::string> out;
    const json body = body_of(response);  // named: a range-for over a temporary's member would dangle
    for (const auto& room : body["items"]) out.push_back(room["name"]);
    return out;
  }
  // The body the store path builds (room_routes.cpp before issue 13), for comparison.
  std::string store_page(const std::string& after, std::size_t limit, bool with_pins) {
    const auto rooms = store_->list_rooms(after, limit + 1);
    if (!rooms) throw std::runtime_error(rooms.error().message);
    return HttpResponse::json(http::status::ok, page_body(*rooms, limit,
                                                          [with_pins](const conference::Room& room) {
                                                            return room_to_json(room, kSipHost, with_pins);
                                                          }))
        .message.body();
  }

  RoomListSnapshot snapshot_{std::string(kSipHost), kDefaultPageSize};
  ApiKeyCache cache_;
  CachingApiKeyLookup cached_keys_{keys_, cache_};
  Authenticator cached_authenticator_{kAdminToken, cached_keys_, &cache_};
  Router router_with_snapshot_{cached_authenticator_, limiter_};
};

TEST_F(RoomListSnapshotTest, PagesAreTheBytesOfTheStorePath) {
  for (const char* id : {"b1", "b2", "b3"}) {
    ASSERT_EQ(post("/v1/rooms", {{"id", id},
                                 {"name", std::string("Room \"") + id + "\" ü"},
                                 {"dial_in_number", std::string("66") + id[1]},
                                 {"pin", "123456"}})
                  .status(),
              201U);
  }
  ASSERT_TRUE(snapshot_.refresh(*store_).has_value());
  for (const bool with_pins : {false, true}) {
    for (const std::string after : {"", "1000", "b1", "b2", "c", "echo", "zzz"}) {
      for (const std::size_t limit : {1U, 2U, 5U, 50U, 200U}) {
        EXPECT_EQ(snapshot_.page(after, limit, with_pins), store_page(after, limit, with_pins))
            << "after=" << after << " limit=" << limit << " pins=" << with_pins;
      }
    }
  }
}

TEST_F(RoomListSnapshotTest, AnyDirectoryChangeMakesItStaleUntilRefreshed) {
  EXPECT_FALSE(snapshot_.current()) << "nothing built yet";
  ASSERT_TRUE(snapshot_.refresh(*store_).has_value());
  EXPECT_TRUE(snapshot_.current());
  // A change that is not a REST room write: the moderator's lock (conference/room_lock).
  ASSERT_TRUE(conference::set_room_locked(*store_, rooms_, nullptr, "1000", true).has_value());
  EXPECT_FALSE(snapshot_.current());
  ASSERT_TRUE(snapshot_.refresh(*store_).has_value());
  EXPECT_TRUE(snapshot_.current());
  EXPECT_EQ(body_of(HttpResponse::text(http::status::ok, snapshot_.page("", 50, false),
                                       kJsonContentType))["items"][0]["locked"],
            true);
}

TEST_F(RoomListSnapshotTest, RoomsCreatedChangedAndDeletedAreInTheNextList) {
  EXPECT_FALSE(local_list().has_value()) << "the first list is built on the control loop";
  ASSERT_EQ(loop_list().status(), 200U);
  const auto first = local_list();
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(names(*first), ElementsAre("Default room", "Echo test"));

  ASSERT_EQ(post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"dial_in_number", "4711"}}).status(), 201U);
  EXPECT_FALSE(local_list().has_value()) << "stale after the create: the loop answers";
  EXPECT_THAT(names(loop_list()), ElementsAre("Default room", "Board", "Echo test"));
  ASSERT_TRUE(local_list().has_value());
  EXPECT_THAT(names(*local_list()), ElementsAre("Default room", "Board", "Echo test"));

  ASSERT_EQ(patch("/v1/rooms/board", {{"name", "Boardroom"}}, "\"1\"").status(), 200U);
  EXPECT_FALSE(local_list().has_value());
  EXPECT_THAT(names(loop_list()), ElementsAre("Default room", "Boardroom", "Echo test"));

  ASSERT_EQ(del("/v1/rooms/board").status(), 204U);
  EXPECT_FALSE(local_list().has_value());
  EXPECT_THAT(names(loop_list()), ElementsAre("Default room", "Echo test"));
  ASSERT_TRUE(local_list().has_value());
  EXPECT_THAT(names(*local_list()), ElementsAre("Default room", "Echo test"));
}

TEST_F(RoomListSnapshotTest, LocalAnswersKeepPinsToSecretsAndPagesAndRefuseBadLimits) {
  ASSERT_EQ(patch("/v1/rooms/1000", {{"pin", "246810"}}, "\"1\"").status(), 200U);
  ASSERT_EQ(loop_list().status(), 200U);
  const auto admin = local_list("/v1/rooms?limit=1");
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(body_of(*admin)["items"][0]["pin"], "246810");
  EXPECT_EQ(body_of(*admin)["next_page_token"], "1000");

  ASSERT_EQ(loop_list("/v1/rooms", kReaderToken).status(), 200U);  // caches the reader's key
  const auto reader = local_list("/v1/rooms", kReaderToken);
  ASSERT_TRUE(reader.has_value());
  EXPECT_FALSE(body_of(*reader)["items"][0].contains("pin"));
  EXPECT_EQ(body_of(*reader)["items"][0]["pin_set"], true);

  const auto bad = local_list("/v1/rooms?limit=0");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status(), 400U);
}

}  // namespace room_list_snapshot_test
}  // namespace chorus::rest::api_test
