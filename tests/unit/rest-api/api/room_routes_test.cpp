// /v1/rooms through Router::handle with the real authenticator, SQLite store, RoomDirectory,
// MeetingCalendar, EventLog and ConferenceService: every status path (201/200/204/400/401/403/
// 404/405/409/412/415/422/428), the ETag round trip, pagination, the directory and the events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/rest-api/api/api_test_fixture.hpp"

namespace chorus::rest::api_test {
namespace room_routes_test {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using RoomRoutes = ApiRoutesTest;

TEST_F(RoomRoutes, CreateAnswers201WithLocationETagAndTheRoom) {
  const auto response =
      post("/v1/rooms",
           {{"id", "board"}, {"name", "Board room"}, {"dial_in_number", "4711"}, {"pin", "123456"}, {"mode", "sfu"}});
  ASSERT_EQ(response.status(), 201u) << response.message.body();
  EXPECT_EQ(header_of(response, http::field::location), "/v1/rooms/board");
  EXPECT_EQ(etag_of(response), "\"1\"");
  EXPECT_EQ(header_of(response, http::field::content_type), "application/json");
  const json room = body_of(response);
  EXPECT_EQ(room["id"], "board");
  EXPECT_EQ(room["sip_uri"], "sip:board@conf.example.org");
  EXPECT_EQ(room["pin"], "123456");
  EXPECT_EQ(room["pin_set"], true);
  EXPECT_EQ(room["moderator_pin"], nullptr);
  EXPECT_EQ(room["moderator_pin_set"], false);
  EXPECT_EQ(room["max_participants"], 100);  // the default
  EXPECT_EQ(room["encryption"], "optional");
  EXPECT_EQ(room["locked"], false);
  EXPECT_EQ(room["created_at"], "2026-03-10T12:00:00Z");

  // Durable in the store, visible to the SIP path, announced without its PIN.
  ASSERT_TRUE(store_->get_room("board"));
  ASSERT_NE(rooms_.find_by_dial_string("4711"), nullptr);
  EXPECT_EQ(rooms_.find_by_dial_string("4711")->id, "board");
  const auto event = last_event();
  EXPECT_EQ(event.type, "room.created");
  EXPECT_EQ(event.data["room_id"], "board");
  EXPECT_EQ(event.data["room"]["name"], "Board room");
  EXPECT_FALSE(event.data["room"].contains("pin"));
  EXPECT_EQ(event.data["room"]["pin_set"], true);
}

TEST_F(RoomRoutes, CreateWithoutIdGeneratesOne) {
  const auto response = post("/v1/rooms", {{"name", "Anonymous"}});
  ASSERT_EQ(response.status(), 201u) << response.message.body();
  const std::string id = body_of(response)["id"];
  EXPECT_TRUE(id.starts_with("r_")) << id;
  EXPECT_EQ(id.size(), 14u);
  EXPECT_EQ(header_of(response, http::field::location), "/v1/rooms/" + id);
  EXPECT_NE(rooms_.find(id), nullptr);
}

TEST_F(RoomRoutes, AuthIs401WithoutATokenAnd403WithoutTheScope) {
  const auto anonymous = call({.method = http::verb::get, .target = "/v1/rooms", .token = "-"});
  EXPECT_EQ(anonymous.status(), 401u);
  EXPECT_EQ(header_of(anonymous, http::field::content_type), "application/problem+json");
  EXPECT_EQ(get("/v1/rooms", "chorus_not_a_key").status(), 401u);
  // The reader key may read but not write.
  EXPECT_EQ(get("/v1/rooms/1000", std::string(kReaderToken)).status(), 200u);
  const auto refused = post("/v1/rooms", {{"name", "x"}}, std::string(kReaderToken));
  EXPECT_EQ(refused.status(), 403u);
  EXPECT_EQ(body_of(refused)["type"], "https://chorus.example/problems/forbidden");
  EXPECT_EQ(
      call({.method = http::verb::delete_, .target = "/v1/rooms/1000", .token = std::string(kReaderToken)}).status(),
      403u);
  EXPECT_NE(rooms_.find("1000"), nullptr);
}

TEST_F(RoomRoutes, BadBodiesAre415And400And422) {
  const auto text =
      call({.method = http::verb::post, .target = "/v1/rooms", .content_type = "text/plain", .raw_body = "name=x"});
  EXPECT_EQ(text.status(), 415u);
  const auto broken = call({.method = http::verb::post, .target = "/v1/rooms", .raw_body = "{\"name\": "});
  EXPECT_EQ(broken.status(), 400u);
  EXPECT_EQ(body_of(broken)["type"], "https://chorus.example/problems/invalid-json");

  const auto invalid = post("/v1/rooms", {{"name", ""},
                                          {"dial_in_number", "12"},
                                          {"pin", "12"},
                                          {"mode", "x"},
                                          {"max_participants", 0},
                                          {"colour", "red"},
                                          {"created_at", "now"}});
  ASSERT_EQ(invalid.status(), 422u);
  EXPECT_EQ(body_of(invalid)["type"], "https://chorus.example/problems/validation");
  EXPECT_THAT(error_fields(invalid), UnorderedElementsAre("/name", "/dial_in_number", "/pin", "/mode",
                                                          "/max_participants", "/colour", "/created_at"));
  EXPECT_EQ(rooms_.size(), 2u);  // nothing was created
  EXPECT_THAT(event_types(), ElementsAre());
}

// Issue 11: an sfu room may send SIP endpoints the composite instead of the voice-switched speaker.
TEST_F(RoomRoutes, SipVideoIsCreatedPatchedAndRead) {
  EXPECT_EQ(body_of(get("/v1/rooms/1000"))["sip_video"], "speaker");  // the default
  const auto created = post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"sip_video", "composite"}});
  ASSERT_EQ(created.status(), 201u) << created.message.body();
  EXPECT_EQ(body_of(created)["sip_video"], "composite");
  EXPECT_EQ(body_of(get("/v1/rooms/board"))["sip_video"], "composite");
  EXPECT_EQ(rooms_.find("board")->sip_video, conference::SipVideo::kComposite);
  EXPECT_EQ(store_->get_room("board")->sip_video, conference::SipVideo::kComposite);

  const auto patched = patch("/v1/rooms/1000", {{"sip_video", "composite"}}, "\"1\"");
  ASSERT_EQ(patched.status(), 200u) << patched.message.body();
  EXPECT_EQ(etag_of(patched), "\"2\"");
  EXPECT_EQ(body_of(get("/v1/rooms/1000"))["sip_video"], "composite");
  EXPECT_EQ(rooms_.find("1000")->sip_video, conference::SipVideo::kComposite);
  EXPECT_EQ(last_event().data["room"]["sip_video"], "composite");
  const auto back = patch("/v1/rooms/1000", {{"sip_video", "speaker"}}, "\"2\"");
  ASSERT_EQ(back.status(), 200u) << back.message.body();
  EXPECT_EQ(body_of(get("/v1/rooms/1000"))["sip_video"], "speaker");
}

TEST_F(RoomRoutes, UnknownSipVideoIs422AtItsPointer) {
  const auto created = post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"sip_video", "grid"}});
  ASSERT_EQ(created.status(), 422u);
  EXPECT_THAT(error_fields(created), ElementsAre("/sip_video"));
  // A known member with a bad value, not an unknown one: the message names the values allowed.
  EXPECT_EQ(body_of(created)["errors"][0]["message"], "sip_video must be \"speaker\" or \"composite\"");
  EXPECT_EQ(rooms_.find("board"), nullptr);
  for (const json& bad : {json("Composite"), json(nullptr), json(1)}) {
    const auto patched = patch("/v1/rooms/1000", {{"sip_video", bad}}, "\"1\"");
    ASSERT_EQ(patched.status(), 422u) << bad;
    EXPECT_THAT(error_fields(patched), ElementsAre("/sip_video")) << bad;
  }
  EXPECT_EQ(rooms_.find("1000")->sip_video, conference::SipVideo::kSpeaker);
  EXPECT_THAT(event_types(), ElementsAre());
}

TEST_F(RoomRoutes, TakenIdOrNumberIs409) {
  // Ids and dial-in numbers share one namespace: "9196" is the echo room's number.
  EXPECT_EQ(post("/v1/rooms", {{"id", "1000"}, {"name", "again"}}).status(), 409u);
  EXPECT_EQ(post("/v1/rooms", {{"id", "9196"}, {"name", "shadow"}}).status(), 409u);
  const auto clash = post("/v1/rooms", {{"name", "clash"}, {"dial_in_number", "9196"}});
  EXPECT_EQ(clash.status(), 409u);
  EXPECT_EQ(body_of(clash)["type"], "https://chorus.example/problems/conflict");
  EXPECT_EQ(rooms_.size(), 2u);
}

TEST_F(RoomRoutes, DefaultRoomsAreOrdinaryRooms) {
  const auto echo = get("/v1/rooms/echo");
  ASSERT_EQ(echo.status(), 200u);
  EXPECT_EQ(body_of(echo)["sip_uri"], "sip:echo@conf.example.org");
  EXPECT_EQ(body_of(echo)["dial_in_number"], "9196");
  EXPECT_EQ(etag_of(echo), "\"1\"");
  EXPECT_EQ(get("/v1/rooms/nope").status(), 404u);
  EXPECT_EQ(body_of(get("/v1/rooms/nope"))["type"], "https://chorus.example/problems/not-found");
  EXPECT_EQ(call({.method = http::verb::put, .target = "/v1/rooms/echo"}).status(), 405u);
}

TEST_F(RoomRoutes, ListPagesWithNextPageToken) {
  // Each with its own number: the SQLite store keeps at most one room without one (dial_in_number
  // is NOT NULL UNIQUE there).
  for (const char* id : {"a1", "a2", "a3"}) {
    ASSERT_EQ(post("/v1/rooms", {{"id", id}, {"name", id}, {"dial_in_number", std::string("55") + id[1]}}).status(),
              201u);
  }
  // Five rooms in id order: 1000, a1, a2, a3, echo.
  std::vector<std::string> seen;
  std::string target = "/v1/rooms?limit=2";
  int pages = 0;
  while (true) {
    const auto response = get(target);
    ASSERT_EQ(response.status(), 200u) << response.message.body();
    const json page = body_of(response);
    for (const auto& room : page["items"]) seen.push_back(room["id"]);
    ++pages;
    if (page["next_page_token"].is_null()) break;
    ASSERT_LT(pages, 5);
    target = "/v1/rooms?limit=2&page_token=" + page["next_page_token"].get<std::string>();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("1000", "a1", "a2", "a3", "echo"));
  EXPECT_EQ(body_of(get("/v1/rooms"))["items"].size(), 5u);  // the default limit is 50
  EXPECT_EQ(body_of(get("/v1/rooms?limit=5"))["next_page_token"], nullptr);

  const auto bad = get("/v1/rooms?limit=201");
  EXPECT_EQ(bad.status(), 400u);
  EXPECT_THAT(error_fields(bad), ElementsAre("limit"));
  EXPECT_EQ(get("/v1/rooms?limit=0").status(), 400u);
}

TEST_F(RoomRoutes, PatchNeedsIfMatchAndChecksIt) {
  const auto missing = call({.method = http::verb::patch, .target = "/v1/rooms/1000", .body = json{{"locked", true}}});
  EXPECT_EQ(missing.status(), 428u);
  EXPECT_EQ(header_of(missing, http::field::content_type), "application/problem+json");
  EXPECT_EQ(body_of(missing)["type"], "https://chorus.example/problems/precondition-required");
  const auto stale = patch("/v1/rooms/1000", {{"locked", true}}, "\"7\"");
  EXPECT_EQ(stale.status(), 412u);
  EXPECT_EQ(body_of(stale)["type"], "https://chorus.example/problems/precondition-failed");
  EXPECT_FALSE(rooms_.find("1000")->locked);
  EXPECT_EQ(patch("/v1/rooms/nope", {{"locked", true}}, "\"1\"").status(), 404u);
}

TEST_F(RoomRoutes, PatchRoundTripsTheETagAndReachesTheDirectory) {
  const auto before = get("/v1/rooms/1000");
  const auto updated =
      patch("/v1/rooms/1000", {{"locked", true}, {"pin", "246810"}, {"name", "Lobby"}}, etag_of(before));
  ASSERT_EQ(updated.status(), 200u) << updated.message.body();
  EXPECT_EQ(etag_of(updated), "\"2\"");
  EXPECT_EQ(body_of(updated)["locked"], true);
  EXPECT_EQ(body_of(updated)["version"], 2);
  EXPECT_EQ(body_of(updated)["dial_in_number"], "1000");  // merge patch: untouched members stay
  // The SIP path sees the change at once.
  const conference::Room* room = rooms_.find_by_dial_string("1000");
  ASSERT_NE(room, nullptr);
  EXPECT_TRUE(room->locked);
  EXPECT_EQ(room->pin, "246810");
  EXPECT_EQ(room->name, "Lobby");
  EXPECT_EQ(room->mode, conference::RoomMode::kSfu);
  EXPECT_EQ(last_event().type, "room.updated");
  EXPECT_EQ(last_event().data["room"]["locked"], true);
  // The old tag is stale now; the new one reads back from GET.
  EXPECT_EQ(patch("/v1/rooms/1000", {{"locked", false}}, etag_of(before)).status(), 412u);
  EXPECT_EQ(etag_of(get("/v1/rooms/1000")), etag_of(updated));
  // null clears an optional member.
  const auto cleared = patch("/v1/rooms/1000", {{"pin", nullptr}}, etag_of(updated));
  ASSERT_EQ(cleared.status(), 200u);
  EXPECT_EQ(body_of(cleared)["pin"], nullptr);
  EXPECT_EQ(rooms_.find("1000")->pin, "");
}

TEST_F(RoomRoutes, PatchThatChangesNothingKeepsTheVersion) {
  const auto same = patch("/v1/rooms/echo", {{"name", "Echo test"}}, "\"1\"");
  ASSERT_EQ(same.status(), 200u);
  EXPECT_EQ(etag_of(same), "\"1\"");
  EXPECT_THAT(event_types(), ElementsAre());
}

TEST_F(RoomRoutes, PatchRefusesBadMembersAndTakenNumbers) {
  const auto invalid = patch("/v1/rooms/1000", {{"id", "other"}, {"max_participants", "many"}}, "\"1\"");
  ASSERT_EQ(invalid.status(), 422u);
  EXPECT_THAT(error_fields(invalid), UnorderedElementsAre("/id", "/max_participants"));
  const auto taken = patch("/v1/rooms/1000", {{"dial_in_number", "9196"}}, "\"1\"");
  EXPECT_EQ(taken.status(), 409u);
  EXPECT_EQ(rooms_.find_by_dial_string("9196")->id, "echo");
  EXPECT_EQ(rooms_.find_by_dial_string("1000")->id, "1000");
  const auto text = call({.method = http::verb::patch,
                          .target = "/v1/rooms/1000",
                          .if_match = "\"1\"",
                          .content_type = "text/plain",
                          .raw_body = "locked"});
  EXPECT_EQ(text.status(), 415u);
}

TEST_F(RoomRoutes, DeleteRemovesTheRoomItsMeetingsAndAnnouncesThem) {
  ASSERT_EQ(post("/v1/rooms", {{"id", "team"}, {"name", "Team"}}).status(), 201u);
  const auto meeting = post("/v1/meetings", {{"id", "standup"},
                                             {"room_id", "team"},
                                             {"title", "Standup"},
                                             {"start", "2026-03-11T09:00:00Z"},
                                             {"end", "2026-03-11T09:15:00Z"}});
  ASSERT_EQ(meeting.status(), 201u) << meeting.message.body();
  ASSERT_TRUE(calendar_.has_meetings("team"));

  EXPECT_EQ(del("/v1/rooms/team", "\"9\"").status(), 412u);
  const auto deleted = del("/v1/rooms/team");
  EXPECT_EQ(deleted.status(), 204u);
  EXPECT_TRUE(deleted.message.body().empty());
  EXPECT_EQ(get("/v1/rooms/team").status(), 404u);
  EXPECT_EQ(get("/v1/meetings/standup").status(), 404u);
  EXPECT_EQ(rooms_.find("team"), nullptr);
  EXPECT_FALSE(calendar_.has_meetings("team"));
  EXPECT_THAT(event_types(), ElementsAre("room.created", "meeting.created", "meeting.deleted", "room.deleted"));
  EXPECT_EQ(last_event().data["room_id"], "team");
  EXPECT_EQ(del("/v1/rooms/team").status(), 404u);
}

TEST_F(RoomRoutes, DeleteWithParticipantsIs409) {
  join("1000", 1);
  ASSERT_EQ(conference_->participants_in("1000"), 1u);
  const auto busy = del("/v1/rooms/1000");
  EXPECT_EQ(busy.status(), 409u);
  EXPECT_EQ(body_of(busy)["type"], "https://chorus.example/problems/conflict");
  EXPECT_NE(rooms_.find("1000"), nullptr);
  EXPECT_TRUE(store_->get_room("1000"));
  conference_->on_call_ended(1, "test over");
  EXPECT_EQ(del("/v1/rooms/1000", "\"1\"").status(), 204u);
}

// DESIGN §7: PINs are secrets. rooms:read sees whether a room has one; the PINs themselves only
// the admin token and keys with rooms:secrets.
TEST_F(RoomRoutes, ReaderKeySeesPinSetButNeverThePins) {
  ASSERT_EQ(
      post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"pin", "482915"}, {"moderator_pin", "731864"}}).status(),
      201u);
  const auto one = get("/v1/rooms/board", std::string(kReaderToken));
  ASSERT_EQ(one.status(), 200u);
  EXPECT_FALSE(body_of(one).contains("pin"));
  EXPECT_FALSE(body_of(one).contains("moderator_pin"));
  EXPECT_EQ(body_of(one)["pin_set"], true);
  EXPECT_EQ(body_of(one)["moderator_pin_set"], true);
  EXPECT_EQ(one.message.body().find("482915"), std::string::npos);
  const auto list = get("/v1/rooms", std::string(kReaderToken));
  ASSERT_EQ(list.status(), 200u);
  EXPECT_EQ(list.message.body().find("482915"), std::string::npos);
  EXPECT_EQ(list.message.body().find("731864"), std::string::npos);
  EXPECT_EQ(body_of(get("/v1/rooms/board"))["pin"], "482915") << "the admin token reads it";
}

TEST_F(RoomRoutes, SecretsScopeReadsThePins) {
  constexpr std::string_view kSecretsToken = "chorus_secrets_token_for_tests";
  ASSERT_TRUE(store_->create_api_key(
      {"key-secrets", "pins", {"rooms:read", "rooms:secrets"}, hash_token(kSecretsToken), utc(2026, 1, 1, 0)}));
  ASSERT_EQ(post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"pin", "482915"}}).status(), 201u);
  const auto one = get("/v1/rooms/board", std::string(kSecretsToken));
  ASSERT_EQ(one.status(), 200u);
  EXPECT_EQ(body_of(one)["pin"], "482915");
  EXPECT_EQ(body_of(one)["moderator_pin"], nullptr);
}

TEST_F(RoomRoutes, PinShorterThanMinPinDigitsIs422AndCreatesNothing) {
  const auto refused = post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"pin", "1234"}});
  ASSERT_EQ(refused.status(), 422u);
  EXPECT_EQ(header_of(refused, http::field::content_type), "application/problem+json");
  EXPECT_THAT(error_fields(refused), ElementsAre("/pin"));
  EXPECT_FALSE(store_->get_room("board"));
  const auto moderator = post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"moderator_pin", "12345"}});
  ASSERT_EQ(moderator.status(), 422u);
  EXPECT_THAT(error_fields(moderator), ElementsAre("/moderator_pin"));
  // A PATCH setting a short PIN is refused the same way.
  const auto patched = patch("/v1/rooms/1000", {{"pin", "12345"}}, "\"1\"");
  ASSERT_EQ(patched.status(), 422u);
  EXPECT_EQ(rooms_.find("1000")->pin, "");
  EXPECT_THAT(event_types(), ElementsAre());
}

TEST_F(RoomRoutes, FourDigitPinIsTakenWhenTheSettingAllowsIt) {
  services_->min_pin_digits = 4;
  const auto created = post("/v1/rooms", {{"id", "board"}, {"name", "Board"}, {"pin", "1234"}});
  ASSERT_EQ(created.status(), 201u) << created.message.body();
  EXPECT_EQ(rooms_.find("board")->pin, "1234");
  EXPECT_EQ(post("/v1/rooms", {{"id", "tiny"}, {"name", "Tiny"}, {"pin", "123"}}).status(), 422u)
      << "never below 4 digits";
}

TEST_F(RoomRoutes, StoredShortPinIsKeptWhenOtherMembersChange) {
  conference::Room old = conference::default_room();
  old.id = "legacy";
  old.dial_in_number = "4712";
  old.name = "Legacy";
  old.pin = "1234";  // made before min_pin_digits
  auto stored = store_->create_room(old);
  ASSERT_TRUE(stored);
  rooms_.add(*stored);
  const auto renamed = patch("/v1/rooms/legacy", {{"name", "Legacy room"}}, etag_of(get("/v1/rooms/legacy")));
  ASSERT_EQ(renamed.status(), 200u) << renamed.message.body();
  EXPECT_EQ(rooms_.find("legacy")->pin, "1234");
}

}  // namespace room_routes_test
}  // namespace chorus::rest::api_test
