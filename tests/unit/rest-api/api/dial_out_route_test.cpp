// POST /v1/conferences/{id}/participants (dial-out) through the Router, with the real
// ConferenceService and a real UserAgent/TransactionLayer whose sender records the wire: the 202,
// the INVITE it causes, the callee's canned answers (200 → listed + participant.joined + kicked by
// BYE; 486 → participant.dial_failed), and every refusal (422 with errors[], 404, 409, 403).
#include "rest-api/api/dial_out_route.hpp"

#include <gtest/gtest.h>

#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace dial_out_route_test {

using DialOutRouteTest = ConferenceApiTest;

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

TEST_F(DialOutRouteTest, NeedsCallsDialOutScope) {
  const auto response = dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", std::string(kReaderToken));
  EXPECT_EQ(response.status(), 403U);
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", "-").status(), 401U);
  // Moderating a conference is not enough to make the server call out (issue 12).
  constexpr std::string_view kModeratorToken = "chorus_moderator_token_for_tests";
  constexpr std::string_view kDialerToken = "chorus_dialer_token_for_tests";
  ASSERT_TRUE(
      store_
          ->create_api_key(
              {"key-moderator", "moderator", {"conferences:moderate"}, hash_token(kModeratorToken), utc(2026, 1, 1, 0)})
          .has_value());
  ASSERT_TRUE(
      store_->create_api_key({"key-dialer", "dialer", {"calls:dial_out"}, hash_token(kDialerToken), utc(2026, 1, 1, 0)})
          .has_value());
  const auto moderator = dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", std::string(kModeratorToken));
  EXPECT_EQ(moderator.status(), 403U);
  EXPECT_NE(header_of(moderator, http::field::www_authenticate).find("insufficient_scope"), std::string::npos);
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}}, "1000", std::string(kDialerToken)).status(), 202U);
  EXPECT_EQ(sender_.requests("INVITE").size(), 1U);
}

// Issue 12: the egress policy answers 403 problem+json naming the reason, and nothing is sent.
TEST_F(DialOutRouteTest, TargetsOutsideTheAllowListOrSpecialAreRefused403) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sip:alice@198.51.100.1:5060", "198.51.100.1 is not in dial_out_allow"},
      {"sip:alice@127.0.0.2:5060", "127.0.0.2 is loopback (refused unless dial_out_allow lists it)"},
      {"sip:alice@169.254.169.254", "169.254.169.254 is link-local (refused unless dial_out_allow lists it)"},
      {"sip:alice@224.0.0.1", "224.0.0.1 is multicast (refused unless dial_out_allow lists it)"},
      {"sip:alice@0.0.0.0", "0.0.0.0 is unspecified (refused unless dial_out_allow lists it)"},
      {"sip:alice@evil.example.org", "host evil.example.org is not in dial_out_allow"},
  };
  for (const auto& [target, reason] : cases) {
    const auto response = dial({{"to", target}});
    ASSERT_EQ(response.status(), 403U) << target;
    EXPECT_EQ(header_of(response, http::field::content_type), "application/problem+json");
    const json body = body_of(response);
    EXPECT_EQ(body["type"], "https://chorus.example/problems/egress-refused") << target;
    EXPECT_EQ(body["detail"], reason) << target;
    EXPECT_EQ(error_fields(response), std::vector<std::string>{"/to"});
  }
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(conference_->dial_out_refused(), cases.size());
  EXPECT_EQ(conference_->dialing_in("1000"), 0U);
}

// A listed name is dialled after it resolves; what it resolves to is checked again (a name the
// allow-list trusts that resolves to loopback is refused: participant.dial_failed 403).
TEST_F(DialOutRouteTest, ListedNameResolvingToLoopbackFailsWithDialFailed403) {
  class OneAnswer final : public sip::HostResolver {
   public:
    void resolve(const std::string& host, Done done) override {
      hosts.push_back(host);
      pending = std::move(done);
    }
    std::vector<std::string> hosts;
    Done pending;
  } resolver;
  ua_.set_resolver(resolver);
  const auto response = dial({{"to", "sip:alice@pbx.example.com"}});
  ASSERT_EQ(response.status(), 202U) << response.message.body();
  ASSERT_EQ(resolver.hosts, std::vector<std::string>{"pbx.example.com"});
  resolver.pending(std::vector{boost::asio::ip::make_address("127.0.0.9")});
  const json failed = last_event_of("participant.dial_failed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], 403);
  EXPECT_NE(failed["reason"].get<std::string>().find("127.0.0.9 is loopback"), std::string::npos);
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(conference_->dialing_in("1000"), 0U);
}

TEST_F(DialOutRouteTest, LongDisplayNameIsBoundedInTheEvent) {
  const std::string name(200, 'N');  // the REST limit; events keep 128 bytes
  ASSERT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}, {"display_name", name}}).status(), 202U);
  callee_responds(last_invite(), 486);
  const json failed = last_event_of("participant.dial_failed");
  ASSERT_FALSE(failed.is_null());
  const std::string shown = failed["display_name"];
  EXPECT_EQ(shown.size(), 128U);
  EXPECT_EQ(shown, std::string(125, 'N') + "\xE2\x80\xA6");
}

}  // namespace dial_out_route_test
}  // namespace chorus::rest::api_test
