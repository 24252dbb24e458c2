// Dial-out through a trunk (issue 15): POST /v1/conferences/{id}/participants {"to": number,
// "trunk": id} sends the INVITE to sip:<E.164>@<the trunk's first target> with the trunk's caller-ID
// (From user, P-Asserted-Identity) and answers its 407 with the trunk's outbound credentials.
#include <gtest/gtest.h>

#include "conference/trunks/trunk_directory.hpp"
#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace trunk_dial_out_test {

class TrunkDialOutTest : public ConferenceApiTest {
 protected:
  TrunkDialOutTest() {
    conference::Trunk trunk;
    trunk.id = "trk_pbx";
    trunk.name = "pbx";
    trunk.targets = {{.host = "127.0.0.1", .port = 5090, .transport = std::nullopt}};
    trunk.outbound = conference::TrunkCredentials{.username = "chorus-out", .password = "out-s3cret"};
    trunk.numbering = {.country_code = "49", .national_prefix = "0", .international_prefix = "00"};
    trunk.caller_id = "+4930999000";
    trunks_.replace(trunk);
    conference_->set_trunks(&trunks_);
  }
  conference::TrunkDirectory trunks_;
};

TEST_F(TrunkDialOutTest, NumberIsNormalisedAndChallengeAnsweredWithTheTrunksCredentials) {
  const auto response = dial({{"to", "030 123456"}, {"trunk", "trk_pbx"}});
  ASSERT_EQ(response.status(), 202U) << response.message.body();
  const sip::SipMessage invite = last_invite();
  EXPECT_EQ(invite.request_uri_text, "sip:+4930123456@127.0.0.1:5090");
  EXPECT_EQ(invite.from.uri.user, "+4930999000");
  EXPECT_EQ(invite.from.uri.host, "127.0.0.1");
  ASSERT_NE(invite.header("P-Asserted-Identity"), nullptr);
  EXPECT_EQ(*invite.header("P-Asserted-Identity"), "<sip:+4930999000@127.0.0.1>");

  sip::SipMessage challenge = sip::make_response(invite, 407, "proxy-tag");
  challenge.add_header("Proxy-Authenticate", R"(Digest realm="pbx.example", nonce="n1", qop="auth")");
  transactions_.on_message(sip::uatest::parse(challenge.serialize()), callee_);
  const auto invites = sender_.requests("INVITE");
  ASSERT_EQ(invites.size(), 2U);
  ASSERT_NE(invites[1].header("Proxy-Authorization"), nullptr);
  EXPECT_NE(invites[1].header("Proxy-Authorization")->find("username=\"chorus-out\""), std::string::npos);
  EXPECT_EQ(invites[1].call_id, invite.call_id);
  callee_responds(invites[1], 200);
  EXPECT_EQ(conference_->participant_count(), 1U);
}

TEST_F(TrunkDialOutTest, UnknownTrunkOrJunkNumberIs422) {
  EXPECT_EQ(dial({{"to", "+4930123456"}, {"trunk", "trk_nope"}}).status(), 422U);
  EXPECT_EQ(dial({{"to", "alice"}, {"trunk", "trk_pbx"}}).status(), 422U);
  EXPECT_EQ(dial({{"to", "+4930123456"}, {"trunk", 7}}).status(), 422U);
  // Without a trunk a number is no target.
  EXPECT_EQ(dial({{"to", "+4930123456"}}).status(), 422U);
  EXPECT_TRUE(sender_.requests("INVITE").empty());
}

}  // namespace trunk_dial_out_test
}  // namespace chorus::rest::api_test
