// UserAgent early media as a UAS (RFC 3960 §3; RFC 3261 §13.3.1.1, §9.2, §15.1.2, §17.2.1): a 183
// decision is sent with To tag, Contact and the SDP; the final non-2xx follows later in the same
// transaction and its ACK is absorbed; CANCEL, BYE and the early timeout each end the call once.
// Driven through a real TransactionLayer with a fake clock.
#include <gtest/gtest.h>

#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace user_agent_early_test {

using uatest::kCallerOffer;
using uatest::kListenerAnswer;
using uatest::RequestSpec;
using uatest::UaHarness;

RequestSpec invite(std::string branch = "z9hG4bKearly1") {
  RequestSpec spec;
  spec.branch = std::move(branch);
  spec.content_type = "application/sdp";
  spec.body = std::string(kCallerOffer);
  return spec;
}

// The ACK for a non-2xx final response: same branch as the INVITE (§17.1.1.3), the response's To tag.
RequestSpec ack_of(const RequestSpec& inv, const std::string& to_tag) {
  RequestSpec ack;
  ack.method = "ACK";
  ack.branch = inv.branch;
  ack.to_tag = to_tag;
  return ack;
}

struct UserAgentEarlyMedia : ::testing::Test {
  UserAgentEarlyMedia() { h.listener.decision = CallDecision{183, {}, std::string(kListenerAnswer), {}}; }

  CallHandle start() {
    h.deliver(spec);
    EXPECT_EQ(h.listener.incoming.size(), 1u);
    return h.listener.incoming.empty() ? 0 : h.listener.incoming[0].handle;
  }
  std::string early_tag() const {
    auto progress = h.sender.responses(183, "INVITE");
    return progress.empty() ? std::string() : progress.front().to.tag();
  }

  UaHarness h;
  RequestSpec spec = invite();
};

TEST_F(UserAgentEarlyMedia, SessionProgressCarriesToTagContactAndTheAnswer) {
  spec.headers = {"Record-Route: <sip:p1.example.com;lr>"};
  h.deliver(spec);
  auto progress = h.sender.responses(183, "INVITE");
  ASSERT_EQ(progress.size(), 1u);
  const SipMessage& p = progress[0];
  EXPECT_EQ(p.reason, "Session Progress");
  EXPECT_FALSE(p.to.tag().empty()) << "§12.1.1: a dialog-creating response has a To tag";
  ASSERT_EQ(p.contacts.size(), 1u);
  EXPECT_EQ(p.contacts[0].uri_text, "sip:chorus@127.0.0.1:5060");
  ASSERT_TRUE(p.has_header("Content-Type"));
  EXPECT_EQ(*p.header("Content-Type"), "application/sdp");
  EXPECT_EQ(p.body, kListenerAnswer);
  EXPECT_FALSE(p.has_header("Require")) << "unreliable: no 100rel";
  EXPECT_FALSE(p.has_header("RSeq"));
  ASSERT_EQ(p.header_values("Record-Route").size(), 1u);
  // No 100 Trying besides (the 183 stopped Timer A), no final response yet, and no retransmission.
  EXPECT_EQ(h.sender.sent.size(), 1u);
  h.timers.advance(Millis(20000));
  EXPECT_EQ(h.sender.sent.size(), 1u) << "§13.3.1.1: no retransmission of a provisional without 100rel";
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST_F(UserAgentEarlyMedia, RetransmittedInviteGetsTheSameSessionProgress) {
  start();
  h.deliver(spec);  // the caller's Timer A re-sends the INVITE
  auto progress = h.sender.responses(183, "INVITE");
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1].to.tag(), progress[0].to.tag());
  EXPECT_EQ(progress[1].body, progress[0].body);
  EXPECT_EQ(h.listener.incoming.size(), 1u) << "the listener hears of the call once";
}

TEST_F(UserAgentEarlyMedia, LaterRejectionIsTheFinalResponseAndItsAckIsAbsorbed) {
  const CallHandle call = start();
  h.timers.advance(Millis(5000));  // the prompt plays
  EXPECT_TRUE(h.ua.reject_after_early_media(call, 480, "Meeting Not Started",
                                            {{"Warning", "399 chorus \"This meeting has not started\""}}));
  auto finals = h.sender.responses(480, "INVITE");
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].reason, "Meeting Not Started");
  EXPECT_EQ(finals[0].to.tag(), early_tag()) << "the final response belongs to the same dialog";
  ASSERT_TRUE(finals[0].has_header("Warning"));
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].first, call);
  EXPECT_EQ(h.ua.call_count(), 0u);

  // §17.2.1: Timer G re-sends the 480 until the ACK, which the transaction absorbs.
  h.timers.advance(Millis(500));
  EXPECT_EQ(h.sender.responses(480, "INVITE").size(), 2u);
  h.deliver(ack_of(spec, early_tag()));
  const std::size_t sent = h.sender.sent.size();
  h.timers.advance(Millis(64000));
  EXPECT_EQ(h.sender.sent.size(), sent) << "after the ACK: no more 480s, no BYE";
  EXPECT_EQ(h.transactions.server_count(), 0u);
  EXPECT_EQ(h.listener.ended.size(), 1u);
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 480)) << "the call is gone";
}

TEST_F(UserAgentEarlyMedia, RejectionRefusesAStatusThatIsNotFinalNon2xx) {
  const CallHandle call = start();
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 200));
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 180));
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 700));
  EXPECT_EQ(h.sender.sent.size(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
  EXPECT_TRUE(h.ua.reject_after_early_media(call, 486));
}

TEST_F(UserAgentEarlyMedia, RejectionOfAConfirmedCallIsRefused) {
  h.listener.decision = CallDecision{200, {}, std::string(kListenerAnswer), {}};
  h.establish();
  const CallHandle call = h.listener.incoming[0].handle;
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 480));
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST_F(UserAgentEarlyMedia, CancelWhileEarlyGets200AndTheInvite487AndTheListenerIsTold) {
  const CallHandle call = start();
  RequestSpec cancel;
  cancel.method = "CANCEL";
  cancel.branch = spec.branch;  // §9.1: the CANCEL names the INVITE's transaction
  h.deliver(cancel);
  auto cancel_ok = h.sender.responses(200, "CANCEL");
  ASSERT_EQ(cancel_ok.size(), 1u);
  EXPECT_EQ(cancel_ok[0].to.tag(), early_tag()) << "§9.2: the 200 to CANCEL carries the INVITE response's tag";
  auto terminated = h.sender.responses(487, "INVITE");
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(terminated[0].to.tag(), early_tag());
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].first, call);
  EXPECT_EQ(h.listener.ended[0].second, "CANCEL from caller");
  EXPECT_EQ(h.ua.call_count(), 0u);
  h.deliver(ack_of(spec, early_tag()));
  h.timers.advance(Millis(64000));
  EXPECT_EQ(h.sender.responses(487, "INVITE").size(), 1u) << "the ACK stopped Timer G";
  EXPECT_FALSE(h.ua.reject_after_early_media(call, 480));
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST_F(UserAgentEarlyMedia, ByeOnTheEarlyDialogGets200AndTheInvite487) {
  const CallHandle call = start();
  RequestSpec bye;
  bye.method = "BYE";
  bye.to_tag = early_tag();
  bye.cseq = 2;
  h.deliver(bye);
  EXPECT_EQ(h.sender.responses(200, "BYE").size(), 1u);
  EXPECT_EQ(h.sender.responses(487, "INVITE").size(), 1u);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].first, call);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST_F(UserAgentEarlyMedia, UpdateAndInfoOnTheEarlyDialogAreRefusedAndTheCallStays) {
  start();
  RequestSpec info;
  info.method = "INFO";
  info.to_tag = early_tag();
  info.cseq = 2;
  h.deliver(info);
  EXPECT_EQ(h.sender.responses(403, "INFO").size(), 1u);
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST_F(UserAgentEarlyMedia, EarlyTimeoutSends480AndEndsTheCall) {
  UserAgentConfig config;
  config.early_media_timeout = Millis(10000);
  UaHarness timed(config);
  timed.listener.decision = h.listener.decision;
  timed.deliver(spec);
  timed.timers.advance(Millis(9999));
  EXPECT_TRUE(timed.sender.responses(480, "INVITE").empty());
  timed.timers.advance(Millis(1));
  auto finals = timed.sender.responses(480, "INVITE");
  ASSERT_EQ(finals.size(), 1u);
  ASSERT_EQ(timed.listener.ended.size(), 1u);
  EXPECT_EQ(timed.listener.ended[0].second, "early media timed out");
  EXPECT_EQ(timed.ua.call_count(), 0u);
}

TEST_F(UserAgentEarlyMedia, DefaultEarlyBoundIsThirtySeconds) {
  start();
  h.timers.advance(Millis(29999));
  EXPECT_TRUE(h.listener.ended.empty());
  h.timers.advance(Millis(1));
  EXPECT_EQ(h.sender.responses(480, "INVITE").size(), 1u);
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST_F(UserAgentEarlyMedia, HangUpOfAnEarlyCallSends480NotBye) {
  const CallHandle call = start();
  EXPECT_TRUE(h.ua.hang_up(call, "kicked"));
  EXPECT_EQ(h.sender.responses(480, "INVITE").size(), 1u);
  EXPECT_TRUE(h.sender.requests("BYE").empty()) << "§15: the callee MUST NOT send BYE on an early dialog";
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST_F(UserAgentEarlyMedia, ShutdownAnswersEarlyCalls503) {
  start();
  h.ua.shutdown();
  auto finals = h.sender.responses(503, "INVITE");
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_TRUE(finals[0].has_header("Retry-After"));
  EXPECT_EQ(h.listener.ended.size(), 1u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
}

TEST_F(UserAgentEarlyMedia, EarlyDecisionForAnInviteWithoutOfferIs500) {
  // §13.2.1: without an offer in the INVITE, ours must go in a reliable response; a plain 183 is not.
  RequestSpec no_offer;
  h.deliver(no_offer);
  EXPECT_EQ(h.sender.responses(500, "INVITE").size(), 1u);
  EXPECT_TRUE(h.sender.responses(183).empty());
  EXPECT_EQ(h.ua.call_count(), 0u);
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST_F(UserAgentEarlyMedia, EarlyDecisionWithoutSdpIs500) {
  h.listener.decision = CallDecision{183, {}, {}, {}};
  h.deliver(spec);
  EXPECT_EQ(h.sender.responses(500, "INVITE").size(), 1u);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

}  // namespace user_agent_early_test
}  // namespace chorus::sip
