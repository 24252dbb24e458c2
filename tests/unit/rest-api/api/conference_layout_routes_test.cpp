// An mcu room's layout over REST (issue 11): PATCH /v1/conferences/{id} with `layout` and
// `pinned_participant`, what GET shows, the `layout.changed` event, and the 422 refusals (a layout
// nobody knows, a participant who is not there, a room that composes nothing).
#include <gtest/gtest.h>

#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace conference_layout_routes_test {

class ConferenceLayoutRoutesTest : public ConferenceApiTest {
 protected:
  void make_room_mcu() {
    conference::Room room = *rooms_.find("1000");
    room.mode = conference::RoomMode::kMcu;
    ASSERT_TRUE(rooms_.replace(room));
  }
  // A participant in room 1000, reached by dialling out to a callee that answers.
  std::string join() {
    const auto response = dial({{"to", "sip:alice@127.0.0.1:5090"}});
    EXPECT_EQ(response.status(), 202U) << response.message.body();
    callee_responds(last_invite(), 200);
    return body_of(response)["id"];
  }
  HttpResponse patch(json body) {
    return call({.method = http::verb::patch, .target = "/v1/conferences/1000", .body = std::move(body)});
  }
};

TEST_F(ConferenceLayoutRoutesTest, AnMcuRoomStartsInGridAndChangesLayoutWithAnEvent) {
  make_room_mcu();
  join();
  const json conference = body_of(get("/v1/conferences/1000"));
  EXPECT_EQ(conference["mode"], "mcu");
  EXPECT_EQ(conference["layout"], "grid");
  EXPECT_TRUE(conference["pinned_participant"].is_null());

  const auto response = patch({{"layout", "speaker"}});
  ASSERT_EQ(response.status(), 200U) << response.message.body();
  EXPECT_EQ(body_of(response)["layout"], "speaker");
  EXPECT_EQ(body_of(get("/v1/conferences/1000"))["layout"], "speaker");
  const json event = last_event_of("layout.changed");
  EXPECT_EQ(event["conference_id"], "1000");
  EXPECT_EQ(event["layout"], "speaker");
}

TEST_F(ConferenceLayoutRoutesTest, APinnedParticipantIsShownAndCanBeUnpinned) {
  make_room_mcu();
  const std::string id = join();
  const auto pinned = patch({{"pinned_participant", id}});
  ASSERT_EQ(pinned.status(), 200U) << pinned.message.body();
  EXPECT_EQ(body_of(pinned)["pinned_participant"], id);
  EXPECT_EQ(body_of(pinned)["layout"], "grid") << "pinning keeps the layout";
  const auto unpinned = patch({{"pinned_participant", nullptr}});
  ASSERT_EQ(unpinned.status(), 200U);
  EXPECT_TRUE(body_of(unpinned)["pinned_participant"].is_null());
}

TEST_F(ConferenceLayoutRoutesTest, UnknownLayoutsAndAbsentParticipantsAreRefusedAndChangeNothing) {
  make_room_mcu();
  join();
  const auto bad = patch({{"layout", "mosaic"}, {"pinned_participant", "999"}});
  EXPECT_EQ(bad.status(), 422U);
  const auto fields = error_fields(bad);
  EXPECT_NE(std::ranges::find(fields, "/layout"), fields.end());
  EXPECT_NE(std::ranges::find(fields, "/pinned_participant"), fields.end());
  EXPECT_EQ(patch({{"layout", 3}}).status(), 422U);
  EXPECT_EQ(body_of(get("/v1/conferences/1000"))["layout"], "grid");
  EXPECT_TRUE(last_event_of("layout.changed").is_null()) << "nothing changed, nothing published";
}

TEST_F(ConferenceLayoutRoutesTest, AnSfuRoomHasNoLayoutToSet) {
  join();
  EXPECT_TRUE(body_of(get("/v1/conferences/1000"))["layout"].is_null());
  const auto refused = patch({{"layout", "speaker"}});
  EXPECT_EQ(refused.status(), 422U);
  EXPECT_EQ(error_fields(refused), std::vector<std::string>{"/layout"});
}

}  // namespace conference_layout_routes_test
}  // namespace chorus::rest::api_test
