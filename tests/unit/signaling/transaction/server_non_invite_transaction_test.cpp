// RFC 3261 §17.2.2 (Figure 8): the non-INVITE server transaction's state table.
#include "signaling/transaction/server_non_invite_transaction.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/transaction/transaction_test_support.hpp"

namespace chorus::sip::transaction_test {
namespace server_non_invite_transaction_test {

// Suites are named after the class under test, which goes by this alias here.
using NonInviteServer = sip::ServerNonInviteTransaction;

using test::parse;
using test::TransactionHarness;
using Outcome = ServerTransaction::RequestOutcome;
using State = NonInviteServer::State;

constexpr std::string_view kBye =
    "BYE sip:1000@192.0.2.1:5060 SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKalicebye\n"
    "Max-Forwards: 70\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=alice-tag\n"
    "To: <sip:1000@chorus.example>;tag=uas-tag\n"
    "Call-ID: in-call-1@198.51.100.7\n"
    "CSeq: 2 BYE\n"
    "Content-Length: 0\n"
    "\n";

struct ServerNonInviteTransaction : ::testing::Test {
  NonInviteServer& make(PeerAddress source = test::udp_peer()) {
    transaction = std::make_unique<NonInviteServer>(h.context, 1, source);
    return *transaction;
  }
  SipMessage answer(int status) const { return make_response(bye, status); }

  TransactionHarness h;
  SipMessage bye = parse(kBye);
  std::unique_ptr<NonInviteServer> transaction;
};

TEST_F(ServerNonInviteTransaction, TryingAbsorbsRetransmissionSilently) {
  auto& t = make();
  EXPECT_EQ(t.state(), State::kTrying);
  EXPECT_EQ(t.on_request(bye, test::udp_peer()), Outcome::kAbsorbed);
  EXPECT_EQ(h.sender.count(), 0U);
}

TEST_F(ServerNonInviteTransaction, ProceedingResendsLastProvisional) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(100)));
  EXPECT_EQ(t.state(), State::kProceeding);
  t.on_request(bye, test::udp_peer());
  ASSERT_EQ(h.sender.count(), 2U);
  EXPECT_EQ(h.sender.last().status, 100);
}

TEST_F(ServerNonInviteTransaction, TimerJKeepsAnsweringRetransmissions) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(200)));
  EXPECT_EQ(t.state(), State::kCompleted);
  EXPECT_FALSE(t.awaiting_final());
  t.on_request(bye, test::udp_peer());
  ASSERT_EQ(h.sender.count(), 2U);
  EXPECT_EQ(h.sender.last().status, 200);
  // No retransmission timer on the server side: only requests trigger re-sends.
  h.timers.advance(Millis{31'999});
  EXPECT_EQ(h.sender.count(), 2U);
  t.on_request(bye, test::udp_peer());
  EXPECT_EQ(h.sender.count(), 3U);
  EXPECT_EQ(t.state(), State::kCompleted);
  h.timers.advance(Millis{1});  // Timer J = 64*T1
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_FALSE(h.owner.timed_out);
}

TEST_F(ServerNonInviteTransaction, ReliableTransportEndsAtFinalResponse) {
  auto& t = make(test::tcp_peer());
  ASSERT_TRUE(t.respond(answer(200)));
  EXPECT_EQ(t.state(), State::kTerminated);  // Timer J = 0 on reliable transports
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_FALSE(h.owner.timed_out);
}

TEST_F(ServerNonInviteTransaction, RejectsResponsesAfterFinal) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(200)));
  EXPECT_FALSE(t.respond(answer(200)));
  EXPECT_FALSE(t.respond(answer(100)));
  EXPECT_EQ(h.sender.count(), 1U);
}

TEST_F(ServerNonInviteTransaction, TransportFailureEndsWithTimeout) {
  auto& t = make();
  h.sender.fail = true;
  EXPECT_FALSE(t.respond(answer(200)));
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_TRUE(h.owner.timed_out);
}

}  // namespace server_non_invite_transaction_test
}  // namespace chorus::sip::transaction_test
