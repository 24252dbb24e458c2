// UserAgent inside an established dialog: re-INVITE (RFC 3261 §14), UPDATE (RFC 3311) and INFO
// DTMF (RFC 6086), each through the real TransactionLayer.
#include <gtest/gtest.h>

#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace user_agent_dialog_test {

using uatest::kCallerHoldOffer;
using uatest::kCallerOffer;
using uatest::kListenerOffer;
using uatest::kListenerReAnswer;
using uatest::RequestSpec;
using uatest::UaHarness;

RequestSpec in_dialog(std::string method, const std::string& to_tag, std::uint32_t cseq) {
  RequestSpec spec;
  spec.method = std::move(method);
  spec.to_tag = to_tag;
  spec.cseq = cseq;
  return spec;
}

RequestSpec with_sdp(RequestSpec spec, std::string_view sdp) {
  spec.content_type = "application/sdp";
  spec.body = std::string(sdp);
  return spec;
}

struct DialogTest : ::testing::Test {
  void SetUp() override { tag = h.establish(); }
  std::size_t oks(std::string_view method) const { return h.sender.responses(200, method).size(); }

  UaHarness h;
  std::string tag;
};

TEST_F(DialogTest, ReInviteWithHoldOfferGetsListenerAnswer) {
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  ASSERT_EQ(h.listener.remote_offers.size(), 1u);
  EXPECT_EQ(h.listener.remote_offers[0], kCallerHoldOffer);
  auto responses = h.sender.responses(200, "INVITE");
  ASSERT_EQ(responses.size(), 2u);
  const SipMessage& ok = responses.back();
  EXPECT_EQ(ok.cseq.number, 2u);
  EXPECT_EQ(ok.to.tag(), tag);
  EXPECT_EQ(ok.body, kListenerReAnswer);
  ASSERT_TRUE(ok.has_header("Content-Type"));
  EXPECT_EQ(*ok.header("Content-Type"), "application/sdp");
  EXPECT_EQ(ok.contacts.size(), 1u);
}

TEST_F(DialogTest, ReInviteOkIsRetransmittedUntilAck) {
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  ASSERT_EQ(oks("INVITE"), 2u);
  h.timers.advance(Millis(500));
  EXPECT_EQ(oks("INVITE"), 3u);
  EXPECT_EQ(h.sender.responses(200, "INVITE").back().cseq.number, 2u);
  h.timers.advance(Millis(1000));
  EXPECT_EQ(oks("INVITE"), 4u);
  h.deliver(in_dialog("ACK", tag, 2));
  h.timers.advance(Millis(60000));
  EXPECT_EQ(oks("INVITE"), 4u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST_F(DialogTest, ReInviteWithoutAckEndsCallWithBye) {
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  h.timers.advance(Millis(32000));
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST_F(DialogTest, ReInviteWhileOkUnackedGets500WithRetryAfter) {
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  h.deliver(with_sdp(in_dialog("INVITE", tag, 3), kCallerOffer));
  auto refused = h.sender.responses(500, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].cseq.number, 3u);
  EXPECT_TRUE(refused[0].has_header("Retry-After"));
  EXPECT_EQ(h.listener.remote_offers.size(), 1u);  // the second offer never reached the listener
}

TEST(UserAgentDialog, ReInviteBeforeInitialAckGets500) {
  UaHarness h;
  const std::string tag = h.establish({}, uatest::udp_peer(), false);
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  auto refused = h.sender.responses(500, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].has_header("Retry-After"));
}

TEST_F(DialogTest, RejectedReOfferKeepsTheCall) {
  h.listener.offer_decision = OfferDecision{488, "Not Here", {}, {{"Warning", "305 chorus \"No common codec\""}}};
  h.deliver(with_sdp(in_dialog("INVITE", tag, 2), kCallerHoldOffer));
  auto refused = h.sender.responses(488, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].has_header("Warning"));
  EXPECT_EQ(h.ua.call_count(), 1u);
  // The non-2xx is the transaction's: ACKed hop-by-hop, nothing for the UA to retransmit.
  h.timers.advance(Millis(64000));
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST_F(DialogTest, ReInviteWithoutOfferGetsOurOfferAndAnswerInAck) {
  h.deliver(in_dialog("INVITE", tag, 2));
  EXPECT_EQ(h.listener.offers_requested, 1);
  auto responses = h.sender.responses(200, "INVITE");
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses.back().body, kListenerOffer);
  h.deliver(with_sdp(in_dialog("ACK", tag, 2), kCallerOffer));
  ASSERT_EQ(h.listener.remote_answers.size(), 1u);
  EXPECT_EQ(h.listener.remote_answers[0], kCallerOffer);
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST_F(DialogTest, ReInviteRefreshesRemoteTarget) {
  RequestSpec reinvite = with_sdp(in_dialog("INVITE", tag, 2), kCallerOffer);
  reinvite.contact = "sip:alice@203.0.113.9:5062";
  h.deliver(reinvite);
  h.deliver(in_dialog("ACK", tag, 2));
  h.ua.shutdown();
  auto byes = h.sender.requests("BYE");
  ASSERT_EQ(byes.size(), 1u);
  // §12.2: the re-INVITE is a target refresh; the BYE goes to the new target.
  EXPECT_EQ(byes[0].request_uri_text, "sip:alice@203.0.113.9:5062");
  EXPECT_EQ(h.sender.sent.back().peer.to_string(), "udp:203.0.113.9:5062");
}

TEST_F(DialogTest, UpdateWithOfferGets200WithAnswer) {
  h.deliver(with_sdp(in_dialog("UPDATE", tag, 2), kCallerHoldOffer));
  ASSERT_EQ(h.listener.remote_offers.size(), 1u);
  EXPECT_EQ(h.listener.remote_offers[0], kCallerHoldOffer);
  auto responses = h.sender.responses(200, "UPDATE");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, kListenerReAnswer);
  EXPECT_EQ(responses[0].to.tag(), tag);
  // UPDATE is not an INVITE: its 2xx is the transaction's and is not retransmitted by the UA.
  h.timers.advance(Millis(10000));
  EXPECT_EQ(h.sender.responses(200, "UPDATE").size(), 1u);
}

TEST_F(DialogTest, UpdateWithoutOfferGets200WithoutBody) {
  h.deliver(in_dialog("UPDATE", tag, 2));
  auto responses = h.sender.responses(200, "UPDATE");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(responses[0].body.empty());
  EXPECT_TRUE(h.listener.remote_offers.empty());
}

TEST_F(DialogTest, InfoDtmfRelayReachesListener) {
  RequestSpec info = in_dialog("INFO", tag, 2);
  info.content_type = "application/dtmf-relay";
  info.body = "Signal=5\r\nDuration=160\r\n";
  h.deliver(info);
  ASSERT_EQ(h.listener.dtmf.size(), 1u);
  EXPECT_EQ(h.listener.dtmf[0], std::make_pair('5', 160));
  EXPECT_EQ(oks("INFO"), 1u);
}

TEST_F(DialogTest, InfoDtmfRelayEventNumbersTenAndElevenAreStarAndPound) {
  for (auto [signal, digit] : {std::pair{"10", '*'}, std::pair{"11", '#'}}) {
    RequestSpec info = in_dialog("INFO", tag, signal[1] == '0' ? 2 : 3);
    info.content_type = "application/dtmf-relay";
    info.body = std::string("Signal=") + signal + "\r\nDuration=100\r\n";
    h.deliver(info);
  }
  ASSERT_EQ(h.listener.dtmf.size(), 2u);
  EXPECT_EQ(h.listener.dtmf[0], std::make_pair('*', 100));
  EXPECT_EQ(h.listener.dtmf[1], std::make_pair('#', 100));
}

TEST_F(DialogTest, InfoDtmfDigitReachesListener) {
  RequestSpec info = in_dialog("INFO", tag, 2);
  info.content_type = "application/dtmf";
  info.body = "#";
  h.deliver(info);
  ASSERT_EQ(h.listener.dtmf.size(), 1u);
  EXPECT_EQ(h.listener.dtmf[0].first, '#');
  EXPECT_EQ(oks("INFO"), 1u);
}

TEST_F(DialogTest, InfoWithOtherTypeGets415) {
  RequestSpec info = in_dialog("INFO", tag, 2);
  info.content_type = "text/plain";
  info.body = "5";
  h.deliver(info);
  auto refused = h.sender.responses(415, "INFO");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].has_header("Accept"));
  EXPECT_TRUE(h.listener.dtmf.empty());
}

TEST_F(DialogTest, InfoWithBadDtmfGets400) {
  RequestSpec info = in_dialog("INFO", tag, 2);
  info.content_type = "application/dtmf-relay";
  info.body = "Signal=X\r\nDuration=160\r\n";
  h.deliver(info);
  EXPECT_EQ(h.sender.responses(400, "INFO").size(), 1u);
  EXPECT_TRUE(h.listener.dtmf.empty());
}

TEST_F(DialogTest, EmptyInfoGets200) {
  h.deliver(in_dialog("INFO", tag, 2));
  EXPECT_EQ(oks("INFO"), 1u);
  EXPECT_TRUE(h.listener.dtmf.empty());
}

TEST_F(DialogTest, OptionsInDialogGets200WithCapabilities) {
  h.deliver(in_dialog("OPTIONS", tag, 2));
  auto responses = h.sender.responses(200, "OPTIONS");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].to.tag(), tag);
  EXPECT_TRUE(responses[0].has_header("Allow"));
}

}  // namespace user_agent_dialog_test
}  // namespace chorus::sip
