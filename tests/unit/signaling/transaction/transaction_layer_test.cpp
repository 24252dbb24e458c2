// TransactionLayer: §17.1.3 / §17.2.3 matching, CANCEL (§9.2), ACK routing, bad messages and the
// lifetime of transactions, driven through on_message like the transport does.
#include "signaling/transaction/transaction_layer.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/signaling/transaction/transaction_test_support.hpp"

namespace chorus::sip::transaction_test {
namespace transaction_layer_test {

// Suites are named after the class under test, which goes by this alias here.
using Layer = sip::TransactionLayer;

using test::FakeSender;
using test::FakeUser;
using test::parse;
using test::ResponseLog;
using test::tcp_peer;
using test::udp_peer;

// A request from the peer at 198.51.100.7, with the fields matching depends on as parameters.
struct Request {
  std::string method = "INVITE";
  std::string branch = "z9hG4bKalice1";  // empty: no branch parameter (RFC 2543)
  std::string sent_by = "198.51.100.7:5060";
  std::uint32_t cseq = 1;
  std::string cseq_method;  // empty: the method
  std::string to_tag;
  std::string call_id = "in-call-1@198.51.100.7";

  [[nodiscard]] SipMessage message() const {
    std::string text = method + " sip:1000@chorus.example SIP/2.0\n";
    text += "Via: SIP/2.0/UDP " + sent_by + (branch.empty() ? "" : ";branch=" + branch) + "\n";
    text += "Max-Forwards: 70\n";
    text += "From: \"Alice\" <sip:alice@example.com>;tag=alice-tag\n";
    text += "To: <sip:1000@chorus.example>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\n";
    text += "Call-ID: " + call_id + "\n";
    text += "CSeq: " + std::to_string(cseq) + " " + (cseq_method.empty() ? method : cseq_method) + "\n";
    text += "Content-Length: 0\n\n";
    return parse(text);
  }
};

Request ack_for(Request invite, std::string to_tag, std::string branch) {
  invite.method = "ACK";
  invite.to_tag = std::move(to_tag);
  invite.branch = std::move(branch);
  return invite;
}

Request cancel_for(Request invite) {
  invite.method = "CANCEL";
  return invite;
}

// A request this server sends (top Via is ours: 192.0.2.1:5060) and the responses to it.
std::string outgoing(std::string_view method, std::string_view branch, std::uint32_t cseq = 1) {
  return std::string(method) + " sip:bob@198.51.100.7 SIP/2.0\n" +
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + std::string(branch) + "\n" +
         "Max-Forwards: 70\n"
         "From: <sip:1000@chorus.example>;tag=from1\n"
         "To: <sip:bob@example.com>\n"
         "Call-ID: out-call-1@192.0.2.1\n"
         "CSeq: " +
         std::to_string(cseq) + " " + std::string(method) + "\n" + "Content-Length: 0\n\n";
}

std::string response_to(std::string_view method, std::string_view branch, int status,
                        std::string_view sent_by = "192.0.2.1:5060") {
  return "SIP/2.0 " + std::to_string(status) + " Whatever\n" + "Via: SIP/2.0/UDP " + std::string(sent_by) +
         ";branch=" + std::string(branch) + "\n" +
         "From: <sip:1000@chorus.example>;tag=from1\n"
         "To: <sip:bob@example.com>;tag=bob-tag\n"
         "Call-ID: out-call-1@192.0.2.1\n"
         "CSeq: 1 " +
         std::string(method) + "\n" + "Content-Length: 0\n\n";
}

struct TransactionLayer : ::testing::Test {
  void deliver(const Request& request, const PeerAddress& from = udp_peer()) {
    layer.on_message(request.message(), from);
  }
  void deliver_text(std::string_view text, const PeerAddress& from = udp_peer()) {
    layer.on_message(parse(text), from);
  }
  // The TU's answer to the request it was told about, with the tag UAS code would use.
  bool answer(std::size_t request_index, int status, std::string_view to_tag = "uas-tag") {
    const auto& request = user.requests.at(request_index);
    return layer.respond(request.id, make_response(request.message, status, to_tag));
  }

  ManualTimerQueue timers;
  FakeSender sender;
  FakeUser user;
  Layer layer{timers, sender, user};
};

TEST_F(TransactionLayer, NewInviteGets100TryingAndReachesTu) {
  deliver(Request{});
  ASSERT_EQ(user.requests.size(), 1U);
  EXPECT_EQ(user.requests[0].message.method, "INVITE");
  ASSERT_EQ(sender.count(), 1U);
  EXPECT_EQ(sender.last().status, 100);
  EXPECT_EQ(layer.server_count(), 1U);
  EXPECT_TRUE(answer(0, 180));
  EXPECT_EQ(sender.last().status, 180);
}

TEST_F(TransactionLayer, InviteAnsweredInsideOnRequestGetsNo100) {
  // RFC 3261 §17.2.1: the 100 only quenches Timer A; a final response at once does that too.
  user.answer_at_once = [this](TransactionId id, const SipMessage& request) {
    layer.respond(id, make_response(request, 486, "uas-tag"));
  };
  deliver(Request{});
  ASSERT_EQ(sender.count(), 1U);
  EXPECT_EQ(sender.last().status, 486);
  deliver(Request{});  // a retransmission gets the final again
  EXPECT_EQ(sender.count(), 2U);
  EXPECT_EQ(sender.last().status, 486);
}

TEST_F(TransactionLayer, RetransmittedInviteIsAbsorbedAcrossTcpAndUdp) {
  deliver(Request{}, tcp_peer(7));
  deliver(Request{}, tcp_peer(7));
  deliver(Request{}, udp_peer());
  EXPECT_EQ(user.requests.size(), 1U);
  EXPECT_EQ(layer.server_count(), 1U);
  ASSERT_EQ(sender.count(), 3U);  // 100 Trying once and again for each retransmission
  EXPECT_EQ(sender.sent.back().peer.kind, TransportKind::kUdp);
}

TEST_F(TransactionLayer, DifferentBranchOrSentByMakesANewTransaction) {
  deliver(Request{});
  deliver(Request{.branch = "z9hG4bKalice2"});
  deliver(Request{.sent_by = "198.51.100.9:5060"});
  deliver(Request{.method = "OPTIONS"});  // same branch, other method
  EXPECT_EQ(user.requests.size(), 4U);
  EXPECT_EQ(layer.server_count(), 4U);
}

TEST_F(TransactionLayer, CancelGets200And487FlowsThroughTu) {
  const Request invite;
  deliver(invite);
  ASSERT_TRUE(answer(0, 180));
  const TransactionId invite_id = user.requests[0].id;

  deliver(cancel_for(invite));
  ASSERT_EQ(user.cancels.size(), 1U);
  EXPECT_EQ(user.cancels[0], invite_id);
  EXPECT_EQ(user.requests.size(), 1U);  // the CANCEL is not a new request for the TU
  const SipMessage cancel_ok = sender.last_on_wire();
  EXPECT_EQ(cancel_ok.status, 200);
  EXPECT_EQ(cancel_ok.cseq.method, "CANCEL");
  EXPECT_EQ(cancel_ok.to.tag(), "uas-tag");  // §9.2: the tag of the INVITE's response

  // The TU answers the INVITE with 487; the ACK for it ends in the transaction.
  ASSERT_TRUE(answer(0, 487));
  EXPECT_EQ(sender.last().status, 487);
  EXPECT_EQ(sender.last().cseq_method(), "INVITE");
  deliver(ack_for(invite, "uas-tag", invite.branch));
  EXPECT_TRUE(user.acks.empty());

  // A retransmitted CANCEL is answered again from its own transaction.
  const auto sent = sender.count();
  deliver(cancel_for(invite));
  EXPECT_EQ(sender.count(), sent + 1);
  EXPECT_EQ(sender.last().status, 200);
  EXPECT_EQ(user.cancels.size(), 1U);

  timers.advance(Millis{40'000});
  EXPECT_EQ(layer.server_count(), 0U);
  // The TU hears only of the INVITE transaction ending, not of the CANCEL's.
  ASSERT_EQ(user.ended.size(), 1U);
  EXPECT_EQ(user.ended[0], std::make_pair(invite_id, false));
}

TEST_F(TransactionLayer, CancelWithoutMatchingInviteGets481) {
  deliver(cancel_for(Request{}));
  ASSERT_EQ(sender.count(), 1U);
  const SipMessage answer = sender.last_on_wire();
  EXPECT_EQ(answer.status, 481);
  EXPECT_EQ(answer.cseq.method, "CANCEL");
  EXPECT_FALSE(answer.to.tag().empty());
  EXPECT_TRUE(user.cancels.empty());
  EXPECT_TRUE(user.requests.empty());
}

TEST_F(TransactionLayer, CancelAfterFinalResponseGets200WithoutReachingTu) {
  // §9.2: a CANCEL that matches is answered 200 even when it can no longer have an effect.
  const Request invite;
  deliver(invite);
  ASSERT_TRUE(answer(0, 200));
  deliver(cancel_for(invite));
  EXPECT_EQ(sender.last().status, 200);
  EXPECT_EQ(sender.last().cseq_method(), "CANCEL");
  EXPECT_TRUE(user.cancels.empty());
}

TEST_F(TransactionLayer, Rfc2543MatchingWithoutMagicCookie) {
  const Request invite{.branch = ""};
  deliver(invite);
  deliver(invite);  // retransmission: Request-URI, From tag, Call-ID, CSeq and Via all equal
  ASSERT_EQ(user.requests.size(), 1U);
  EXPECT_EQ(sender.count(), 2U);

  ASSERT_TRUE(answer(0, 404, "t404"));
  // §17.2.3: the ACK matches by the same fields plus the To tag of our response.
  deliver(ack_for(invite, "t404", ""));
  EXPECT_TRUE(user.acks.empty());
  deliver(ack_for(invite, "another-tag", ""));
  EXPECT_EQ(user.acks.size(), 1U);

  // A new CSeq is a new transaction; so is a legacy branch of a different value.
  deliver(Request{.branch = "", .cseq = 2});
  deliver(Request{.branch = "1234"});
  EXPECT_EQ(user.requests.size(), 3U);
  deliver(Request{.branch = "1234"});
  EXPECT_EQ(user.requests.size(), 3U);
}

TEST_F(TransactionLayer, Rfc2543CancelFindsItsInvite) {
  const Request invite{.branch = ""};
  deliver(invite);
  deliver(cancel_for(invite));
  ASSERT_EQ(user.cancels.size(), 1U);
  EXPECT_EQ(user.cancels[0], user.requests.at(0).id);
  EXPECT_EQ(sender.last().status, 200);
}

TEST_F(TransactionLayer, AckFor2xxGoesToTu) {
  const Request invite;
  deliver(invite);
  ASSERT_TRUE(answer(0, 200));
  // §13.2.2.4: the ACK for a 2xx is a new transaction of its own (a new branch).
  deliver(ack_for(invite, "uas-tag", "z9hG4bKalice-ack"));
  ASSERT_EQ(user.acks.size(), 1U);
  EXPECT_EQ(user.acks[0].method, "ACK");
  // An ACK reusing the INVITE's branch while Accepted also belongs to the TU (RFC 6026 §7.1).
  deliver(ack_for(invite, "uas-tag", invite.branch));
  EXPECT_EQ(user.acks.size(), 2U);
  // And a retransmitted INVITE is absorbed in Accepted: nothing sent, no new request for the TU, which
  // only hears that the INVITE came again (it owns the 2xx).
  const auto sent = sender.count();
  deliver(invite);
  EXPECT_EQ(sender.count(), sent);
  EXPECT_EQ(user.requests.size(), 1U);
  ASSERT_EQ(user.retransmitted_invites.size(), 1U);
  EXPECT_EQ(user.retransmitted_invites[0], user.requests[0].id);
}

TEST_F(TransactionLayer, StrayAckGoesToTu) {
  deliver(ack_for(Request{}, "x", "z9hG4bKnothing"));
  EXPECT_EQ(user.acks.size(), 1U);
  EXPECT_EQ(layer.server_count(), 0U);
}

TEST_F(TransactionLayer, CountsReachZeroAfter64T1) {
  // A whole call over UDP: INVITE/100/200/ACK/BYE/200, plus an OPTIONS this server sends.
  const Request invite;
  deliver(invite);
  ASSERT_TRUE(answer(0, 200));
  deliver(ack_for(invite, "uas-tag", "z9hG4bKalice-ack"));
  deliver(Request{.method = "BYE", .branch = "z9hG4bKalice-bye", .cseq = 2, .to_tag = "uas-tag"});
  ASSERT_EQ(user.requests.size(), 2U);
  ASSERT_TRUE(answer(1, 200));
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), udp_peer(), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  EXPECT_EQ(layer.server_count(), 2U);
  EXPECT_EQ(layer.client_count(), 1U);

  timers.advance(Millis{5'000});  // Timer K = T4
  EXPECT_EQ(layer.client_count(), 0U);
  timers.advance(Millis{26'999});
  EXPECT_EQ(layer.server_count(), 2U);
  EXPECT_TRUE(user.ended.empty());
  timers.advance(Millis{1});  // Timers L and J = 64*T1
  EXPECT_EQ(layer.server_count(), 0U);
  EXPECT_EQ(user.ended.size(), 2U);
  for (const auto& [id, timed_out] : user.ended) EXPECT_FALSE(timed_out);
  EXPECT_EQ(timers.pending(), 0U);
}

TEST_F(TransactionLayer, ReliableNonInviteEndsAtItsFinalResponse) {
  deliver(Request{.method = "OPTIONS"}, tcp_peer());
  ASSERT_TRUE(answer(0, 200));
  EXPECT_EQ(layer.server_count(), 0U);
  timers.advance(Millis{0});
  ASSERT_EQ(user.ended.size(), 1U);
  EXPECT_FALSE(user.ended[0].second);
  EXPECT_FALSE(answer(0, 200));  // the id is gone
}

TEST_F(TransactionLayer, TimerHReportsTimedOutToTu) {
  deliver(Request{});
  ASSERT_TRUE(answer(0, 486));
  timers.advance(Millis{32'000});
  ASSERT_EQ(user.ended.size(), 1U);
  EXPECT_EQ(user.ended[0], std::make_pair(user.requests[0].id, true));
  EXPECT_EQ(layer.server_count(), 0U);
}

TEST_F(TransactionLayer, BadRequestAnswered400) {
  ParseError error;
  error.status = 400;
  error.reason = "Bad Max-Forwards";
  error.is_request = true;
  error.have_response_headers = true;
  error.partial = Request{}.message();
  layer.on_bad_message(error, udp_peer());
  ASSERT_EQ(sender.count(), 1U);
  const SipMessage answer = sender.last_on_wire();
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.reason, "Bad Max-Forwards");
  EXPECT_EQ(answer.vias.at(0).branch(), "z9hG4bKalice1");
  EXPECT_FALSE(answer.to.tag().empty());
  EXPECT_EQ(layer.server_count(), 0U);
  EXPECT_TRUE(user.requests.empty());
}

TEST_F(TransactionLayer, BadMessagesThatCannotBeAnsweredAreDropped) {
  ParseError no_headers;
  no_headers.is_request = true;
  no_headers.have_response_headers = false;
  layer.on_bad_message(no_headers, udp_peer());

  ParseError bad_response;
  bad_response.is_request = false;
  bad_response.have_response_headers = true;
  bad_response.partial = parse(response_to("INVITE", "z9hG4bKx", 200));
  layer.on_bad_message(bad_response, udp_peer());

  ParseError bad_ack;  // §17: an ACK never gets a response
  bad_ack.have_response_headers = true;
  bad_ack.partial = ack_for(Request{}, "t", "z9hG4bKack").message();
  layer.on_bad_message(bad_ack, udp_peer());

  EXPECT_EQ(sender.count(), 0U);
}

TEST_F(TransactionLayer, ParserRejectedRequestIsAnsweredWithItsStatus) {
  // The real path: the parser refuses the request (§8.1.1.5: CSeq method must match) and the
  // transport hands the error to the layer.
  const std::string text =
      "OPTIONS sip:1000@chorus.example SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKmismatch\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:alice@example.com>;tag=alice-tag\r\n"
      "To: <sip:1000@chorus.example>\r\n"
      "Call-ID: mismatch@198.51.100.7\r\n"
      "CSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n";
  auto parsed = parse_message(text);
  ASSERT_FALSE(parsed.has_value());
  layer.on_bad_message(parsed.error(), udp_peer());
  if (!parsed.error().have_response_headers) GTEST_SKIP() << "parser gives no response headers here";
  ASSERT_EQ(sender.count(), 1U);
  EXPECT_EQ(sender.last().status, parsed.error().status);
  EXPECT_EQ(sender.last_on_wire().vias.at(0).branch(), "z9hG4bKmismatch");
  EXPECT_TRUE(user.requests.empty());
}

TEST_F(TransactionLayer, RespondToUnknownIdFails) {
  EXPECT_FALSE(layer.respond(12345, Request{}.message()));
}

TEST_F(TransactionLayer, ResponsesReachTheirClientTransaction) {
  ResponseLog invite_log;
  ResponseLog cancel_log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("INVITE", branch)), udp_peer(), invite_log.callback());
  deliver_text(response_to("INVITE", branch, 180));
  // §9.1: the CANCEL shares the INVITE's branch; the CSeq method tells their responses apart.
  layer.send_request(parse(outgoing("CANCEL", branch)), udp_peer(), cancel_log.callback());
  EXPECT_EQ(layer.client_count(), 2U);
  deliver_text(response_to("CANCEL", branch, 200));
  deliver_text(response_to("INVITE", branch, 487));
  EXPECT_EQ(invite_log.statuses(), (std::vector<int>{180, 487}));
  EXPECT_EQ(cancel_log.statuses(), std::vector<int>{200});
  EXPECT_EQ(sender.last().method, "ACK");
  EXPECT_TRUE(user.strays.empty());
}

TEST_F(TransactionLayer, ResponseFromForeignSentByIsStray) {
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), udp_peer(), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200, "203.0.113.5:5060"));
  EXPECT_TRUE(log.responses.empty());
  EXPECT_EQ(user.strays.size(), 1U);
}

TEST_F(TransactionLayer, Retransmitted2xxAfterTerminationIsStray) {
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("INVITE", branch)), udp_peer(), log.callback());
  deliver_text(response_to("INVITE", branch, 200));
  EXPECT_EQ(layer.client_count(), 0U);
  deliver_text(response_to("INVITE", branch, 200));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  ASSERT_EQ(user.strays.size(), 1U);
  EXPECT_EQ(user.strays[0].status, 200);
  // The TU answers with its own ACK, outside any transaction (§13.2.2.4).
  EXPECT_TRUE(layer.send_stateless(parse(outgoing("ACK", "z9hG4bKack2")), udp_peer()));
  EXPECT_EQ(sender.last().method, "ACK");
}

// ---- responses matched by where they come from (issue 12; §17.1.3 alone matches branch + method)

TEST_F(TransactionLayer, ForgedUdpResponseFromAnotherPortIsDroppedAndTheRealOneStillCounts) {
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("INVITE", branch)), udp_peer("198.51.100.7", 5060), log.callback());
  const std::size_t sent = sender.count();
  // Same IP, another port: a forger on the peer's host, or a reflector guessing the branch.
  deliver_text(response_to("INVITE", branch, 486), udp_peer("198.51.100.7", 5999));
  EXPECT_TRUE(log.responses.empty());
  EXPECT_TRUE(user.strays.empty());
  EXPECT_EQ(sender.count(), sent) << "no ACK for a forged final response";
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 1U);
  EXPECT_EQ(layer.client_count(), 1U) << "the transaction is untouched";
  // The peer's own answer still completes the transaction.
  deliver_text(response_to("INVITE", branch, 200), udp_peer("198.51.100.7", 5060));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
}

TEST_F(TransactionLayer, ForgedUdpResponseFromAnotherAddressIsDropped) {
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), udp_peer("198.51.100.7", 5060), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200), udp_peer("203.0.113.9", 5060));
  EXPECT_TRUE(log.responses.empty());
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 1U);
  // Over TCP from the right IP and port is still not where a UDP request went.
  deliver_text(response_to("OPTIONS", branch, 200), test::tcp_peer(3, "198.51.100.7", 5060));
  EXPECT_TRUE(log.responses.empty());
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 2U);
}

TEST_F(TransactionLayer, Ipv4MappedSourceMatchesItsIpv4Destination) {
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), udp_peer("198.51.100.7", 5060), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200), udp_peer("::ffff:198.51.100.7", 5060));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 0U);
}

TEST_F(TransactionLayer, StreamResponseMustArriveOnTheRequestsConnection) {
  // An in-dialog request to a TCP caller goes back over the caller's connection #7 (ephemeral port).
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("BYE", branch)), tcp_peer(7, "198.51.100.7", 40123), log.callback());
  deliver_text(response_to("BYE", branch, 200), tcp_peer(8, "203.0.113.9", 40123));
  EXPECT_TRUE(log.responses.empty());
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 1U);
  deliver_text(response_to("BYE", branch, 200), tcp_peer(7, "198.51.100.7", 40123));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
}

TEST_F(TransactionLayer, StreamResponseOnAConnectionToTheDestinationIsAccepted) {
  // No connection named: the transport reuses or opens one to 198.51.100.7:5060, whichever id it gets.
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), tcp_peer(0, "198.51.100.7", 5060), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200), tcp_peer(12, "198.51.100.7", 5061));
  EXPECT_TRUE(log.responses.empty());
  deliver_text(response_to("OPTIONS", branch, 200), tcp_peer(12, "198.51.100.7", 5060));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
}

TEST_F(TransactionLayer, ResponseSourceCheckCanBeTurnedOff) {
  layer.set_response_source_check(false);
  ResponseLog log;
  const std::string branch = Layer::new_branch();
  layer.send_request(parse(outgoing("OPTIONS", branch)), udp_peer("198.51.100.7", 5060), log.callback());
  deliver_text(response_to("OPTIONS", branch, 200), udp_peer("198.51.100.7", 5999));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
  EXPECT_EQ(layer.response_source_counters().wrong_source.load(), 0U);
}

TEST_F(TransactionLayer, ClientTimeoutReports408) {
  ResponseLog log;
  layer.send_request(parse(outgoing("OPTIONS", Layer::new_branch())), udp_peer(), log.callback());
  timers.advance(Millis{32'000});
  EXPECT_EQ(log.statuses(), std::vector<int>{408});
  EXPECT_EQ(layer.client_count(), 0U);
}

TEST_F(TransactionLayer, HeadersOnlyRequestIsSentAndMatched) {
  const std::string branch = Layer::new_branch();
  SipMessage bye;
  bye.method = "BYE";
  bye.request_uri_text = "sip:bob@198.51.100.7";
  bye.add_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch);
  bye.add_header("Max-Forwards", "70");
  bye.add_header("From", "<sip:1000@chorus.example>;tag=from1");
  bye.add_header("To", "<sip:bob@example.com>;tag=bob-tag");
  bye.add_header("Call-ID", "out-call-1@192.0.2.1");
  bye.add_header("CSeq", "1 BYE");
  ResponseLog log;
  layer.send_request(std::move(bye), udp_peer(), log.callback());
  ASSERT_EQ(sender.count(), 1U);
  deliver_text(response_to("BYE", branch, 200));
  EXPECT_EQ(log.statuses(), std::vector<int>{200});
}

TEST_F(TransactionLayer, RequestWithoutBranchIsReportedAs503) {
  SipMessage bad = parse(outgoing("OPTIONS", "z9hG4bKok"));
  bad.vias.clear();
  bad.remove_header("Via");
  ResponseLog log;
  layer.send_request(std::move(bad), udp_peer(), log.callback());
  EXPECT_EQ(sender.count(), 0U);
  EXPECT_TRUE(log.responses.empty());
  timers.advance(Millis{0});
  EXPECT_EQ(log.statuses(), std::vector<int>{503});
  EXPECT_EQ(layer.client_count(), 0U);
}

// ---- stateless refusals and the transaction cap (RFC 3261 §8.2.7; issue 12: no reflection)

TEST_F(TransactionLayer, RefusalAtOnceIsSentOnceAndKeepsNoTransaction) {
  user.answer_at_once = [this](TransactionId id, const SipMessage& request) {
    layer.respond(id, make_response(request, 404, "uas-tag"));
  };
  const Request invite;
  deliver(invite);
  ASSERT_EQ(sender.count(), 1U);
  EXPECT_EQ(sender.last().status, 404);
  EXPECT_EQ(layer.server_count(), 0U);
  // No Timer G: nothing more is ever sent for it, however long we wait.
  timers.advance(Millis{64 * 500});
  EXPECT_EQ(sender.count(), 1U);
  EXPECT_EQ(timers.pending(), 0U);
  // The ACK for it matches nothing and is the TU's to ignore; a retransmitted INVITE is judged anew.
  deliver(ack_for(invite, "uas-tag", invite.branch));
  EXPECT_EQ(user.acks.size(), 1U);
  deliver(invite);
  EXPECT_EQ(user.requests.size(), 2U);
  EXPECT_EQ(sender.count(), 2U);
  EXPECT_EQ(layer.limit_counters().stateless.load(), 2U);
  timers.advance(Millis{0});
  ASSERT_EQ(user.ended.size(), 2U);
  EXPECT_FALSE(user.ended[0].second);
}

TEST_F(TransactionLayer, NonInviteRefusalAtOnceKeepsNoTransaction) {
  user.answer_at_once = [this](TransactionId id, const SipMessage& request) {
    layer.respond(id, make_response(request, 405, "uas-tag"));
  };
  deliver(Request{.method = "REGISTER", .branch = "z9hG4bKreg"});
  ASSERT_EQ(sender.count(), 1U);
  EXPECT_EQ(sender.last().status, 405);
  EXPECT_EQ(layer.server_count(), 0U);  // no 32 s of Timer J for a stranger's request
}

TEST_F(TransactionLayer, RefusalAfterA100KeepsTheTransactionAndTimerG) {
  // A final response that follows a provisional is part of a real exchange: §17.2.1 in full.
  deliver(Request{});
  ASSERT_EQ(sender.last().status, 100);
  ASSERT_TRUE(answer(0, 486));
  EXPECT_EQ(layer.server_count(), 1U);
  timers.advance(Millis{500});  // Timer G = T1
  EXPECT_EQ(sender.count(), 3U);
  EXPECT_EQ(sender.last().status, 486);
}

TEST_F(TransactionLayer, InDialogRefusalAtOnceStaysStateful) {
  // A peer with a dialog proved its address; its retransmitted re-INVITE must meet the same answer.
  user.answer_at_once = [this](TransactionId id, const SipMessage& request) {
    layer.respond(id, make_response(request, 488, "uas-tag"));
  };
  const Request reinvite{.cseq = 2, .to_tag = "uas-tag"};
  deliver(reinvite);
  EXPECT_EQ(layer.server_count(), 1U);
  deliver(reinvite);
  EXPECT_EQ(user.requests.size(), 1U);  // absorbed, the 488 re-sent
  EXPECT_EQ(sender.count(), 2U);
}

TEST_F(TransactionLayer, AcceptanceAtOnceStaysStateful) {
  user.answer_at_once = [this](TransactionId id, const SipMessage& request) {
    layer.respond(id, make_response(request, 200, "uas-tag"));
  };
  deliver(Request{});
  EXPECT_EQ(layer.server_count(), 1U);  // Accepted absorbs retransmissions (RFC 6026)
  EXPECT_EQ(layer.limit_counters().stateless.load(), 0U);
}

TEST_F(TransactionLayer, StatelessRejectionsCanBeTurnedOff) {
  Layer stateful{timers, sender, user, TimerConfig{}, ServerLimits{.stateless_rejections = false}};
  user.answer_at_once = [&stateful](TransactionId id, const SipMessage& request) {
    stateful.respond(id, make_response(request, 404, "uas-tag"));
  };
  stateful.on_message(Request{}.message(), udp_peer());
  EXPECT_EQ(stateful.server_count(), 1U);
  timers.advance(Millis{500});
  EXPECT_EQ(sender.count(), 2U);  // Timer G re-sent it
}

TEST_F(TransactionLayer, CancelMatchingNothingIsAnsweredStatelessly) {
  deliver(cancel_for(Request{}));
  EXPECT_EQ(sender.last().status, 481);
  EXPECT_EQ(layer.server_count(), 0U);
}

TEST_F(TransactionLayer, PastTheCapNewRequestsGet503WithRetryAfterAndNoState) {
  Layer capped{timers, sender, user, TimerConfig{}, ServerLimits{.max_server_transactions = 2}};
  const Request first{.branch = "z9hG4bKone"};
  capped.on_message(first.message(), udp_peer());
  capped.on_message(Request{.branch = "z9hG4bKtwo", .call_id = "two"}.message(), udp_peer());
  ASSERT_EQ(capped.server_count(), 2U);
  capped.on_message(Request{.method = "OPTIONS", .branch = "z9hG4bKthree"}.message(), udp_peer());
  EXPECT_EQ(capped.server_count(), 2U);
  EXPECT_EQ(user.requests.size(), 2U);  // the TU never heard of it
  const SipMessage refused = sender.last_on_wire();
  EXPECT_EQ(refused.status, 503);
  ASSERT_NE(refused.header("Retry-After"), nullptr);
  EXPECT_EQ(*refused.header("Retry-After"), "30");
  EXPECT_EQ(capped.limit_counters().over_capacity.load(), 1U);
  // CANCEL is exempt (it only ever pairs with an INVITE already counted), and so is ACK.
  capped.on_message(cancel_for(first).message(), udp_peer());
  EXPECT_EQ(sender.last().status, 200);
  EXPECT_EQ(user.cancels.size(), 1U);
  // Once transactions end there is room again.
  ASSERT_TRUE(capped.respond(user.requests[0].id, make_response(user.requests[0].message, 487, "t")));
  ASSERT_TRUE(capped.respond(user.requests[1].id, make_response(user.requests[1].message, 486, "t")));
  timers.advance(Millis{32'000});
  EXPECT_EQ(capped.server_count(), 0U);
  capped.on_message(Request{.method = "OPTIONS", .branch = "z9hG4bKfour"}.message(), udp_peer());
  EXPECT_EQ(user.requests.size(), 3U);
}

TEST_F(TransactionLayer, NewBranchHasMagicCookieAndSixteenRandomCharacters) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string branch = Layer::new_branch();
    ASSERT_EQ(branch.size(), 23U);
    EXPECT_TRUE(branch.starts_with("z9hG4bK"));
    for (char c : branch.substr(7)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << branch;
    seen.insert(branch);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

}  // namespace transaction_layer_test
}  // namespace chorus::sip::transaction_test
