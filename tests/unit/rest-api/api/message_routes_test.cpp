// /v1/conferences/{id}/messages (message_routes.hpp) through the Router, with the real
// ConferenceService, UserAgent and ChatService (its ConferenceRoster): a dialled-out callee is the
// conference's participant; posts reach it as in-dialog MESSAGE and the history lists them.
#include <gtest/gtest.h>

#include "conference/chat/chat_service.hpp"
#include "rest-api/api/message_routes.hpp"
#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace message_routes_test {

class MessageRoutesTest : public ConferenceApiTest {
 protected:
  MessageRoutesTest() {
    conference_->set_chat(std::make_unique<conference::ChatService>(
        ua_, std::make_unique<conference::ConferenceRoster>(*conference_, rooms_), &events_,
        conference::ChatSettings{.sip_host = "192.0.2.1"}));
    ua_.add_method_handler("MESSAGE", conference::kChatBodyTypes, *conference_->chat());
    add_message_routes(router_, *services_);
  }

  // Alice, dialled into room 1000, answers with an Allow that lists MESSAGE.
  void alice_joins() {
    ASSERT_EQ(dial({{"to", "sip:alice@127.0.0.1:5090"}, {"display_name", "Alice"}}).status(), 202U);
    const sip::SipMessage invite = last_invite();
    sip::SipMessage ok = sip::make_response(invite, 200, "callee-tag");
    ok.add_header("Contact", "<sip:alice@127.0.0.1:5090>");
    ok.add_header("Allow", "INVITE, ACK, BYE, MESSAGE");
    ok.add_header("Content-Type", "application/sdp");
    ok.body = std::string(kCalleeAnswer);
    transactions_.on_message(sip::uatest::parse(ok.serialize()), callee_);
    ASSERT_EQ(conference_->participant_count(), 1U);
  }
};

TEST_F(MessageRoutesTest, APostReachesTheParticipantsAndTheHistoryListsItNewestLast) {
  alice_joins();
  const auto first = post("/v1/conferences/1000/messages", {{"text", "welcome"}, {"from", "Operator"}});
  ASSERT_EQ(first.status(), 201U) << first.message.body();
  EXPECT_EQ(body_of(first)["from"]["display_name"], "Operator");
  EXPECT_TRUE(body_of(first)["from"]["participant_id"].is_null());
  EXPECT_EQ(body_of(first)["origin"], "api");
  const auto messages = sender_.requests("MESSAGE");
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].body, "Operator: welcome");
  EXPECT_EQ(messages[0].request_uri_text, "sip:alice@127.0.0.1:5090") << "in Alice's dialog";
  ASSERT_EQ(post("/v1/conferences/1000/messages", {{"text", "second"}}).status(), 201U);
  EXPECT_EQ(sender_.requests("MESSAGE").back().body, "1000: second") << "no name: the room's id";

  const auto listed = get("/v1/conferences/1000/messages");
  ASSERT_EQ(listed.status(), 200U);
  const json all = body_of(listed);
  ASSERT_EQ(all["messages"].size(), 2U);
  EXPECT_EQ(all["messages"][1]["text"], "second");
  EXPECT_EQ(all["last_seq"], all["messages"][1]["seq"]);
  const auto since = get("/v1/conferences/1000/messages?since=" + std::to_string(all["messages"][0]["seq"].get<int>()));
  ASSERT_EQ(body_of(since)["messages"].size(), 1U);
  EXPECT_EQ(body_of(since)["messages"][0]["text"], "second");
  EXPECT_EQ(last_event_of(conference::kChatMessageEvent)["text"], "second");
}

TEST_F(MessageRoutesTest, RefusalsAreProblems) {
  EXPECT_EQ(get("/v1/conferences/1000/messages").status(), 404U) << "no conference runs";
  EXPECT_EQ(post("/v1/conferences/1000/messages", {{"text", "anyone?"}}).status(), 404U);
  alice_joins();
  EXPECT_EQ(post("/v1/conferences/1000/messages", {{"text", std::string(4097, 'a')}}).status(), 422U);
  EXPECT_EQ(post("/v1/conferences/1000/messages", {{"text", ""}}).status(), 422U);
  EXPECT_EQ(post("/v1/conferences/1000/messages", {{"text", "hi"}, {"from", "a\nb"}}).status(), 422U);
  EXPECT_EQ(post("/v1/conferences/1000/messages", {{"text", "hi"}, {"html", true}}).status(), 422U);
  EXPECT_EQ(get("/v1/conferences/1000/messages?since=-1").status(), 400U);
  EXPECT_TRUE(sender_.requests("MESSAGE").empty());
}

}  // namespace message_routes_test
}  // namespace chorus::rest::api_test
