// UserAgent: new calls (RFC 3261 §13.3), the 2xx/ACK handshake (§13.3.1.4), BYE (§15), offers in
// the 2xx (RFC 3264 §4), CANCEL after the final response (§9.2) and shutdown, driven through a real
// TransactionLayer with a fake clock.
#include "signaling/ua/user_agent.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace user_agent_test {

using uatest::kCallerOffer;
using uatest::kListenerAnswer;
using uatest::kListenerOffer;
using uatest::RequestSpec;
using uatest::tcp_peer;
using uatest::UaHarness;
using uatest::udp_peer;

RequestSpec invite(std::vector<std::string> headers = {}) {
  RequestSpec spec;
  spec.content_type = "application/sdp";
  spec.body = std::string(kCallerOffer);
  spec.headers = std::move(headers);
  return spec;
}

RequestSpec in_dialog(std::string method, const std::string& to_tag, std::uint32_t cseq) {
  RequestSpec spec;
  spec.method = std::move(method);
  spec.to_tag = to_tag;
  spec.cseq = cseq;
  return spec;
}

RequestSpec ack_for(const std::string& to_tag, std::uint32_t cseq = 1) {
  RequestSpec spec = in_dialog("ACK", to_tag, cseq);
  return spec;
}

TEST(UserAgent, IncomingCallGetsRoomAndCallerDetails) {
  UaHarness h;
  RequestSpec spec = invite({"User-Agent: Softphone/1.2"});
  h.deliver(spec);
  ASSERT_EQ(h.listener.incoming.size(), 1u);
  const CallInfo& info = h.listener.incoming[0];
  EXPECT_EQ(info.request_user, "1000");
  EXPECT_EQ(info.call_id, "call-1@198.51.100.7");
  EXPECT_EQ(info.from_uri, "sip:alice@example.com");
  EXPECT_EQ(info.from_display, "Alice");
  EXPECT_EQ(info.user_agent, "Softphone/1.2");
  EXPECT_NE(info.handle, 0u);
  ASSERT_TRUE(h.listener.offers[0].has_value());
  EXPECT_EQ(*h.listener.offers[0], kCallerOffer);
}

TEST(UserAgent, OkCarriesListenerSdpContactToTagAndRecordRoute) {
  UaHarness h;
  h.deliver(invite({"Record-Route: <sip:p1.example.com;lr>", "Record-Route: <sip:p2.example.com;lr>"}));
  auto oks = h.sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  const SipMessage& ok = oks[0];
  EXPECT_EQ(ok.body, kListenerAnswer);
  ASSERT_TRUE(ok.has_header("Content-Type"));
  EXPECT_EQ(*ok.header("Content-Type"), "application/sdp");
  ASSERT_EQ(ok.contacts.size(), 1u);
  EXPECT_EQ(ok.contacts[0].uri_text, "sip:chorus@127.0.0.1:5060");
  EXPECT_FALSE(ok.to.tag().empty());
  auto rr = ok.header_values("Record-Route");
  ASSERT_EQ(rr.size(), 2u);
  EXPECT_EQ(rr[0], "<sip:p1.example.com;lr>");
  EXPECT_EQ(rr[1], "<sip:p2.example.com;lr>");
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgent, ContactOverTcpNamesTheTransport) {
  UaHarness h;
  RequestSpec spec = invite();
  spec.transport = "TCP";
  h.deliver(spec, tcp_peer());
  auto oks = h.sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  ASSERT_EQ(oks[0].contacts.size(), 1u);
  EXPECT_EQ(oks[0].contacts[0].uri_text, "sip:chorus@127.0.0.1:5060;transport=tcp");
}

// A caller whose UDP address is known good (a trusted range, like a proxy in front): its 2xx follows
// the RFC schedule in full. A stranger's is bounded (user_agent_limits_test.cpp).
UserAgentConfig proven_caller() {
  UserAgentConfig config;
  config.trusted_sources = {*parse_address_range("198.51.100.0/24")};
  return config;
}

TEST(UserAgent, RetransmitsOkUntilAckOverUdp) {
  UaHarness h(proven_caller());
  h.deliver(invite());
  auto count = [&] { return h.sender.responses(200, "INVITE").size(); };
  ASSERT_EQ(count(), 1u);
  // §13.3.1.4: T1, then doubling up to T2 (500 ms, 1 s, 2 s, 4 s, 4 s with the defaults).
  h.timers.advance(Millis(499));
  EXPECT_EQ(count(), 1u);
  h.timers.advance(Millis(1));  // t = 0.5 s
  EXPECT_EQ(count(), 2u);
  h.timers.advance(Millis(999));
  EXPECT_EQ(count(), 2u);
  h.timers.advance(Millis(1));  // t = 1.5 s
  EXPECT_EQ(count(), 3u);
  h.timers.advance(Millis(2000));  // t = 3.5 s
  EXPECT_EQ(count(), 4u);
  h.timers.advance(Millis(4000));  // t = 7.5 s
  EXPECT_EQ(count(), 5u);
  h.timers.advance(Millis(3999));
  EXPECT_EQ(count(), 5u);
  h.timers.advance(Millis(1));  // t = 11.5 s: capped at T2
  EXPECT_EQ(count(), 6u);
  // The retransmissions are the same 2xx, to the same place.
  auto oks = h.sender.responses(200, "INVITE");
  EXPECT_EQ(oks.back().to.tag(), oks.front().to.tag());
  EXPECT_EQ(oks.back().body, oks.front().body);

  h.deliver(ack_for(oks.front().to.tag()));
  h.timers.advance(Millis(60000));
  EXPECT_EQ(count(), 6u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_TRUE(h.listener.ended.empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgent, DoesNotRetransmitOkOverTcp) {
  UaHarness h;
  RequestSpec spec = invite();
  spec.transport = "TCP";
  h.deliver(spec, tcp_peer());
  h.timers.advance(Millis(20000));
  EXPECT_EQ(h.sender.responses(200, "INVITE").size(), 1u);
}

TEST(UserAgent, AckWithOtherCSeqDoesNotStopRetransmissions) {
  UaHarness h;
  h.deliver(invite());
  const std::string tag = h.sender.responses(200, "INVITE").front().to.tag();
  h.deliver(ack_for(tag, 7));  // not the ACK for CSeq 1
  h.timers.advance(Millis(500));
  EXPECT_EQ(h.sender.responses(200, "INVITE").size(), 2u);
  EXPECT_TRUE(h.listener.acknowledged.empty());  // nor does it verify the caller's address
}

TEST(UserAgent, TheAckTellsTheListenerOnceThatTheCallerReceives) {
  // Issue 12: over UDP the ACK (it echoes our To tag) is what proves the INVITE's source address
  // receives what we send; the conference waits for it before sending media there.
  UaHarness h;
  h.deliver(invite());
  const std::string tag = h.sender.responses(200, "INVITE").front().to.tag();
  EXPECT_TRUE(h.listener.acknowledged.empty());
  h.deliver(ack_for(tag));
  ASSERT_EQ(h.listener.acknowledged.size(), 1u);
  EXPECT_EQ(h.listener.acknowledged.front(), h.listener.incoming.front().handle);
  h.deliver(ack_for(tag));  // a retransmitted ACK changes nothing
  EXPECT_EQ(h.listener.acknowledged.size(), 1u);
}

TEST(UserAgent, NoAckWithin64T1SendsByeAndEndsCallOnce) {
  UaHarness h(proven_caller());
  h.deliver(invite({"Record-Route: <sip:192.0.2.50:5070;lr>"}));
  const SipMessage ok = h.sender.responses(200, "INVITE").front();
  h.timers.advance(Millis(31999));
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  h.timers.advance(Millis(1));  // 64 * T1 = 32 s
  auto byes = h.sender.requests("BYE");
  ASSERT_EQ(byes.size(), 1u);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].first, h.listener.incoming[0].handle);
  EXPECT_EQ(h.ua.call_count(), 0u);

  // §12.2.1.1: the BYE is the dialog's: remote target, route set, our tag in From, theirs in To.
  const SipMessage& bye = byes[0];
  EXPECT_EQ(bye.request_uri_text, "sip:alice@198.51.100.7:5060");
  auto routes = bye.header_values("Route");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0], "<sip:192.0.2.50:5070;lr>");
  EXPECT_EQ(bye.from.tag(), ok.to.tag());
  EXPECT_EQ(bye.to.tag(), "alice-tag");
  EXPECT_EQ(bye.call_id, "call-1@198.51.100.7");
  EXPECT_EQ(bye.cseq.method, "BYE");
  ASSERT_FALSE(bye.vias.empty());
  EXPECT_EQ(bye.vias[0].host, "127.0.0.1");
  EXPECT_EQ(bye.vias[0].port, 5060);
  EXPECT_TRUE(bye.vias[0].has_magic_cookie());
  // The first route is an IP literal: the BYE goes there (§8.1.2).
  EXPECT_EQ(h.sender.sent.back().peer.to_string(), "udp:192.0.2.50:5070");

  // The BYE transaction times out unanswered; the call does not end twice.
  h.timers.advance(Millis(64000));
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST(UserAgent, ListenerRejectionIsTheFinalResponse) {
  for (int status : {404, 486, 488}) {
    UaHarness h;
    h.listener.decision = CallDecision{status, "Nope", {}, {{"Warning", "399 chorus \"test\""}}};
    h.deliver(invite());
    auto finals = h.sender.responses(status, "INVITE");
    ASSERT_EQ(finals.size(), 1u) << status;
    EXPECT_EQ(finals[0].reason, "Nope");
    EXPECT_TRUE(finals[0].has_header("Warning"));
    EXPECT_FALSE(finals[0].to.tag().empty());
    EXPECT_TRUE(h.sender.responses(200).empty());
    EXPECT_EQ(h.ua.call_count(), 0u) << status;
    h.timers.advance(Millis(64000));
    EXPECT_TRUE(h.listener.ended.empty()) << "a rejected call never started";
    EXPECT_TRUE(h.sender.requests("BYE").empty());
  }
}

TEST(UserAgent, ProvisionalDecisionBecomes500) {
  UaHarness h;
  h.listener.decision = CallDecision{180, {}, {}, {}};
  h.deliver(invite());
  EXPECT_EQ(h.sender.responses(500, "INVITE").size(), 1u);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(UserAgent, InviteWithoutSdpGetsListenerOfferAndAckAnswerReachesListener) {
  UaHarness h;
  h.listener.decision.sdp = std::string(kListenerOffer);
  RequestSpec spec;  // no body
  h.deliver(spec);
  ASSERT_EQ(h.listener.offers.size(), 1u);
  EXPECT_FALSE(h.listener.offers[0].has_value());
  auto oks = h.sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  EXPECT_EQ(oks[0].body, kListenerOffer);
  ASSERT_TRUE(oks[0].has_header("Content-Type"));

  RequestSpec ack = ack_for(oks[0].to.tag());
  ack.content_type = "application/sdp";
  ack.body = std::string(kCallerOffer);
  h.deliver(ack);
  ASSERT_EQ(h.listener.remote_answers.size(), 1u);
  EXPECT_EQ(h.listener.remote_answers[0], kCallerOffer);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgent, AckWithoutAnswerToOurOfferSendsBye) {
  UaHarness h;
  h.deliver(RequestSpec{});
  const std::string tag = h.sender.responses(200, "INVITE").front().to.tag();
  h.deliver(ack_for(tag));
  EXPECT_TRUE(h.listener.remote_answers.empty());
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(UserAgent, UnacceptableAnswerInAckSendsBye) {
  UaHarness h;
  h.listener.accept_answer = false;
  h.deliver(RequestSpec{});
  const std::string tag = h.sender.responses(200, "INVITE").front().to.tag();
  RequestSpec ack = ack_for(tag);
  ack.content_type = "application/sdp";
  ack.body = std::string(kCallerOffer);
  h.deliver(ack);
  EXPECT_EQ(h.listener.remote_answers.size(), 1u);
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST(UserAgent, ByeInDialogGets200AndEndsCall) {
  UaHarness h;
  const std::string tag = h.establish(invite());
  h.deliver(in_dialog("BYE", tag, 2));
  auto oks = h.sender.responses(200, "BYE");
  ASSERT_EQ(oks.size(), 1u);
  EXPECT_EQ(oks[0].to.tag(), tag);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].first, h.listener.incoming[0].handle);
  EXPECT_EQ(h.ua.call_count(), 0u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());  // no BYE of our own back
}

TEST(UserAgent, ByeBeforeAckStopsRetransmissionsAndEndsCall) {
  UaHarness h;
  const std::string tag = h.establish(invite(), udp_peer(), false);
  h.deliver(in_dialog("BYE", tag, 2));
  EXPECT_EQ(h.listener.ended.size(), 1u);
  h.timers.advance(Millis(64000));
  EXPECT_EQ(h.sender.responses(200, "INVITE").size(), 1u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST(UserAgent, RequestsForUnknownDialogGet481) {
  UaHarness h;
  const std::string tag = h.establish(invite());
  for (std::string method : {"BYE", "INFO"}) {
    h.deliver(in_dialog(method, "not-" + tag, 2));
    auto r = h.sender.responses(0, method);
    ASSERT_EQ(r.size(), 1u) << method;
    EXPECT_EQ(r[0].status, 481) << method;
  }
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST(UserAgent, LowerCSeqGets500) {
  UaHarness h;
  RequestSpec spec = invite();
  spec.cseq = 10;
  const std::string tag = h.establish(spec);
  h.deliver(in_dialog("INFO", tag, 11));
  h.deliver(in_dialog("BYE", tag, 5));
  auto r = h.sender.responses(0, "BYE");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 500);
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
}

TEST(UserAgent, CancelAfterFinalResponseGets200AndChangesNothing) {
  UaHarness h;
  RequestSpec spec = invite();
  spec.branch = "z9hG4bKcancelme";
  h.deliver(spec);
  const std::size_t sent_before = h.sender.sent.size();
  RequestSpec cancel;
  cancel.method = "CANCEL";
  cancel.branch = "z9hG4bKcancelme";
  h.deliver(cancel);
  ASSERT_EQ(h.sender.sent.size(), sent_before + 1);
  const SipMessage& r = h.sender.last();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.cseq.method, "CANCEL");
  EXPECT_TRUE(h.sender.responses(487).empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.listener.ended.empty());
  // The call carries on: the ACK confirms it as usual.
  h.deliver(ack_for(h.sender.responses(200, "INVITE").front().to.tag()));
  h.timers.advance(Millis(40000));
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgent, ShutdownHangsUpEveryCallAndRefusesNewOnes) {
  UaHarness h;
  RequestSpec first = invite();
  h.establish(first);
  RequestSpec second = invite();
  second.call_id = "call-2@198.51.100.7";
  second.from_tag = "alice-tag-2";
  h.establish(second);
  ASSERT_EQ(h.ua.call_count(), 2u);

  h.ua.shutdown();
  EXPECT_TRUE(h.ua.shutting_down());
  auto byes = h.sender.requests("BYE");
  ASSERT_EQ(byes.size(), 2u);
  EXPECT_NE(byes[0].call_id, byes[1].call_id);
  EXPECT_EQ(h.listener.ended.size(), 2u);
  EXPECT_EQ(h.ua.call_count(), 0u);

  RequestSpec third = invite();
  third.call_id = "call-3@198.51.100.7";
  h.deliver(third);
  auto refused = h.sender.responses(503, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_TRUE(refused[0].has_header("Retry-After"));
  EXPECT_EQ(h.listener.incoming.size(), 2u);
}

TEST(UserAgent, MaxCallsReachedGets503) {
  UserAgentConfig config;
  config.max_calls = 1;
  UaHarness h(config);
  h.establish(invite());
  RequestSpec second = invite();
  second.call_id = "call-2@198.51.100.7";
  h.deliver(second);
  auto refused = h.sender.responses(503, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].has_header("Retry-After"));
  EXPECT_EQ(h.listener.incoming.size(), 1u);
}

TEST(UserAgent, HangUpSendsByeAndEndsCall) {
  UaHarness h;
  h.establish(invite());
  const CallHandle handle = h.listener.incoming[0].handle;
  EXPECT_TRUE(h.ua.hang_up(handle, "kicked"));
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.listener.ended[0].second, "kicked");
  EXPECT_FALSE(h.ua.hang_up(handle, "again"));
  EXPECT_EQ(h.listener.ended.size(), 1u);
}

TEST(UserAgent, ByeOverTcpUsesTheConnectionItCameOn) {
  UaHarness h;
  RequestSpec spec = invite();
  spec.transport = "TCP";
  h.establish(spec, tcp_peer(42));
  h.ua.shutdown();
  ASSERT_EQ(h.sender.requests("BYE").size(), 1u);
  const auto& sent = h.sender.sent.back();
  EXPECT_EQ(sent.message.method, "BYE");
  EXPECT_EQ(sent.peer.kind, TransportKind::kTcp);
  EXPECT_EQ(sent.peer.connection, 42u);
  EXPECT_EQ(sent.message.vias.front().transport, "TCP");
}

}  // namespace user_agent_test
}  // namespace chorus::sip
