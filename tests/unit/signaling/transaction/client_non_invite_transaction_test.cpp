// RFC 3261 §17.1.2 (Figure 6): the non-INVITE client transaction's state table.
#include "signaling/transaction/client_non_invite_transaction.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/transaction/transaction_test_support.hpp"

namespace chorus::sip::transaction_test {
namespace client_non_invite_transaction_test {

// Suites are named after the class under test, which goes by this alias here.
using NonInviteClient = sip::ClientNonInviteTransaction;

using test::parse;
using test::ResponseLog;
using test::TransactionHarness;
using State = NonInviteClient::State;

constexpr std::string_view kBye =
    "BYE sip:bob@198.51.100.7 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKclientbye1\n"
    "Max-Forwards: 70\n"
    "From: <sip:1000@chorus.example>;tag=from1\n"
    "To: <sip:bob@example.com>;tag=bob-tag\n"
    "Call-ID: out-call-1@192.0.2.1\n"
    "CSeq: 8 BYE\n"
    "Content-Length: 0\n"
    "\n";

SipMessage response(int status, std::string_view reason) {
  return parse("SIP/2.0 " + std::to_string(status) + " " + std::string(reason) +
               "\n"
               "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKclientbye1\n"
               "From: <sip:1000@chorus.example>;tag=from1\n"
               "To: <sip:bob@example.com>;tag=bob-tag\n"
               "Call-ID: out-call-1@192.0.2.1\n"
               "CSeq: 8 BYE\n"
               "Content-Length: 0\n"
               "\n");
}

struct ClientNonInviteTransaction : ::testing::Test {
  NonInviteClient& make(PeerAddress destination = test::udp_peer()) {
    transaction = std::make_unique<NonInviteClient>(h.context, 1, parse(kBye), destination, log.callback());
    transaction->start();
    return *transaction;
  }
  TransactionHarness h;
  ResponseLog log;
  std::unique_ptr<NonInviteClient> transaction;
};

TEST_F(ClientNonInviteTransaction, TimerERetransmitsDoublingUpToT2) {
  make();
  // RFC 3261 §17.1.2.2: 0.5, 1.5, 3.5, 7.5 s, then every T2 (4 s).
  h.timers.advance(Millis{500});
  EXPECT_EQ(h.sender.count(), 2U);
  h.timers.advance(Millis{1000});
  EXPECT_EQ(h.sender.count(), 3U);
  h.timers.advance(Millis{2000});
  EXPECT_EQ(h.sender.count(), 4U);
  h.timers.advance(Millis{4000});
  EXPECT_EQ(h.sender.count(), 5U);
  h.timers.advance(Millis{3999});
  EXPECT_EQ(h.sender.count(), 5U);
  h.timers.advance(Millis{1});
  EXPECT_EQ(h.sender.count(), 6U);
  EXPECT_EQ(h.sender.last().method, "BYE");
}

TEST_F(ClientNonInviteTransaction, TimerEUsesT2InProceeding) {
  auto& t = make();
  h.timers.advance(Millis{600});  // one retransmission at 0.5 s; next due at 1.5 s
  t.on_response(response(100, "Trying"));
  EXPECT_EQ(t.state(), State::kProceeding);
  EXPECT_EQ(log.statuses(), std::vector<int>{100});
  h.timers.advance(Millis{900});  // 1.5 s
  EXPECT_EQ(h.sender.count(), 3U);
  h.timers.advance(Millis{3999});
  EXPECT_EQ(h.sender.count(), 3U);
  h.timers.advance(Millis{1});  // 5.5 s: reset to T2 in Proceeding
  EXPECT_EQ(h.sender.count(), 4U);
}

TEST_F(ClientNonInviteTransaction, TimerFReportsTimeout408) {
  auto& t = make();
  h.timers.advance(Millis{31'999});
  EXPECT_TRUE(log.responses.empty());
  EXPECT_EQ(h.sender.count(), 11U);  // 0, 0.5, 1.5, 3.5, 7.5, then every 4 s up to 31.5
  h.timers.advance(Millis{1});
  ASSERT_EQ(log.statuses(), std::vector<int>{408});
  EXPECT_EQ(log.responses[0].cseq.method, "BYE");
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
  h.timers.advance(Millis{60'000});
  EXPECT_EQ(h.sender.count(), 11U);
}

TEST_F(ClientNonInviteTransaction, TimerFAppliesInProceeding) {
  auto& t = make();
  t.on_response(response(100, "Trying"));
  h.timers.advance(Millis{32'000});
  EXPECT_EQ(log.statuses(), (std::vector<int>{100, 408}));
  EXPECT_EQ(t.state(), State::kTerminated);
}

TEST_F(ClientNonInviteTransaction, FinalResponseCompletesAndTimerKAbsorbsRetransmissions) {
  auto& t = make();
  t.on_response(response(200, "OK"));
  EXPECT_EQ(t.state(), State::kCompleted);
  t.on_response(response(200, "OK"));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  h.timers.advance(Millis{4999});
  EXPECT_EQ(h.sender.count(), 1U);  // no retransmissions in Completed
  EXPECT_EQ(t.state(), State::kCompleted);
  h.timers.advance(Millis{1});  // Timer K = T4 on UDP
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
}

TEST_F(ClientNonInviteTransaction, ReliableTransportHasNoTimerEAndZeroTimerK) {
  auto& t = make(test::tcp_peer());
  h.timers.advance(Millis{20'000});
  EXPECT_EQ(h.sender.count(), 1U);
  t.on_response(response(481, "Call/Transaction Does Not Exist"));
  EXPECT_EQ(log.statuses(), std::vector<int>{481});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.client_terminations, 1);
}

TEST_F(ClientNonInviteTransaction, RetransmissionTransportFailureReports503) {
  auto& t = make();
  h.sender.fail = true;
  h.timers.advance(Millis{500});
  EXPECT_EQ(log.statuses(), std::vector<int>{503});
  EXPECT_EQ(t.state(), State::kTerminated);
}

}  // namespace client_non_invite_transaction_test
}  // namespace chorus::sip::transaction_test
