// UserAgent::add_method_handler (method_handler.hpp): methods beyond calls reach the layer that
// registered them, inside a call's dialog, in another dialog or outside any, after the UA's RFC 3261
// §8.2 checks; the UA sends requests for them (send_in_call, send_request). Through the real
// TransactionLayer, from wire text.
#include <gtest/gtest.h>

#include "signaling/ua/method_handler.hpp"
#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace method_handler_test {

using uatest::RequestSpec;
using uatest::UaHarness;

// A header's values, joined as one list (the parser splits comma-separated values).
std::string values_of(const SipMessage& message, std::string_view name) {
  std::string out;
  for (auto value : message.header_values(name)) out += (out.empty() ? "" : ", ") + std::string(value);
  return out;
}

// Records what it is handed and answers 200 (or `status`) at once.
class RecordingHandler final : public MethodHandler {
 public:
  explicit RecordingHandler(UserAgent& ua) : ua_(ua) {}
  void on_method_request(const MethodRequest& request) override {
    seen.push_back(Seen{request.request.method, request.call, request.to_tag, request.request.body});
    ua_.send_response(request.transaction, ua_.response_for(request.request, status,
                                                            request.to_tag.empty() ? "handler-tag" : request.to_tag));
  }
  struct Seen {
    std::string method;
    std::optional<CallHandle> call;
    std::string to_tag;
    std::string body;
  };
  std::vector<Seen> seen;
  int status = 200;

 private:
  UserAgent& ua_;
};

RequestSpec message(std::string body, std::string to_tag = {}, std::uint32_t cseq = 1) {
  RequestSpec spec;
  spec.method = "MESSAGE";
  spec.to_tag = std::move(to_tag);
  spec.cseq = cseq;
  spec.content_type = "text/plain";
  spec.body = std::move(body);
  return spec;
}

struct MethodHandlerTest : ::testing::Test {
  MethodHandlerTest() { h.ua.add_method_handler("MESSAGE", {"text/plain", "message/cpim"}, handler); }
  UaHarness h;
  RecordingHandler handler{h.ua};
};

TEST(MethodHandlerWithout, AnUnregisteredMessageIs405WithTheCallMethodsInAllow) {
  UaHarness h;
  h.deliver(message("hi"));
  ASSERT_EQ(h.sender.responses(405).size(), 1U);
  EXPECT_EQ(values_of(h.sender.responses(405)[0], "Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE");
}

TEST_F(MethodHandlerTest, OutsideADialogTheHandlerAnswersAndTheMethodJoinsAllow) {
  h.deliver(message("hello room"));
  ASSERT_EQ(handler.seen.size(), 1U);
  EXPECT_FALSE(handler.seen[0].call.has_value());
  EXPECT_TRUE(handler.seen[0].to_tag.empty());
  EXPECT_EQ(handler.seen[0].body, "hello room");
  ASSERT_EQ(h.sender.responses(200, "MESSAGE").size(), 1U);
  EXPECT_EQ(h.ua.allowed_methods(), "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, MESSAGE");
  RequestSpec options;
  options.method = "OPTIONS";
  h.deliver(options, uatest::tcp_peer());  // a verified source gets the capabilities
  ASSERT_FALSE(h.sender.responses(200, "OPTIONS").empty());
  EXPECT_EQ(values_of(h.sender.responses(200, "OPTIONS").back(), "Allow"), h.ua.allowed_methods());
  EXPECT_EQ(values_of(h.sender.responses(200, "OPTIONS").back(), "Accept"),
            "application/sdp, text/plain, message/cpim");
}

TEST_F(MethodHandlerTest, ABodyTypeTheHandlerDoesNotTakeIs415WithItsTypesInAccept) {
  RequestSpec spec = message("<html/>");
  spec.content_type = "text/html";
  h.deliver(spec);
  EXPECT_TRUE(handler.seen.empty());
  ASSERT_EQ(h.sender.responses(415).size(), 1U);
  EXPECT_EQ(values_of(h.sender.responses(415)[0], "Accept"), "text/plain, message/cpim");
}

TEST_F(MethodHandlerTest, InsideACallsDialogTheHandlerHearsTheCallAndItsTag) {
  const std::string tag = h.establish();
  ASSERT_EQ(h.listener.incoming.size(), 1U);
  h.deliver(message("in the call", tag, 2));
  ASSERT_EQ(handler.seen.size(), 1U);
  EXPECT_EQ(handler.seen[0].call, h.listener.incoming[0].handle);
  EXPECT_EQ(handler.seen[0].to_tag, tag);
  ASSERT_EQ(h.sender.responses(200, "MESSAGE").size(), 1U);
  EXPECT_EQ(h.sender.responses(200, "MESSAGE")[0].to.tag(), tag);
}

TEST_F(MethodHandlerTest, AnOutOfOrderCSeqInACallsDialogNeverReachesTheHandler) {
  const std::string tag = h.establish();
  h.deliver(message("first", tag, 5));
  h.deliver(message("late", tag, 4));  // RFC 3261 §12.2.2
  ASSERT_EQ(handler.seen.size(), 1U);
  EXPECT_EQ(h.sender.responses(500, "MESSAGE").size(), 1U);
}

TEST_F(MethodHandlerTest, ARequestInAnotherDialogGoesToTheHandlerWithItsOwnTag) {
  h.deliver(message("after a subscription's dialog", "subscription-tag"));
  ASSERT_EQ(handler.seen.size(), 1U);
  EXPECT_FALSE(handler.seen[0].call.has_value());
  EXPECT_EQ(handler.seen[0].to_tag, "subscription-tag");
  RequestSpec bye;
  bye.method = "BYE";
  bye.to_tag = "no-such-dialog";
  h.deliver(bye);  // not a registered method: still 481
  EXPECT_EQ(h.sender.responses(481).size(), 1U);
}

TEST_F(MethodHandlerTest, SendInCallPutsTheRequestInTheDialogAndReportsItsAnswer) {
  RequestSpec invite;
  invite.headers = {"Allow: INVITE, ACK, BYE, MESSAGE"};
  h.establish(invite);
  const CallHandle call = h.listener.incoming.at(0).handle;
  EXPECT_TRUE(h.ua.peer_allows(call, "MESSAGE"));
  EXPECT_FALSE(h.ua.peer_allows(call, "SUBSCRIBE"));
  int answered = 0;
  ASSERT_TRUE(h.ua.send_in_call(call, "MESSAGE", {}, "text/plain", "from the room",
                                [&](const SipMessage& response) { answered = response.status; }));
  const auto sent = h.sender.requests("MESSAGE");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].call_id, h.listener.incoming[0].call_id);
  EXPECT_EQ(sent[0].body, "from the room");
  EXPECT_EQ(*sent[0].header("Content-Type"), "text/plain");
  EXPECT_FALSE(sent[0].from.tag().empty());
  EXPECT_EQ(sent[0].to.tag(), "alice-tag") << "the caller's tag: the request is in its dialog";
  h.answer(sent[0], 202);
  EXPECT_EQ(answered, 202);
  EXPECT_FALSE(h.ua.send_in_call(call + 100, "MESSAGE", {}, "text/plain", "nobody"));
}

TEST_F(MethodHandlerTest, SendRequestStampsAViaAndHearsTheFinalResponse) {
  SipMessage notify = uatest::parse(
      "NOTIFY sip:alice@198.51.100.7:5060 SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKremoved\n"
      "Max-Forwards: 70\n"
      "From: <sip:1000@127.0.0.1>;tag=ours\n"
      "To: <sip:alice@example.com>;tag=theirs\n"
      "Call-ID: sub-1@127.0.0.1\n"
      "CSeq: 1 NOTIFY\n"
      "Event: conference\n"
      "Subscription-State: active;expires=600\n"
      "Content-Length: 0\n\n");
  notify.remove_header("Via");  // the request as the handler builds it: the UA adds the Via
  notify.vias.clear();
  int answered = 0;
  h.ua.send_request(notify, uatest::udp_peer(), [&](const SipMessage& response) { answered = response.status; });
  const auto sent = h.sender.requests("NOTIFY");
  ASSERT_EQ(sent.size(), 1U);
  ASSERT_EQ(sent[0].vias.size(), 1U);
  EXPECT_TRUE(sent[0].top_branch().starts_with("z9hG4bK"));
  EXPECT_NE(sent[0].top_branch(), "z9hG4bKremoved");
  h.answer(sent[0], 200);
  EXPECT_EQ(answered, 200);
}

}  // namespace method_handler_test
}  // namespace chorus::sip
