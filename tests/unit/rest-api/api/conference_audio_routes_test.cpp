// The live audio controls of /v1/conferences: PATCH a participant's audio_muted and gain_db, PATCH
// a conference's guests_muted, and the participant fields they show (muted, audio_muted, gain_db,
// moderator, admitted, talking), with the events and the 422/404 refusals.
#include <gtest/gtest.h>

#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace conference_audio_routes_test {

class ConferenceAudioRoutesTest : public ConferenceApiTest {
 protected:
  // A participant in room 1000, reached by dialling out to a callee that answers.
  std::string join() {
    const auto response = dial({{"to", "sip:alice@127.0.0.1:5090"}});
    EXPECT_EQ(response.status(), 202U) << response.message.body();
    const sip::SipMessage invite = last_invite();
    callee_responds(invite, 200);
    return body_of(response)["id"];
  }
  json participant(const std::string& id) {
    const json listed = body_of(get("/v1/conferences/1000/participants"));
    for (const auto& item : listed["items"])
      if (item["id"] == id) return item;
    ADD_FAILURE() << "participant " << id << " not listed";
    return {};
  }
  HttpResponse patch_participant(const std::string& id, json body) {
    return call({.method = http::verb::patch, .target = "/v1/conferences/1000/participants/" + id, .body = body});
  }
};

TEST_F(ConferenceAudioRoutesTest, ParticipantShowsItsAudioState) {
  const std::string id = join();
  const json item = participant(id);
  EXPECT_EQ(item["muted"], false);
  EXPECT_EQ(item["audio_muted"], false);
  EXPECT_EQ(item["talking"], false);
  EXPECT_EQ(item["admitted"], true);  // room 1000 has no PIN
  EXPECT_EQ(item["moderator"], false);
  EXPECT_EQ(item["gain_db"], 0.0);
}

TEST_F(ConferenceAudioRoutesTest, PatchAudioMutedMutesAndPublishes) {
  const std::string id = join();
  const auto muted = patch_participant(id, {{"audio_muted", true}});
  ASSERT_EQ(muted.status(), 200U) << muted.message.body();
  EXPECT_EQ(body_of(muted)["muted"], true);
  EXPECT_EQ(body_of(muted)["audio_muted"], true);
  EXPECT_EQ(participant(id)["muted"], true);
  EXPECT_EQ(last_event_of("participant.muted")["participant_id"], std::stoull(id));

  ASSERT_EQ(patch_participant(id, {{"audio_muted", false}}).status(), 200U);
  EXPECT_EQ(participant(id)["muted"], false);
  EXPECT_FALSE(last_event_of("participant.unmuted").is_null());
}

TEST_F(ConferenceAudioRoutesTest, PatchGainIsKeptWithinItsRange) {
  const std::string id = join();
  const auto response = patch_participant(id, {{"gain_db", -6.5}});
  ASSERT_EQ(response.status(), 200U) << response.message.body();
  EXPECT_EQ(body_of(response)["gain_db"], -6.5);
  const auto too_loud = patch_participant(id, {{"gain_db", 40}});
  EXPECT_EQ(too_loud.status(), 422U);
  EXPECT_EQ(error_fields(too_loud), std::vector<std::string>{"/gain_db"});
  EXPECT_EQ(participant(id)["gain_db"], -6.5);  // the refused PATCH changed nothing
}

TEST_F(ConferenceAudioRoutesTest, BadParticipantPatchesAreRefused) {
  const std::string id = join();
  const auto bad = patch_participant(id, {{"audio_muted", "yes"}, {"talking", true}});
  EXPECT_EQ(bad.status(), 422U);
  const auto fields = error_fields(bad);
  EXPECT_NE(std::ranges::find(fields, "/audio_muted"), fields.end());
  EXPECT_NE(std::ranges::find(fields, "/talking"), fields.end());  // read-only
  EXPECT_EQ(patch_participant("999", {{"audio_muted", true}}).status(), 404U);
  EXPECT_EQ(participant(id)["muted"], false);
}

TEST_F(ConferenceAudioRoutesTest, GuestsMutedMutesEveryGuest) {
  const std::string id = join();
  const auto response =
      call({.method = http::verb::patch, .target = "/v1/conferences/1000", .body = json{{"guests_muted", true}}});
  ASSERT_EQ(response.status(), 200U) << response.message.body();
  EXPECT_EQ(body_of(response)["guests_muted"], true);
  const json item = participant(id);
  EXPECT_EQ(item["muted"], false);       // not its own mute
  EXPECT_EQ(item["audio_muted"], true);  // but the others do not hear a guest
  const auto bad =
      call({.method = http::verb::patch, .target = "/v1/conferences/1000", .body = json{{"guests_muted", 1}}});
  EXPECT_EQ(bad.status(), 422U);
}

}  // namespace conference_audio_routes_test
}  // namespace chorus::rest::api_test
