// /v1/meetings through Router::handle: create/list/get/patch/cancel with their status paths, a
// weekly Europe/Berlin meeting's occurrences across the March DST change, and the invitation
// parsed back by libical (UID, SEQUENCE bumped by PATCH, METHOD:CANCEL after DELETE).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include "tests/unit/rest-api/api/api_test_fixture.hpp"

namespace chorus::rest::api_test {
namespace meeting_routes_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

using MeetingRoutes = ApiRoutesTest;

// Thursdays 09:00–10:00 in Berlin from 19 March 2026 (08:00 UTC; 07:00 UTC after 29 March).
json weekly_berlin(std::string id = "weekly") {
  return json{{"id", std::move(id)},
              {"room_id", "1000"},
              {"title", "Weekly sync"},
              {"start", "2026-03-19T09:00:00+01:00"},
              {"end", "2026-03-19T10:00:00+01:00"},
              {"timezone", "Europe/Berlin"},
              {"rrule", "FREQ=WEEKLY;BYDAY=TH"},
              {"organizer", "alice@example.org"},
              {"attendees", {"bob@example.org"}}};
}

struct ComponentDeleter {
  void operator()(icalcomponent* component) const { icalcomponent_free(component); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

// What the invitation says, read back by libical's parser.
struct Invitation {
  std::string method;
  std::string uid;
  int sequence = -1;
  std::string summary;
  std::string status;
  std::string location;
  std::string description;
  std::string url;
};

Invitation parse_invitation(const HttpResponse& response) {
  Invitation out;
  ComponentPtr calendar(icalparser_parse_string(response.message.body().c_str()));
  if (!calendar) {
    ADD_FAILURE() << "libical cannot parse:\n" << response.message.body();
    return out;
  }
  out.method = icalproperty_method_to_string(icalcomponent_get_method(calendar.get()));
  icalcomponent* event = icalcomponent_get_first_component(calendar.get(), ICAL_VEVENT_COMPONENT);
  if (event == nullptr) {
    ADD_FAILURE() << "no VEVENT";
    return out;
  }
  out.uid = icalcomponent_get_uid(event);
  out.sequence = icalcomponent_get_sequence(event);
  out.summary = icalcomponent_get_summary(event);
  out.status = icalproperty_status_to_string(icalcomponent_get_status(event));
  out.location = icalcomponent_get_location(event) ? icalcomponent_get_location(event) : "";
  out.description = icalcomponent_get_description(event) ? icalcomponent_get_description(event) : "";
  if (icalproperty* url = icalcomponent_get_first_property(event, ICAL_URL_PROPERTY))
    out.url = icalproperty_get_url(url);
  return out;
}

TEST_F(MeetingRoutes, CreateAnswers201AndGatesTheRoom) {
  const auto response = post("/v1/meetings", weekly_berlin());
  ASSERT_EQ(response.status(), 201u) << response.message.body();
  EXPECT_EQ(header_of(response, http::field::location), "/v1/meetings/weekly");
  EXPECT_EQ(etag_of(response), "\"1\"");
  const json meeting = body_of(response);
  EXPECT_EQ(meeting["start"], "2026-03-19T08:00:00Z");  // offsets come back as UTC
  EXPECT_EQ(meeting["end"], "2026-03-19T09:00:00Z");
  EXPECT_EQ(meeting["join_window_before"], 10);  // the default
  EXPECT_EQ(meeting["sequence"], 0);
  EXPECT_EQ(meeting["cancelled"], false);
  EXPECT_EQ(meeting["pin"], nullptr);
  EXPECT_EQ(meeting["created_at"], "2026-03-10T12:00:00Z");
  EXPECT_EQ(meeting["join_url"], nullptr);  // the fixture's server has no page address
  EXPECT_TRUE(store_->get_meeting("weekly"));
  EXPECT_TRUE(calendar_.has_meetings("1000"));
  EXPECT_EQ(last_event().type, "meeting.created");
  EXPECT_EQ(last_event().data["meeting_id"], "weekly");
  EXPECT_EQ(body_of(get("/v1/meetings/weekly")), meeting);

  json generated = weekly_berlin();
  generated.erase("id");
  const auto second = post("/v1/meetings", generated);
  ASSERT_EQ(second.status(), 201u);
  EXPECT_TRUE(body_of(second)["id"].get<std::string>().starts_with("m_"));
  EXPECT_EQ(post("/v1/meetings", weekly_berlin()).status(), 409u);  // the id is taken
}

TEST_F(MeetingRoutes, InvalidMeetingsAre422WithEveryField) {
  json unknown_room = weekly_berlin();
  unknown_room["room_id"] = "ghost";
  const auto no_room = post("/v1/meetings", unknown_room);
  ASSERT_EQ(no_room.status(), 422u);
  EXPECT_THAT(error_fields(no_room), ElementsAre("/room_id"));

  json bad = weekly_berlin();
  bad["end"] = "2026-03-19T07:00:00Z";  // before the start
  bad["timezone"] = "Mars/Olympus";
  bad["attendees"] = {"bob@example.org", "not-an-email"};
  bad["pin"] = "12";
  const auto invalid = post("/v1/meetings", bad);
  ASSERT_EQ(invalid.status(), 422u);
  EXPECT_THAT(error_fields(invalid), UnorderedElementsAre("/end", "/timezone", "/attendees/1", "/pin"));

  const auto missing = post("/v1/meetings", json{{"title", "x"}, {"cancelled", true}});
  ASSERT_EQ(missing.status(), 422u);
  EXPECT_THAT(error_fields(missing), UnorderedElementsAre("/room_id", "/start", "/end", "/cancelled"));
  EXPECT_EQ(calendar_.size(), 0u);
  EXPECT_THAT(event_types(), ElementsAre());
}

TEST_F(MeetingRoutes, ScopesAndBodies) {
  EXPECT_EQ(post("/v1/meetings", weekly_berlin(), std::string(kReaderToken)).status(), 403u);
  EXPECT_EQ(call({.method = http::verb::get, .target = "/v1/meetings", .token = "-"}).status(), 401u);
  EXPECT_EQ(call({.method = http::verb::post,
                  .target = "/v1/meetings",
                  .content_type = "text/calendar",
                  .raw_body = "BEGIN:VCALENDAR"})
                .status(),
            415u);
  EXPECT_EQ(call({.method = http::verb::post, .target = "/v1/meetings", .raw_body = "[1,"}).status(), 400u);
  ASSERT_EQ(post("/v1/meetings", weekly_berlin()).status(), 201u);
  EXPECT_EQ(get("/v1/meetings/weekly", std::string(kReaderToken)).status(), 200u);
  EXPECT_EQ(get("/v1/meetings/weekly.ics", std::string(kReaderToken)).status(), 200u);
  EXPECT_EQ(call({.method = http::verb::delete_, .target = "/v1/meetings/weekly", .token = std::string(kReaderToken)})
                .status(),
            403u);
  EXPECT_EQ(get("/v1/meetings/nope").status(), 404u);
  EXPECT_EQ(get("/v1/meetings/nope.ics").status(), 404u);
  EXPECT_EQ(get("/v1/meetings/nope/occurrences?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z").status(), 404u);
}

TEST_F(MeetingRoutes, ListPagesAndFiltersByRoom) {
  ASSERT_EQ(post("/v1/rooms", {{"id", "team"}, {"name", "Team"}}).status(), 201u);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_EQ(post("/v1/meetings", weekly_berlin(id)).status(), 201u);
  json other = weekly_berlin("m4");
  other["room_id"] = "team";
  ASSERT_EQ(post("/v1/meetings", other).status(), 201u);

  const json first = body_of(get("/v1/meetings?limit=3"));
  ASSERT_EQ(first["items"].size(), 3u);
  EXPECT_EQ(first["next_page_token"], "m3");
  const json rest = body_of(get("/v1/meetings?limit=3&page_token=m3"));
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest["items"][0]["id"], "m4");
  EXPECT_EQ(rest["next_page_token"], nullptr);

  const json team = body_of(get("/v1/meetings?room_id=team"));
  ASSERT_EQ(team["items"].size(), 1u);
  EXPECT_EQ(team["items"][0]["room_id"], "team");
  EXPECT_EQ(body_of(get("/v1/meetings?room_id=ghost"))["items"], json::array());
  EXPECT_EQ(get("/v1/meetings?limit=1000").status(), 400u);
}

TEST_F(MeetingRoutes, OccurrencesFollowBerlinAcrossDaylightSaving) {
  ASSERT_EQ(post("/v1/meetings", weekly_berlin()).status(), 201u);
  const auto response = get("/v1/meetings/weekly/occurrences?from=2026-03-18T00:00:00Z&to=2026-04-10T00:00:00Z");
  ASSERT_EQ(response.status(), 200u) << response.message.body();
  // 09:00 in Berlin: 08:00 UTC under CET, 07:00 UTC under CEST (from 29 March).
  EXPECT_EQ(body_of(response)["items"], (json{{{"start", "2026-03-19T08:00:00Z"}, {"end", "2026-03-19T09:00:00Z"}},
                                              {{"start", "2026-03-26T08:00:00Z"}, {"end", "2026-03-26T09:00:00Z"}},
                                              {{"start", "2026-04-02T07:00:00Z"}, {"end", "2026-04-02T08:00:00Z"}},
                                              {{"start", "2026-04-09T07:00:00Z"}, {"end", "2026-04-09T08:00:00Z"}}}));
  const auto limited = get("/v1/meetings/weekly/occurrences?from=2026-03-18T00:00:00Z&to=2026-04-10T00:00:00Z&limit=2");
  EXPECT_EQ(body_of(limited)["items"].size(), 2u);
}

TEST_F(MeetingRoutes, OccurrenceQueriesAreChecked) {
  ASSERT_EQ(post("/v1/meetings", weekly_berlin()).status(), 201u);
  const auto missing = get("/v1/meetings/weekly/occurrences?to=2026-04-10T00:00:00Z");
  EXPECT_EQ(missing.status(), 400u);
  EXPECT_THAT(error_fields(missing), ElementsAre("from"));
  EXPECT_THAT(error_fields(get("/v1/meetings/weekly/occurrences?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z")),
              ElementsAre("to"));  // more than 366 days
  EXPECT_THAT(error_fields(get("/v1/meetings/weekly/occurrences?from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z")),
              ElementsAre("to"));
  EXPECT_THAT(
      error_fields(get("/v1/meetings/weekly/occurrences?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&limit=1001")),
      ElementsAre("limit"));
  EXPECT_EQ(get("/v1/meetings/weekly/occurrences?from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:00Z").status(),
            200u);  // exactly 366 days
}

TEST_F(MeetingRoutes, PatchBumpsSequenceAndTheInvitationFollows) {
  ASSERT_EQ(patch("/v1/rooms/1000", {{"pin", "555555"}}, "\"1\"").status(), 200u);
  const auto created = post("/v1/meetings", weekly_berlin());
  ASSERT_EQ(created.status(), 201u);
  const auto ics = get("/v1/meetings/weekly.ics");
  ASSERT_EQ(ics.status(), 200u) << ics.message.body();
  EXPECT_EQ(header_of(ics, http::field::content_type), "text/calendar; charset=utf-8; method=REQUEST");
  const Invitation before = parse_invitation(ics);
  EXPECT_EQ(before.method, "REQUEST");
  EXPECT_EQ(before.uid, "weekly@chorus");
  EXPECT_EQ(before.sequence, 0);
  EXPECT_EQ(before.location, "sip:1000@conf.example.org");
  EXPECT_THAT(before.description, HasSubstr("Dial in: 1000"));
  EXPECT_THAT(before.description, HasSubstr("PIN: 555555"));  // the room's: the meeting has none

  EXPECT_EQ(call({.method = http::verb::patch, .target = "/v1/meetings/weekly", .body = json{{"title", "x"}}}).status(),
            428u);
  EXPECT_EQ(patch("/v1/meetings/weekly", {{"title", "x"}}, "\"5\"").status(), 412u);
  EXPECT_EQ(patch("/v1/meetings/weekly", {{"end", "2026-03-19T07:00:00Z"}}, etag_of(created)).status(), 422u);
  const auto patched = patch("/v1/meetings/weekly", {{"title", "Weekly planning"}, {"pin", "8642"}}, etag_of(created));
  ASSERT_EQ(patched.status(), 200u) << patched.message.body();
  EXPECT_EQ(etag_of(patched), "\"2\"");
  EXPECT_EQ(body_of(patched)["sequence"], 1);
  EXPECT_EQ(body_of(patched)["rrule"], "FREQ=WEEKLY;BYDAY=TH");  // untouched
  EXPECT_EQ(last_event().type, "meeting.updated");
  EXPECT_FALSE(last_event().data["meeting"].contains("pin"));

  const Invitation after = parse_invitation(get("/v1/meetings/weekly.ics"));
  EXPECT_EQ(after.uid, "weekly@chorus");
  EXPECT_EQ(after.sequence, 1);
  EXPECT_EQ(after.summary, "Weekly planning");
  EXPECT_THAT(after.description, HasSubstr("PIN: 8642"));  // the meeting's own PIN now
  EXPECT_EQ(etag_of(get("/v1/meetings/weekly.ics")), "\"2\"");
}

TEST_F(MeetingRoutes, DeleteCancelsAndTheInvitationSaysCancel) {
  ASSERT_EQ(post("/v1/meetings", weekly_berlin()).status(), 201u);
  ASSERT_TRUE(calendar_.has_meetings("1000"));
  EXPECT_EQ(del("/v1/meetings/weekly", "\"3\"").status(), 412u);
  EXPECT_EQ(del("/v1/meetings/weekly", "\"1\"").status(), 204u);

  const auto cancelled = get("/v1/meetings/weekly");
  ASSERT_EQ(cancelled.status(), 200u);
  EXPECT_EQ(body_of(cancelled)["cancelled"], true);
  EXPECT_EQ(body_of(cancelled)["sequence"], 1);
  EXPECT_FALSE(calendar_.has_meetings("1000"));  // the room admits callers again at any time
  EXPECT_EQ(last_event().type, "meeting.deleted");

  const auto ics = get("/v1/meetings/weekly.ics");
  ASSERT_EQ(ics.status(), 200u);
  EXPECT_EQ(header_of(ics, http::field::content_type), "text/calendar; charset=utf-8; method=CANCEL");
  const Invitation invitation = parse_invitation(ics);
  EXPECT_EQ(invitation.method, "CANCEL");
  EXPECT_EQ(invitation.status, "CANCELLED");
  EXPECT_EQ(invitation.uid, "weekly@chorus");
  EXPECT_EQ(invitation.sequence, 1);

  const auto occurrences = get("/v1/meetings/weekly/occurrences?from=2026-03-18T00:00:00Z&to=2026-04-10T00:00:00Z");
  EXPECT_EQ(body_of(occurrences)["items"], json::array());
  EXPECT_EQ(patch("/v1/meetings/weekly", {{"title", "back"}}, etag_of(cancelled)).status(), 409u);
  // Cancelling again changes nothing.
  EXPECT_EQ(del("/v1/meetings/weekly").status(), 204u);
  EXPECT_EQ(body_of(get("/v1/meetings/weekly"))["sequence"], 1);
  EXPECT_THAT(event_types(), ElementsAre("meeting.created", "meeting.deleted"));
}

TEST_F(MeetingRoutes, MeetingAndInvitationCarryTheBrowserJoinLink) {
  services_->web_base_url = "http://conf.example.org:8080";
  const auto created = post("/v1/meetings", weekly_berlin());
  ASSERT_EQ(created.status(), 201u) << created.message.body();
  EXPECT_EQ(body_of(created)["join_url"], "http://conf.example.org:8080/?room=1000");
  EXPECT_EQ(body_of(get("/v1/meetings/weekly"))["join_url"], "http://conf.example.org:8080/?room=1000");
  EXPECT_EQ(body_of(get("/v1/meetings?room_id=1000"))["items"][0]["join_url"],
            "http://conf.example.org:8080/?room=1000");
  EXPECT_EQ(last_event().data["meeting"]["join_url"], "http://conf.example.org:8080/?room=1000");

  const Invitation invitation = parse_invitation(get("/v1/meetings/weekly.ics"));
  EXPECT_EQ(invitation.url, "http://conf.example.org:8080/?room=1000");  // RFC 5545 §3.8.4.6
  EXPECT_EQ(invitation.location, "sip:1000@conf.example.org");
  EXPECT_THAT(invitation.description, HasSubstr("Join from a browser: http://conf.example.org:8080/?room=1000\n"));

  // join_url is the server's to say: writing it is refused like the other output-only members.
  const auto written = patch("/v1/meetings/weekly", {{"join_url", "http://elsewhere.example/"}}, etag_of(created));
  ASSERT_EQ(written.status(), 422u) << written.message.body();
  EXPECT_EQ(body_of(written)["errors"][0]["field"], "/join_url");
}

}  // namespace meeting_routes_test
}  // namespace chorus::rest::api_test
