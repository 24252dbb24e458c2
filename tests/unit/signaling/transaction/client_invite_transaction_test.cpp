// RFC 3261 §17.1.1 (Figure 5): the INVITE client transaction's state table.
#include "signaling/transaction/client_invite_transaction.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/transaction/transaction_test_support.hpp"

namespace chorus::sip::transaction_test {
namespace client_invite_transaction_test {

// Suites are named after the class under test, which goes by this alias here.
using InviteClient = sip::ClientInviteTransaction;

using test::parse;
using test::ResponseLog;
using test::TransactionHarness;
using State = InviteClient::State;

constexpr std::string_view kInvite =
    "INVITE sip:bob@198.51.100.7 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKclientinvite1\n"
    "Route: <sip:proxy1.example.com;lr>\n"
    "Route: <sip:proxy2.example.com;lr>\n"
    "Max-Forwards: 70\n"
    "From: <sip:1000@chorus.example>;tag=from1\n"
    "To: <sip:bob@example.com>\n"
    "Call-ID: out-call-1@192.0.2.1\n"
    "CSeq: 7 INVITE\n"
    "Contact: <sip:1000@192.0.2.1:5060>\n"
    "Content-Length: 0\n"
    "\n";

SipMessage response(int status, std::string_view reason, std::string_view to_tag = "bob-tag") {
  std::string text = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) +
                     "\n"
                     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKclientinvite1\n"
                     "From: <sip:1000@chorus.example>;tag=from1\n"
                     "To: <sip:bob@example.com>" +
                     (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) +
                     "\n"
                     "Call-ID: out-call-1@192.0.2.1\n"
                     "CSeq: 7 INVITE\n"
                     "Content-Length: 0\n"
                     "\n";
  return parse(text);
}

struct ClientInviteTransaction : ::testing::Test {
  InviteClient& make(PeerAddress destination = test::udp_peer()) {
    transaction = std::make_unique<InviteClient>(h.context, 1, parse(kInvite), destination, log.callback());
    transaction->start();
    return *transaction;
  }
  TransactionHarness h;
  ResponseLog log;
  std::unique_ptr<InviteClient> transaction;
};

TEST_F(ClientInviteTransaction, RetransmitsInviteOnTimerAUntilProvisional) {
  auto& t = make();
  EXPECT_EQ(h.sender.count(), 1U);
  // RFC 3261 §17.1.1.2: T1, then doubling: at 0.5 s, 1.5 s, 3.5 s.
  h.timers.advance(Millis{499});
  EXPECT_EQ(h.sender.count(), 1U);
  h.timers.advance(Millis{1});
  EXPECT_EQ(h.sender.count(), 2U);
  h.timers.advance(Millis{1000});
  EXPECT_EQ(h.sender.count(), 3U);
  h.timers.advance(Millis{2000});
  EXPECT_EQ(h.sender.count(), 4U);
  EXPECT_EQ(h.sender.last().method, "INVITE");

  t.on_response(response(180, "Ringing"));
  EXPECT_EQ(t.state(), State::kProceeding);
  EXPECT_EQ(log.statuses(), std::vector<int>{180});
  // Proceeding: no more retransmissions, and Timer B no longer applies.
  h.timers.advance(Millis{60'000});
  EXPECT_EQ(h.sender.count(), 4U);
  EXPECT_EQ(log.statuses(), std::vector<int>{180});
  EXPECT_EQ(h.owner.client_terminations, 0);
}

// A peer that answers 100 and then nothing: Timer C (over 3 minutes, restarted by each provisional)
// ends the transaction with a local 408, where RFC 3261's UAC would wait forever (sip_stack_fuzz).
TEST_F(ClientInviteTransaction, TimerCEndsAProceedingThatNeverGetsAFinalResponse) {
  auto& t = make();
  t.on_response(response(100, "Trying"));
  h.timers.advance(Millis{120'000});
  t.on_response(response(180, "Ringing"));  // restarts it
  h.timers.advance(Millis{180'999});
  EXPECT_EQ(t.state(), State::kProceeding);
  EXPECT_EQ(log.statuses(), (std::vector<int>{100, 180}));
  h.timers.advance(Millis{1});
  EXPECT_EQ(log.statuses(), (std::vector<int>{100, 180, 408}));
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
}

TEST_F(ClientInviteTransaction, TimerBReportsTimeout408) {
  auto& t = make();
  h.timers.advance(Millis{31'999});
  EXPECT_TRUE(log.responses.empty());
  // Sent at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s.
  EXPECT_EQ(h.sender.count(), 7U);
  h.timers.advance(Millis{1});
  ASSERT_EQ(log.statuses(), std::vector<int>{408});
  // The local response looks like a received one: CSeq and Call-ID of the request.
  EXPECT_EQ(log.responses[0].cseq.method, "INVITE");
  EXPECT_EQ(log.responses[0].cseq.number, 7U);
  EXPECT_EQ(log.responses[0].call_id, "out-call-1@192.0.2.1");
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
  h.timers.advance(Millis{100'000});
  EXPECT_EQ(h.sender.count(), 7U);
  EXPECT_EQ(log.responses.size(), 1U);
}

TEST_F(ClientInviteTransaction, AcksNonSuccessFinalAndAbsorbsRetransmissions) {
  auto& t = make();
  t.on_response(response(180, "Ringing"));
  t.on_response(response(486, "Busy Here"));
  EXPECT_EQ(t.state(), State::kCompleted);
  EXPECT_EQ(log.statuses(), (std::vector<int>{180, 486}));
  ASSERT_EQ(h.sender.count(), 2U);

  // RFC 3261 §17.1.1.3: the ACK as a peer parses it.
  const SipMessage ack = h.sender.last_on_wire();
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(ack.request_uri_text, "sip:bob@198.51.100.7");
  ASSERT_EQ(ack.vias.size(), 1U);
  EXPECT_EQ(ack.vias[0].branch(), "z9hG4bKclientinvite1");
  EXPECT_EQ(ack.from.tag(), "from1");
  EXPECT_EQ(ack.to.tag(), "bob-tag");
  EXPECT_EQ(ack.call_id, "out-call-1@192.0.2.1");
  EXPECT_EQ(ack.cseq.number, 7U);
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.header_values("Route").size(), 2U);
  EXPECT_EQ(h.sender.sent.back().peer.port, 5060);

  // A retransmitted final gets the ACK again and does not reach the TU.
  t.on_response(response(486, "Busy Here"));
  EXPECT_EQ(h.sender.count(), 3U);
  EXPECT_EQ(h.sender.last().method, "ACK");
  EXPECT_EQ(log.responses.size(), 2U);

  // Timer D: 32 s on UDP.
  h.timers.advance(Millis{31'999});
  EXPECT_EQ(t.state(), State::kCompleted);
  h.timers.advance(Millis{1});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
}

TEST_F(ClientInviteTransaction, SuccessGoesToTuAndTerminates) {
  auto& t = make();
  t.on_response(response(200, "OK"));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
  // No ACK from the transaction: the TU acknowledges a 2xx itself (§13.2.2.4).
  EXPECT_EQ(h.sender.count(), 1U);
  h.timers.advance(Millis{40'000});
  EXPECT_EQ(h.sender.count(), 1U);
}

TEST_F(ClientInviteTransaction, ReliableTransportHasNoTimerAAndZeroTimerD) {
  auto& t = make(test::tcp_peer());
  h.timers.advance(Millis{10'000});
  EXPECT_EQ(h.sender.count(), 1U);
  t.on_response(response(404, "Not Found"));
  EXPECT_EQ(h.sender.last().method, "ACK");
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
}

TEST_F(ClientInviteTransaction, TimerBAppliesOnReliableTransportsToo) {
  make(test::tcp_peer());
  h.timers.advance(Millis{32'000});
  EXPECT_EQ(log.statuses(), std::vector<int>{408});
}

TEST_F(ClientInviteTransaction, TransportFailureIsReportedAs503AfterStart) {
  h.sender.fail = true;
  auto& t = make();
  // Never from inside start(): the TU first gets its transaction id.
  EXPECT_TRUE(log.responses.empty());
  h.timers.advance(Millis{0});
  EXPECT_EQ(log.statuses(), std::vector<int>{503});
  EXPECT_TRUE(t.terminated());
}

TEST_F(ClientInviteTransaction, CancelLimitsTheWaitInProceedingTo64T1) {
  auto& t = make();
  t.on_response(response(180, "Ringing"));
  h.timers.advance(Millis{100'000});
  t.on_cancel_sent();
  h.timers.advance(Millis{31'999});
  EXPECT_EQ(log.statuses(), std::vector<int>{180});
  h.timers.advance(Millis{1});
  EXPECT_EQ(log.statuses(), (std::vector<int>{180, 408}));
  EXPECT_EQ(t.state(), State::kTerminated);
}

TEST(ClientInviteAck, BuiltFromHeadersOnlyInvite) {
  // An INVITE built by the UA core as headers only, typed fields completed by the layer.
  SipMessage invite;
  invite.method = "INVITE";
  invite.request_uri_text = "sip:carol@203.0.113.9";
  invite.add_header("Via", "SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKbuilt");
  invite.add_header("From", "<sip:1000@chorus.example>;tag=f9");
  invite.add_header("To", "<sip:carol@203.0.113.9>");
  invite.add_header("Call-ID", "built@192.0.2.1");
  invite.add_header("CSeq", "3 INVITE");
  ASSERT_TRUE(complete_typed_fields(invite));
  const SipMessage ack = test::on_the_wire(make_non_2xx_ack(invite, response(603, "Decline", "c-tag")));
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(ack.request_uri_text, "sip:carol@203.0.113.9");
  ASSERT_EQ(ack.vias.size(), 1U);
  EXPECT_EQ(ack.vias[0].branch(), "z9hG4bKbuilt");
  EXPECT_EQ(ack.cseq.number, 3U);
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.to.tag(), "c-tag");
  EXPECT_FALSE(ack.has_header("Route"));
}

}  // namespace client_invite_transaction_test
}  // namespace chorus::sip::transaction_test
