// The /v1 JSON codec: RFC 3339 times (offsets converted to UTC, fractions truncated, bad dates and
// leap seconds refused), ids, room and meeting members (every error collected as a JSON Pointer,
// null clears optional members, unknown and output-only members refused), record conversion and
// pagination.
#include "rest-api/api/json_codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rest-api/api/route_support.hpp"

namespace chorus::rest {
namespace json_codec_test {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TimePoint utc(int year, unsigned month, unsigned day, int hour, int minute = 0, int second = 0) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours{hour} + minutes{minute} + seconds{second};
}

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const auto& error : errors) fields.push_back(error.field);
  return fields;
}

TEST(Rfc3339, ParsesUtcAndConvertsOffsetsToUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-26T09:00:00Z"), utc(2026, 11, 26, 9));
  EXPECT_EQ(parse_rfc3339("2026-11-26t09:00:00z"), utc(2026, 11, 26, 9));  // §5.6 NOTE: lowercase allowed
  EXPECT_EQ(parse_rfc3339("2026-11-26T10:30:00+01:30"), utc(2026, 11, 26, 9));
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:00:00-05:00"), utc(2026, 11, 26, 9));
  EXPECT_EQ(parse_rfc3339("2026-12-31T23:30:00-01:00"), utc(2027, 1, 1, 0, 30));  // across a year
  EXPECT_EQ(parse_rfc3339("2028-02-29T00:00:00Z"), utc(2028, 2, 29, 0));          // leap day
  // Fractions are truncated to the second (iCalendar's precision, RFC 5545 §3.3.5).
  EXPECT_EQ(parse_rfc3339("2026-11-26T09:00:07.999999Z"), utc(2026, 11, 26, 9, 0, 7));
}

TEST(Rfc3339, RefusesWhatIsNotADateTime) {
  for (const char* text :
       {"", "2026-11-26", "2026-11-26T09:00Z", "2026-11-26T09:00:00", "2026-11-26 09:00:00Z", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T09:60:00Z",
        "2016-12-31T23:59:60Z", "2026-11-26T09:00:00.Z", "2026-11-26T09:00:00+0100", "2026-11-26T09:00:00+24:00",
        "2026-11-26T09:00:00Zjunk", "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "+2026-11-26T09:00:00Z",
        "2026-1-26T09:00:00Z"}) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
}

TEST(Rfc3339, FormatsUtcWholeSecondsAndRoundTrips) {
  const auto at = utc(2026, 3, 29, 1, 2, 3) + std::chrono::milliseconds{750};
  EXPECT_EQ(format_rfc3339(at), "2026-03-29T01:02:03Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(at)), utc(2026, 3, 29, 1, 2, 3));
}

TEST(Ids, ValidIdsAreShortAndSafe) {
  EXPECT_TRUE(is_valid_id("1000"));
  EXPECT_TRUE(is_valid_id("team-room_2"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_id("a.b"));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_FALSE(is_valid_id("r\xc3\xa9union"));
}

TEST(Ids, GeneratedIdsHaveThePrefixAndTwelveAlphanumerics) {
  const auto first = generate_id(kRoomIdPrefix);
  const auto second = generate_id(kRoomIdPrefix);
  EXPECT_NE(first, second);
  for (const auto& id : {first, second}) {
    ASSERT_EQ(id.size(), 14u) << id;
    EXPECT_TRUE(id.starts_with("r_")) << id;
    EXPECT_TRUE(std::ranges::all_of(id.substr(2), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }));
  }
}

TEST(RoomJson, CreateAppliesEveryWritableMember) {
  conference::Room room;
  const json body = {{"id", "board"},          {"name", "Board room"},       {"dial_in_number", "4711"},
                     {"pin", "1234"},          {"moderator_pin", "987654"},  {"mode", "sfu"},
                     {"max_participants", 25}, {"encryption", "required"},   {"default_layout", "speaker"},
                     {"locked", true},         {"wait_for_moderator", true}, {"sip_video", "composite"}};
  EXPECT_TRUE(apply_room_json(body, room, true).empty());
  EXPECT_EQ(room.sip_video, conference::SipVideo::kComposite);
  EXPECT_EQ(room.id, "board");
  EXPECT_EQ(room.name, "Board room");
  EXPECT_EQ(room.dial_in_number, "4711");
  EXPECT_EQ(room.pin, "1234");
  EXPECT_EQ(room.moderator_pin, "987654");
  EXPECT_EQ(room.mode, conference::RoomMode::kSfu);
  EXPECT_EQ(room.max_participants, 25u);
  EXPECT_EQ(room.encryption, conference::RoomEncryption::kRequired);
  EXPECT_EQ(room.default_layout, "speaker");
  EXPECT_TRUE(room.locked);
  EXPECT_TRUE(room.wait_for_moderator);

  const json out = room_to_json(room, "conf.example.org");
  EXPECT_EQ(out["wait_for_moderator"], true);
  EXPECT_EQ(out["sip_uri"], "sip:board@conf.example.org");
  EXPECT_EQ(out["pin"], "1234");
  EXPECT_EQ(out["mode"], "sfu");
  EXPECT_EQ(out["sip_video"], "composite");
  EXPECT_FALSE(room_to_json(room, "conf.example.org", false).contains("pin"));
  EXPECT_FALSE(room_to_json(room, "conf.example.org", false).contains("moderator_pin"));
}

TEST(RoomJson, CollectsEveryErrorAsAJsonPointer) {
  conference::Room room;
  const json body = {
      {"id", "has space"},        {"dial_in_number", "12"}, {"pin", "12a4"},   {"mode", "p2p"},
      {"max_participants", 1001}, {"encryption", true},     {"locked", "yes"}, {"default_layout", std::string(65, 'x')},
      {"colour", "red"},          {"sip_uri", "sip:x@y"},   {"a/b~c", 1},      {"wait_for_moderator", 1},
      {"sip_video", "grid"}};
  const auto errors = apply_room_json(body, room, true);
  EXPECT_THAT(fields_of(errors),
              UnorderedElementsAre("/id", "/dial_in_number", "/pin", "/mode", "/max_participants", "/encryption",
                                   "/locked", "/default_layout", "/colour", "/sip_uri", "/a~1b~0c", "/name",
                                   "/wait_for_moderator", "/sip_video"));
}

TEST(RoomJson, PatchNullClearsOptionalMembersAndRefusesRequiredOnes) {
  conference::Room room = conference::default_room();
  room.pin = "1234";
  room.default_layout = "grid";
  EXPECT_TRUE(apply_room_json(json{{"pin", nullptr}, {"default_layout", nullptr}, {"dial_in_number", ""}}, room, false)
                  .empty());
  EXPECT_EQ(room.pin, "");
  EXPECT_EQ(room.default_layout, "");
  EXPECT_EQ(room.dial_in_number, "");
  EXPECT_EQ(room_to_json(room, "h")["pin"], nullptr);

  EXPECT_THAT(fields_of(apply_room_json(json{{"name", nullptr}, {"id", "other"}, {"mode", nullptr}}, room, false)),
              UnorderedElementsAre("/name", "/id", "/mode"));
  EXPECT_THAT(fields_of(apply_room_json(json::array(), room, false)), ElementsAre(""));
  EXPECT_THAT(fields_of(apply_room_json(json{{"name", ""}}, room, false)), ElementsAre("/name"));
  EXPECT_THAT(fields_of(apply_room_json(json{{"name", "tab\there"}}, room, false)), ElementsAre("/name"));
}

TEST(RoomJson, SipVideoIsSpeakerByDefaultAndTakesOnlyItsTwoValues) {
  conference::Room room = conference::default_room();
  EXPECT_EQ(room_to_json(room, "h")["sip_video"], "speaker");
  EXPECT_TRUE(apply_room_json(json{{"sip_video", "composite"}}, room, false).empty());
  EXPECT_EQ(room.sip_video, conference::SipVideo::kComposite);
  for (const json& bad : {json("grid"), json(nullptr), json(true)}) {
    const auto errors = apply_room_json(json{{"sip_video", bad}}, room, false);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].field, "/sip_video");
    EXPECT_EQ(errors[0].message, "sip_video must be \"speaker\" or \"composite\"") << bad;
  }
  EXPECT_EQ(room.sip_video, conference::SipVideo::kComposite);  // a refused value changes nothing
}

TEST(RoomJson, ModeratorPinMustDifferFromPin) {
  conference::Room room;
  EXPECT_THAT(fields_of(apply_room_json(json{{"name", "x"}, {"pin", "1234"}, {"moderator_pin", "1234"}}, room, true)),
              ElementsAre("/moderator_pin"));
}

TEST(MeetingJson, AppliesMembersAndNamesBadOnes) {
  conference::Meeting meeting;
  const json good = {{"room_id", "1000"},
                     {"title", "Sync"},
                     {"start", "2026-03-19T09:00:00+01:00"},
                     {"end", "2026-03-19T09:30:00+01:00"},
                     {"timezone", "Europe/Berlin"},
                     {"rrule", "FREQ=WEEKLY"},
                     {"exdates", {"2026-03-26T08:00:00Z"}},
                     {"join_window_before", 5},
                     {"pin", "2468"},
                     {"organizer", "alice@example.org"},
                     {"attendees", {"bob@example.org"}}};
  ASSERT_TRUE(apply_meeting_json(good, meeting, true).empty());
  EXPECT_EQ(meeting.start, utc(2026, 3, 19, 8));
  EXPECT_EQ(meeting.end, utc(2026, 3, 19, 8, 30));
  EXPECT_EQ(meeting.exdates, std::vector<TimePoint>{utc(2026, 3, 26, 8)});
  EXPECT_EQ(meeting.join_window_before, std::chrono::minutes{5});
  EXPECT_EQ(meeting.pin, "2468");

  const json bad = {{"start", "tomorrow"},
                    {"exdates", {"2026-03-26T08:00:00Z", 7}},
                    {"attendees", {"a@b.c", 3}},
                    {"join_window_before", 121},
                    {"sequence", 4},
                    {"room_id", "no room"}};
  EXPECT_THAT(fields_of(apply_meeting_json(bad, meeting, true)),
              UnorderedElementsAre("/start", "/exdates/1", "/attendees/1", "/join_window_before", "/sequence",
                                   "/room_id", "/title", "/end"));
  // Null resets members with a default.
  ASSERT_TRUE(
      apply_meeting_json(json{{"timezone", nullptr}, {"join_window_before", nullptr}, {"pin", nullptr}}, meeting, false)
          .empty());
  EXPECT_EQ(meeting.timezone, "UTC");
  EXPECT_EQ(meeting.join_window_before, kDefaultJoinWindowBefore);
  EXPECT_EQ(meeting.pin, std::nullopt);
}

TEST(MeetingJson, RecordConversionKeepsEveryField) {
  conference::Meeting meeting;
  meeting.id = "m1";
  meeting.room_id = "1000";
  meeting.title = "T";
  meeting.start = utc(2026, 3, 19, 8);
  meeting.end = utc(2026, 3, 19, 9);
  meeting.timezone = "Europe/Berlin";
  meeting.rrule = "FREQ=DAILY";
  meeting.exdates = {utc(2026, 3, 20, 8)};
  meeting.join_window_before = std::chrono::minutes{15};
  meeting.pin = "1111";
  meeting.organizer = "a@b.org";
  meeting.attendees = {"c@d.org"};
  meeting.sequence = 3;
  meeting.cancelled = true;
  meeting.created_at = utc(2026, 1, 1, 0);
  meeting.updated_at = utc(2026, 1, 2, 0);
  meeting.version = 7;
  const auto back = meeting_from_record(meeting_to_record(meeting));
  EXPECT_EQ(meeting_to_json(back), meeting_to_json(meeting));
  EXPECT_EQ(meeting_to_json(meeting)["pin"], "1111");
  EXPECT_FALSE(meeting_to_json(meeting, false).contains("pin"));
}

TEST(MeetingJson, JoinUrlIsTheRoomsPageLinkOrNull) {
  conference::Meeting meeting;
  meeting.id = "m1";
  meeting.room_id = "r_Ab3-x";
  EXPECT_EQ(meeting_to_json(meeting)["join_url"], nullptr);
  EXPECT_EQ(meeting_to_json(meeting, true, "http://192.0.2.7:8080")["join_url"], "http://192.0.2.7:8080/?room=r_Ab3-x");
  EXPECT_EQ(meeting_to_json(meeting, false, "http://[2001:db8::1]:8080")["join_url"],
            "http://[2001:db8::1]:8080/?room=r_Ab3-x");
  EXPECT_EQ(room_join_url("", "1000"), "");
  EXPECT_EQ(room_join_url("http://conf.example.org:8080", "1000"), "http://conf.example.org:8080/?room=1000");
}

TEST(MeetingJson, ValidationFieldNamesBecomeJsonPointers) {
  const auto errors = to_field_errors({{"attendees[3]", "bad"}, {"end", "before start"}});
  EXPECT_THAT(fields_of(errors), ElementsAre("/attendees/3", "/end"));
}

TEST(Pagination, LimitDefaultsAndBounds) {
  const auto page = parse_page(*QueryParams::parse(""));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 50u);
  EXPECT_EQ(page->after_id, "");
  EXPECT_EQ(parse_page(*QueryParams::parse("limit=200&page_token=r_abc"))->limit, 200u);
  EXPECT_EQ(parse_page(*QueryParams::parse("limit=1&page_token=r_abc"))->after_id, "r_abc");
  for (const char* query : {"limit=0", "limit=201", "limit=abc", "limit=", "limit=-1", "limit=5x", "page_token=a.b"}) {
    const auto refused = parse_page(*QueryParams::parse(query));
    ASSERT_FALSE(refused) << query;
    EXPECT_EQ(refused.error().status(), 400u) << query;
  }
}

TEST(Pagination, NextTokenOnlyWhenTheStoreHadMore) {
  struct Item {
    std::string id;
  };
  const auto to_json = [](const Item& item) { return json(item.id); };
  const std::vector<Item> three = {{"a"}, {"b"}, {"c"}};
  EXPECT_EQ(page_body(three, 2, to_json), (json{{"items", {"a", "b"}}, {"next_page_token", "b"}}));
  EXPECT_EQ(page_body(three, 3, to_json), (json{{"items", {"a", "b", "c"}}, {"next_page_token", nullptr}}));
  EXPECT_EQ(page_body(std::vector<Item>{}, 3, to_json), (json{{"items", json::array()}, {"next_page_token", nullptr}}));
}

TEST(IfMatch, StrongComparisonOverAList) {
  EXPECT_EQ(check_if_match("", 3), IfMatch::kAbsent);
  EXPECT_EQ(check_if_match("\"3\"", 3), IfMatch::kMatch);
  EXPECT_EQ(check_if_match("\"1\", \"3\"", 3), IfMatch::kMatch);
  EXPECT_EQ(check_if_match("*", 3), IfMatch::kMatch);
  EXPECT_EQ(check_if_match("\"2\"", 3), IfMatch::kMismatch);
  EXPECT_EQ(check_if_match("W/\"3\"", 3), IfMatch::kMismatch);  // RFC 9110 §13.1.1: weak never matches
  EXPECT_EQ(check_if_match("3", 3), IfMatch::kMismatch);        // not a quoted entity-tag
  EXPECT_EQ(etag_of(12), "\"12\"");
}

}  // namespace json_codec_test
}  // namespace chorus::rest
