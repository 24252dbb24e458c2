// POST /v1/conferences/{id}/participants (dial-out) through the Router, with the real
// ConferenceService and a real UserAgent/TransactionLayer whose sender records the wire: the 202,
// the INVITE it causes, the callee's canned answers (200 → listed + participant.joined + kicked by
// BYE; 486 → participant.dial_failed), and every refusal (422 with errors[], 404, 409, 403).
#include "rest-api/api/dial_out_route.hpp"

#include <gtest/gtest.h>

#include "rest-api/api/conference_routes.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/ua/user_agent.hpp"
#include "tests/unit/rest-api/api/api_test_fixture.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::rest::api_test {
namespace {

constexpr std::string_view kCalleeAnswer =
    "v=0\r\no=alice 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

class DialOutRouteTest : public ApiRoutesTest {
 protected:
  DialOutRouteTest() {
    ua_.attach(transactions_);
    conference_->set_event_log(&events_);
    conference_->set_dialer([this](const sip::OutgoingCallRequest& request) { return ua_.dial(request); });
    services_->dial_out = [this](const conference::DialOutRequest& request) { return conference_->dial_out(request); };
    services_->hang_up = [this](sip::CallHandle call, std::string_view reason) { return ua_.hang_up(call, reason); };
    add_conference_routes(router_, *services_);
    add_dial_out_route(router_, *services_);
  }

  HttpResponse dial(json body, std::string room = "1000", std::string token = {}) {
    return post("/v1/conferences/" + room + "/participants", std::move(body), std::move(token));
  }
  sip::SipMessage last_invite() {
    auto invites = sender_.requests("INVITE");
    if (invites.empty()) ADD_FAILURE() << "no INVITE was sent";
    return invites.empty() ? sip::SipMessage{} : invites.back();
  }
  // The callee answers `request` with `status` (and, for a 2xx to the INVITE, its SDP answer).
  void callee_responds(const sip::SipMessage& request, int status) {
    sip::SipMessage response = sip::make_response(request, status, "callee-tag");
    if (status >= 200 && status < 300 && request.method == "INVITE") {
      response.add_header("Contact", "<sip:alice@127.0.0.1:5090>");
      response.add_header("Content-Type", "application/sdp");
      response.body = std::string(kCalleeAnswer);
    }
    transactions_.on_message(sip::uatest::parse(response.serialize()), callee_);
  }
  json last_event_of(std::string_view type) const {
    json found;
    for (const auto& event : events_.since(0, 1000).events)
      if (event.type == type) found = event.data;
    return found;
  }

  ManualTimerQueue timers_;
  sip::uatest::RecordingSender sender_;
  sip::UserAgent ua_{timers_, sender_, *conference_};
  sip::TransactionLayer transactions_{timers_, sender_, ua_};
  sip::PeerAddress callee_ = sip::uatest::udp_peer("127.0.0.1", 5090);
};

TEST_F(DialOutRouteTest, AcceptedDialJoinsOnAnswerAndLeavesByBye) {
  const auto response = dial({{"to", "sip:alice@127.0.0.1:5090"}, {"display_name", "Alice"}});
  ASSERT_EQ(response.status(), 202U) << response.message.body();
  const json body = body_of(response);
  EXPECT_EQ(body["to"], "sip:alice@127.0.0.1:5090");
  EXPECT_EQ(body["state"], "dialing");
  const std::string id = body["id"];

  // The INVITE carries the room's offer; until the answer nobody is in the conference.
  const sip::SipMessage invite = last_invite();
  EXPECT_EQ(invite.request_uri_text, "sip:alice@127.0.0.1:5090");
  EXPECT_EQ(invite.from.uri_text.rfind("sip:1000@", 0), 0U) << invite.from.uri_text;
  EXPECT_NE(invite.body.find("m=audio "), std::string::npos);
  EXPECT_EQ(get("/v1/conferences/1000/participants").status(), 404U);

  callee_responds(invite, 180);
  callee_responds(invite, 200);
  EXPECT_EQ(sender_.requests("ACK").size(), 1U);
  const auto listed = get("/v1/conferences/1000/participants");
  ASSERT_EQ(listed.status(), 200U);
  const json items = body_of(listed)["items"];
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(items[0]["caller_id"], "sip:alice@127.0.0.1:5090");
  EXPECT_EQ(items[0]["display_name"], "Alice");
  EXPECT_EQ(items[0]["codecs"], json::array({"PCMU/8000"}));
  const json joined = last_event_of("participant.joined");
  EXPECT_EQ(joined["participant_id"], std::stoull(id));
  EXPECT_EQ(joined["conference_id"], "1000");

  EXPECT_EQ(del("/v1/conferences/1000/participants/" + id).status(), 204U);
  auto byes = sender_.requests("BYE");
  ASSERT_EQ(byes.size(), 1U);
  EXPECT_EQ(byes[0].request_uri_text, "sip:alice@127.0.0.1:5090");
  EXPECT_EQ(byes[0].to.tag(), "callee-tag");
  EXPECT_FALSE(last_event_of("participant.left").is_null());
  EXPECT_EQ(conference_->participant_count(), 0U);
}

TEST_F(DialOutRouteTest, BusyCalleePublishesDialFailed) {
  const auto response = dial({{"to", "sip:bob@127.0.0.1:5090"}});
  ASSERT_EQ(response.status(), 202U) << response.message.body();
  callee_responds(last_invite(), 486);
  const json failed = last_event_of("participant.dial_failed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], 486);
  EXPECT_EQ(failed["to"], "sip:bob@127.0.0.1:5090");
  EXPECT_EQ(failed["conference_id"], "1000");
  EXPECT_EQ(failed["participant_id"], std::stoull(std::string(body_of(response)["id"])));
  EXPECT_TRUE(last_event_of("participant.joined").is_null());
  EXPECT_EQ(conference_->participant_count(), 0U);
  EXPECT_EQ(conference_->dialing_in("1000"), 0U);
}

TEST_F(DialOutRouteTest, NoAnswerIsCancelledAndFails408) {
  ASSERT_EQ(dial({{"to", "sip:carol@127.0.0.1:5090"}}).status(), 202U);
  const sip::SipMessage invite = last_invite();
  callee_responds(invite, 180);
  timers_.advance(Millis{60'000});
  auto cancels = sender_.requests("CANCEL");
  ASSERT_EQ(cancels.size(), 1U);
  callee_responds(cancels[0], 200);
  callee_responds(invite, 487);
  EXPECT_EQ(last_event_of("participant.dial_failed")["status"], 408);
}

TEST_F(DialOutRouteTest, InvalidBodiesAre422WithTheirFields) {
  const std::vector<std::pair<json, std::vector<std::string>>> cases = {
      {json::object(), {"/to"}},
      {{{"to", 42}}, {"/to"}},
      {{{"to", "tel:+15551234"}}, {"/to"}},
      {{{"to", "https://example.com"}}, {"/to"}},
      {{{"to", "sip:"}}, {"/to"}},
      {{{"to", "sip:alice@127.0.0.1"}, {"display_name", 7}}, {"/display_name"}},
      {{{"to", "sip:alice@127.0.0.1"}, {"ringtone", "x"}}, {"/ringtone"}},
      {{{"to", "sip:alice@unresolvable-host.invalid"}}, {"/to"}},
  };
  for (const auto& [body, fields] : cases) {
    const auto response = dial(body);
    EXPECT_EQ(response.status(), 422U) << body.dump();
    EXPECT_EQ(header_of(response, http::field::content_type), "application/problem+json") << body.dump();
    EXPECT_EQ(error_fields(response), fields) << body.dump();
  }
  EXPECT_EQ(
      call({.method = http::verb::post, .target = "/v1/conferences/1000/participants", .raw_body = "[1"}).status(),
      400U);
  EXPECT_TRUE(sender_.sent.empty());
}

TEST_F(DialOutRouteTest, UnknownLockedAndFullRoomsAreRefused) {
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}, "no-such-room").status(), 404U);

  conference::Room locked = *rooms_.find("1000");
  locked.locked = true;
  rooms_.replace(locked);
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}).status(), 409U);

  conference::Room small = *rooms_.find("echo");
  small.max_participants = 1;
  rooms_.replace(small);
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}, "echo").status(), 202U);
  const auto full = dial({{"to", "sip:bob@127.0.0.1:5090"}}, "echo");  // the dial in progress holds the place
  EXPECT_EQ(full.status(), 409U);
  EXPECT_EQ(sender_.requests("INVITE").size(), 1U);
}

TEST_F(DialOutRouteTest, NeedsConferencesModerate) {
  const auto response = dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", std::string(kReaderToken));
  EXPECT_EQ(response.status(), 403U);
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", "-").status(), 401U);
  EXPECT_TRUE(sender_.sent.empty());
}

}  // namespace
}  // namespace chorus::rest::api_test
