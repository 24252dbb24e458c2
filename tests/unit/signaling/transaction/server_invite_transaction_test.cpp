// RFC 3261 §17.2.1 (Figure 7) and RFC 6026 §7.1: the INVITE server transaction's state table.
#include "signaling/transaction/server_invite_transaction.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/transaction/transaction_test_support.hpp"

namespace chorus::sip::transaction_test {
namespace server_invite_transaction_test {

// Suites are named after the class under test, which goes by this alias here.
using InviteServer = sip::ServerInviteTransaction;

using test::parse;
using test::TransactionHarness;
using Outcome = ServerTransaction::RequestOutcome;
using State = InviteServer::State;

constexpr std::string_view kInvite =
    "INVITE sip:1000@chorus.example SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKalice1\n"
    "Max-Forwards: 70\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=alice-tag\n"
    "To: <sip:1000@chorus.example>\n"
    "Call-ID: in-call-1@198.51.100.7\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:alice@198.51.100.7:5060>\n"
    "Content-Length: 0\n"
    "\n";

constexpr std::string_view kAck =
    "ACK sip:1000@chorus.example SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKalice1\n"
    "Max-Forwards: 70\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=alice-tag\n"
    "To: <sip:1000@chorus.example>;tag=uas-tag\n"
    "Call-ID: in-call-1@198.51.100.7\n"
    "CSeq: 1 ACK\n"
    "Content-Length: 0\n"
    "\n";

struct ServerInviteTransaction : ::testing::Test {
  InviteServer& make(PeerAddress source = test::udp_peer()) {
    transaction = std::make_unique<InviteServer>(h.context, 1, source);
    transaction->start(invite);
    return *transaction;
  }
  SipMessage answer(int status) const { return make_response(invite, status, "uas-tag"); }

  TransactionHarness h;
  SipMessage invite = parse(kInvite);
  std::unique_ptr<InviteServer> transaction;
};

TEST_F(ServerInviteTransaction, SendsTryingAtOnce) {
  auto& t = make();
  ASSERT_EQ(h.sender.count(), 1U);
  const SipMessage trying = h.sender.last_on_wire();
  EXPECT_EQ(trying.status, 100);
  EXPECT_EQ(trying.vias.at(0).branch(), "z9hG4bKalice1");
  EXPECT_EQ(trying.cseq.method, "INVITE");
  EXPECT_EQ(t.state(), State::kProceeding);
  EXPECT_TRUE(t.awaiting_final());
}

TEST_F(ServerInviteTransaction, AbsorbsInviteRetransmissionWithLastResponse) {
  auto& t = make();
  EXPECT_EQ(t.on_request(invite, test::udp_peer()), Outcome::kAbsorbed);
  ASSERT_EQ(h.sender.count(), 2U);
  EXPECT_EQ(h.sender.last().status, 100);

  ASSERT_TRUE(t.respond(answer(180)));
  EXPECT_EQ(t.on_request(invite, test::udp_peer()), Outcome::kAbsorbed);
  ASSERT_EQ(h.sender.count(), 4U);
  EXPECT_EQ(h.sender.last().status, 180);

  ASSERT_TRUE(t.respond(answer(486)));
  EXPECT_EQ(t.on_request(invite, test::udp_peer()), Outcome::kAbsorbed);
  ASSERT_EQ(h.sender.count(), 6U);
  EXPECT_EQ(h.sender.last().status, 486);
}

TEST_F(ServerInviteTransaction, RetransmitsFinalResponseOnTimerGUntilAck) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(486)));
  EXPECT_EQ(t.state(), State::kCompleted);
  EXPECT_FALSE(t.awaiting_final());
  ASSERT_EQ(h.sender.count(), 2U);
  // RFC 3261 §17.2.1: Timer G at 0.5, 1.5, 3.5, 7.5 s, then every T2 (4 s).
  h.timers.advance(Millis{500});
  EXPECT_EQ(h.sender.count(), 3U);
  h.timers.advance(Millis{1000});
  EXPECT_EQ(h.sender.count(), 4U);
  h.timers.advance(Millis{2000});
  EXPECT_EQ(h.sender.count(), 5U);
  h.timers.advance(Millis{4000});
  EXPECT_EQ(h.sender.count(), 6U);
  h.timers.advance(Millis{4000});
  EXPECT_EQ(h.sender.count(), 7U);
  EXPECT_EQ(h.sender.last().status, 486);

  EXPECT_EQ(t.on_request(parse(kAck), test::udp_peer()), Outcome::kAbsorbed);
  EXPECT_EQ(t.state(), State::kConfirmed);
  h.timers.advance(Millis{4000});
  EXPECT_EQ(h.sender.count(), 7U);
  // Confirmed absorbs further ACKs; Timer I (T4) then ends the transaction without a timeout.
  EXPECT_EQ(t.on_request(parse(kAck), test::udp_peer()), Outcome::kAbsorbed);
  h.timers.advance(Millis{1000});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_FALSE(h.owner.timed_out);
}

TEST_F(ServerInviteTransaction, TimerHEndsTransactionWithTimeout) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(603)));
  h.timers.advance(Millis{31'999});
  EXPECT_EQ(t.state(), State::kCompleted);
  EXPECT_EQ(h.owner.server_terminations, 0);
  h.timers.advance(Millis{1});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_TRUE(h.owner.timed_out);
  const auto sent = h.sender.count();
  h.timers.advance(Millis{10'000});
  EXPECT_EQ(h.sender.count(), sent);
}

TEST_F(ServerInviteTransaction, AcceptedStateAbsorbsRetransmittedInviteAfter2xx) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(200)));
  EXPECT_EQ(t.state(), State::kAccepted);
  ASSERT_EQ(h.sender.count(), 2U);
  // RFC 6026 §7.1: no re-send from the transaction (the TU retransmits its 2xx); the layer tells the TU.
  EXPECT_EQ(t.on_request(invite, test::udp_peer()), Outcome::kRetransmittedAfter2xx);
  EXPECT_EQ(h.sender.count(), 2U);
  h.timers.advance(Millis{10'000});
  EXPECT_EQ(h.sender.count(), 2U);
  // ACKs for the 2xx belong to the TU; further 2xx from the TU pass through.
  EXPECT_EQ(t.on_request(parse(kAck), test::udp_peer()), Outcome::kPassAckToTu);
  EXPECT_TRUE(t.respond(answer(200)));
  EXPECT_EQ(h.sender.count(), 3U);
  EXPECT_FALSE(t.respond(answer(486)));
  // Timer L (64*T1) ends it, not as a timeout.
  h.timers.advance(Millis{21'999});
  EXPECT_EQ(t.state(), State::kAccepted);
  h.timers.advance(Millis{1});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_FALSE(h.owner.timed_out);
}

TEST_F(ServerInviteTransaction, ReliableTransportHasNoTimerGAndZeroTimerI) {
  auto& t = make(test::tcp_peer());
  ASSERT_TRUE(t.respond(answer(486)));
  h.timers.advance(Millis{20'000});
  EXPECT_EQ(h.sender.count(), 2U);
  EXPECT_EQ(t.on_request(parse(kAck), test::tcp_peer()), Outcome::kAbsorbed);
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_FALSE(h.owner.timed_out);
}

TEST_F(ServerInviteTransaction, TimerHAppliesOnReliableTransportsToo) {
  auto& t = make(test::tcp_peer());
  ASSERT_TRUE(t.respond(answer(486)));
  h.timers.advance(Millis{32'000});
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_TRUE(h.owner.timed_out);
}

TEST_F(ServerInviteTransaction, RejectsSecondFinalResponse) {
  auto& t = make();
  ASSERT_TRUE(t.respond(answer(486)));
  EXPECT_FALSE(t.respond(answer(200)));
  EXPECT_FALSE(t.respond(answer(180)));
  EXPECT_EQ(h.sender.count(), 2U);
}

TEST_F(ServerInviteTransaction, TransportFailureEndsWithTimeout) {
  auto& t = make();
  h.sender.fail = true;
  EXPECT_FALSE(t.respond(answer(486)));
  EXPECT_EQ(t.state(), State::kTerminated);
  EXPECT_EQ(h.owner.server_terminations, 1);
  EXPECT_TRUE(h.owner.timed_out);
}

TEST_F(ServerInviteTransaction, RetransmittedInviteAnswersOverItsNewConnection) {
  auto& t = make(test::tcp_peer(7));
  ASSERT_TRUE(t.respond(answer(180)));
  t.on_request(invite, test::tcp_peer(9));
  EXPECT_EQ(h.sender.sent.back().peer.connection, 9U);
}

TEST_F(ServerInviteTransaction, RemembersToTagOfLastResponse) {
  auto& t = make();
  EXPECT_EQ(t.last_response_to_tag(), "");
  ASSERT_TRUE(t.respond(answer(180)));
  EXPECT_EQ(t.last_response_to_tag(), "uas-tag");
}

}  // namespace server_invite_transaction_test
}  // namespace chorus::sip::transaction_test
