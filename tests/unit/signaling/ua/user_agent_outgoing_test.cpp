// UserAgent dial-out (RFC 3261 §13.2): the INVITE we send as a UAC, provisional responses, the
// 2xx ACKed by the dialog (§13.2.2.4, again for each retransmission), non-2xx finals ACKed inside
// the client transaction (§17.1.1.3), CANCEL when nobody answers (§9.1), and the call afterwards.
// Driven through the real TransactionLayer with canned responses and a fake clock.
#include <gtest/gtest.h>

#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/dial_out_test_support.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace user_agent_outgoing_test {

using uatest::kCallerOffer;
using uatest::kListenerOffer;
using uatest::parse;
using uatest::RecordingSender;
using uatest::udp_peer;

using dialtest::DialListener;

const PeerAddress kCallee = udp_peer("127.0.0.1", 5090);

struct DialHarness {
  explicit DialHarness(UserAgentConfig config = {}) : ua(timers, sender, listener, std::move(config)) {
    ua.attach(transactions);
  }

  CallHandle dial(std::string target = "sip:alice@127.0.0.1:5090") {
    auto started = ua.dial({std::move(target), "1000", "Room 1000", std::string(kListenerOffer)});
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error());
    return started ? started->handle : 0;
  }
  SipMessage invite() const {
    auto invites = sender.requests("INVITE");
    EXPECT_FALSE(invites.empty());
    return invites.empty() ? SipMessage{} : invites.back();
  }
  // The callee's response to `request`, with its To tag and Contact; delivered as wire text.
  void respond(const SipMessage& request, int status, std::vector<std::string> extra = {}, std::string body = {}) {
    SipMessage response = make_response(request, status, status > 100 ? "bob-tag" : "");
    if (request.method == "INVITE" && status < 300) response.add_header("Contact", "<sip:alice@192.0.2.9:5092>");
    for (const auto& line : extra) {
      const auto colon = line.find(':');
      response.add_header(line.substr(0, colon), line.substr(colon + 2));
    }
    if (!body.empty()) {
      response.add_header("Content-Type", "application/sdp");
      response.body = std::move(body);
    }
    transactions.on_message(parse(response.serialize()), kCallee);
  }
  std::vector<RecordingSender::Sent> sent(std::string_view method) const {
    std::vector<RecordingSender::Sent> out;
    for (const auto& s : sender.sent)
      if (s.message.is_request && s.message.method == method) out.push_back(s);
    return out;
  }

  ManualTimerQueue timers;
  RecordingSender sender;
  DialListener listener;
  UserAgent ua;
  TransactionLayer transactions{timers, sender, ua};
};

TEST(UserAgentDialOut, InviteCarriesOfferToTheTarget) {
  DialHarness h;
  const CallHandle call = h.dial();
  ASSERT_NE(call, 0U);
  auto invites = h.sent("INVITE");
  ASSERT_EQ(invites.size(), 1U);
  const SipMessage& invite = invites[0].message;
  EXPECT_EQ(invites[0].peer.to_string(), "udp:127.0.0.1:5090");
  EXPECT_EQ(invite.request_uri_text, "sip:alice@127.0.0.1:5090");
  EXPECT_EQ(invite.to.uri_text, "sip:alice@127.0.0.1:5090");
  EXPECT_TRUE(invite.to.tag().empty());
  EXPECT_FALSE(invite.from.tag().empty());
  EXPECT_EQ(invite.from.uri_text, "sip:1000@127.0.0.1:5060");
  EXPECT_EQ(invite.from.display_name, "Room 1000");
  EXPECT_EQ(invite.cseq.number, 1U);
  EXPECT_EQ(invite.cseq.method, "INVITE");
  ASSERT_EQ(invite.contacts.size(), 1U);
  EXPECT_EQ(invite.contacts[0].uri_text, "sip:chorus@127.0.0.1:5060");
  EXPECT_EQ(invite.body, kListenerOffer);
  EXPECT_EQ(h.ua.dialing_count(), 1U);
  EXPECT_EQ(h.ua.call_count(), 0U);
}

// A dial still ringing holds a call slot: an INVITE arriving meanwhile is refused 503 at max_calls,
// so the dial's answer cannot take the UA past it (found by sip_stack_fuzz: 7 calls at max_calls 6).
TEST(UserAgentDialOut, ARingingDialHoldsACallSlotAgainstIncomingCalls) {
  UserAgentConfig config;
  config.max_calls = 1;
  DialHarness h(config);
  h.dial();
  uatest::RequestSpec incoming;
  incoming.content_type = "application/sdp";
  incoming.body = std::string(kCallerOffer);
  h.transactions.on_message(parse(uatest::request_text(incoming)), udp_peer());
  auto refused = h.sender.responses(503, "INVITE");
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "Too Many Calls");
  h.respond(h.invite(), 200, {}, std::string(kCallerOffer));
  EXPECT_EQ(h.ua.call_count(), 1U);
}

TEST(UserAgentDialOut, RingingThenOkIsAckedByTheDialog) {
  DialHarness h;
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 180);
  h.respond(invite, 183);
  EXPECT_TRUE(h.listener.answered.empty());
  h.respond(invite, 200, {}, std::string(kCallerOffer));

  auto acks = h.sent("ACK");
  ASSERT_EQ(acks.size(), 1U);
  const SipMessage& ack = acks[0].message;
  // §13.2.2.4: Request-URI from the 2xx's Contact, the To tag of the 2xx, the INVITE's CSeq number,
  // a Via branch of its own (the ACK for a 2xx is a transaction of its own).
  EXPECT_EQ(ack.request_uri_text, "sip:alice@192.0.2.9:5092");
  EXPECT_EQ(acks[0].peer.to_string(), "udp:192.0.2.9:5092");
  EXPECT_EQ(ack.to.tag(), "bob-tag");
  EXPECT_EQ(ack.from.tag(), invite.from.tag());
  EXPECT_EQ(ack.call_id, invite.call_id);
  EXPECT_EQ(ack.cseq.number, 1U);
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_NE(ack.top_branch(), invite.top_branch());

  ASSERT_EQ(h.listener.answered.size(), 1U);
  EXPECT_EQ(h.listener.answered[0].first, call);
  EXPECT_EQ(h.listener.answered[0].second, std::optional<std::string>(kCallerOffer));
  EXPECT_TRUE(h.listener.failed.empty());
  EXPECT_EQ(h.ua.call_count(), 1U);
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialOut, AckFollowsTheRouteSetInReverseRecordRouteOrder) {
  DialHarness h;
  h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 200, {"Record-Route: <sip:192.0.2.20;lr>", "Record-Route: <sip:192.0.2.21;lr>"},
            std::string(kCallerOffer));
  auto acks = h.sent("ACK");
  ASSERT_EQ(acks.size(), 1U);
  auto routes = acks[0].message.header_values("Route");
  ASSERT_EQ(routes.size(), 2U);
  EXPECT_EQ(routes[0], "<sip:192.0.2.21;lr>");  // §12.1.2: the UAC reverses the Record-Route
  EXPECT_EQ(routes[1], "<sip:192.0.2.20;lr>");
  EXPECT_EQ(acks[0].peer.to_string(), "udp:192.0.2.21:5060");
}

TEST(UserAgentDialOut, RetransmittedOkIsAckedAgain) {
  DialHarness h;
  h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  h.timers.advance(Millis{1});  // the INVITE transaction is gone; the next 2xx is a stray one
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  auto acks = h.sent("ACK");
  ASSERT_EQ(acks.size(), 3U);
  EXPECT_EQ(acks[1].message.serialize(), acks[0].message.serialize());
  EXPECT_EQ(acks[2].message.serialize(), acks[0].message.serialize());
  EXPECT_EQ(h.listener.answered.size(), 1U);  // the listener hears of the answer once
}

TEST(UserAgentDialOut, BusyIsAckedHopByHopAndReported) {
  DialHarness h;
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 180);
  h.respond(invite, 486);
  auto acks = h.sent("ACK");
  ASSERT_EQ(acks.size(), 1U);
  const SipMessage& ack = acks[0].message;
  // §17.1.1.3: the INVITE's Request-URI and branch, the To (with tag) of the 486, CSeq 1 ACK.
  EXPECT_EQ(ack.request_uri_text, invite.request_uri_text);
  EXPECT_EQ(ack.top_branch(), invite.top_branch());
  EXPECT_EQ(ack.to.tag(), "bob-tag");
  EXPECT_EQ(ack.cseq.number, 1U);
  EXPECT_EQ(acks[0].peer.to_string(), "udp:127.0.0.1:5090");
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].call, call);
  EXPECT_EQ(h.listener.failed[0].status, 486);
  EXPECT_TRUE(h.listener.answered.empty());
  EXPECT_EQ(h.ua.call_count(), 0U);
  EXPECT_EQ(h.ua.dialing_count(), 0U);
  // A retransmitted 486 is ACKed again by the transaction and not reported twice.
  h.respond(invite, 486);
  EXPECT_EQ(h.sent("ACK").size(), 2U);
  EXPECT_EQ(h.listener.failed.size(), 1U);
}

TEST(UserAgentDialOut, NoAnswerSendsCancelAndFails408) {
  UserAgentConfig config;
  config.no_answer_timeout = Millis{45'000};
  DialHarness h(config);
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 180);
  h.timers.advance(Millis{44'000});
  EXPECT_TRUE(h.sent("CANCEL").empty());
  h.timers.advance(Millis{1'000});
  auto cancels = h.sent("CANCEL");
  ASSERT_EQ(cancels.size(), 1U);
  const SipMessage& cancel = cancels[0].message;
  // §9.1: the INVITE's Request-URI, branch, Call-ID, From, To (no tag) and CSeq number.
  EXPECT_EQ(cancel.request_uri_text, invite.request_uri_text);
  EXPECT_EQ(cancel.top_branch(), invite.top_branch());
  EXPECT_EQ(cancel.call_id, invite.call_id);
  EXPECT_EQ(cancel.from.tag(), invite.from.tag());
  EXPECT_TRUE(cancel.to.tag().empty());
  EXPECT_EQ(cancel.cseq.number, 1U);
  EXPECT_EQ(cancel.cseq.method, "CANCEL");
  EXPECT_TRUE(h.listener.failed.empty());  // reported when the INVITE ends
  h.respond(cancel, 200);
  h.respond(invite, 487);
  EXPECT_EQ(h.sent("ACK").size(), 1U);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].call, call);
  EXPECT_EQ(h.listener.failed[0].status, 408);
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialOut, SilentCalleeTimesOutWithTimerBAndNoCancel) {
  DialHarness h;
  h.dial();
  h.timers.advance(Millis{64 * 500});     // Timer B: 64*T1 without any response
  EXPECT_TRUE(h.sent("CANCEL").empty());  // §9.1: never a CANCEL before a provisional response
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 408);
  h.timers.advance(Millis{60'000});
  EXPECT_EQ(h.listener.failed.size(), 1U);
}

TEST(UserAgentDialOut, HangUpWhileRingingCancels) {
  DialHarness h;
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 180);
  EXPECT_TRUE(h.ua.hang_up(call, "removed by the API"));
  auto cancels = h.sent("CANCEL");
  ASSERT_EQ(cancels.size(), 1U);
  h.respond(cancels[0].message, 200);
  h.respond(invite, 487);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 487);
  EXPECT_EQ(h.listener.failed[0].reason, "removed by the API");
}

TEST(UserAgentDialOut, OkCrossingTheCancelIsAckedThenByed) {
  DialHarness h;
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 180);
  h.ua.hang_up(call, "removed by the API");
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  EXPECT_EQ(h.sent("ACK").size(), 1U);
  auto byes = h.sent("BYE");
  ASSERT_EQ(byes.size(), 1U);
  EXPECT_EQ(byes[0].message.to.tag(), "bob-tag");
  EXPECT_EQ(byes[0].message.request_uri_text, "sip:alice@192.0.2.9:5092");
  EXPECT_TRUE(h.listener.answered.empty());
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 487);
  EXPECT_EQ(h.ua.call_count(), 0U);
}

TEST(UserAgentDialOut, AnsweredCallEndsWithByeEitherWay) {
  DialHarness h;
  const CallHandle call = h.dial();
  const SipMessage invite = h.invite();
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  // Our BYE (§15.1.1): in the dialog, with the next CSeq.
  EXPECT_TRUE(h.ua.hang_up(call, "removed by the API"));
  auto byes = h.sent("BYE");
  ASSERT_EQ(byes.size(), 1U);
  EXPECT_EQ(byes[0].message.cseq.number, 2U);
  EXPECT_EQ(byes[0].message.to.tag(), "bob-tag");
  EXPECT_EQ(byes[0].message.from.tag(), invite.from.tag());
  ASSERT_EQ(h.listener.ended.size(), 1U);
  EXPECT_EQ(h.listener.ended[0].first, call);

  // A second dial, ended by the callee's BYE (§15.1.2).
  const CallHandle second = h.dial();
  const SipMessage invite2 = h.invite();
  h.respond(invite2, 200, {}, std::string(kCallerOffer));
  const std::string bye =
      "BYE sip:chorus@127.0.0.1:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKbye1\r\n"
      "From: <sip:alice@127.0.0.1:5090>;tag=bob-tag\r\n"
      "To: " +
      invite2.from.to_string() +
      "\r\n"
      "Call-ID: " +
      invite2.call_id +
      "\r\n"
      "CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
  h.transactions.on_message(parse(bye), kCallee);
  auto oks = h.sender.responses(200, "BYE");
  ASSERT_EQ(oks.size(), 1U);
  ASSERT_EQ(h.listener.ended.size(), 2U);
  EXPECT_EQ(h.listener.ended[1].first, second);
  EXPECT_EQ(h.ua.call_count(), 0U);
}

TEST(UserAgentDialOut, UnacceptableAnswerIsAckedThenByed) {
  DialHarness h;
  h.listener.accept = false;
  h.dial();
  h.respond(h.invite(), 200);
  EXPECT_EQ(h.sent("ACK").size(), 1U);
  EXPECT_EQ(h.sent("BYE").size(), 1U);
  ASSERT_EQ(h.listener.answered.size(), 1U);
  EXPECT_FALSE(h.listener.answered[0].second.has_value());  // the 2xx had no SDP
  EXPECT_EQ(h.ua.call_count(), 0U);
}

TEST(UserAgentDialOut, TargetsThatCannotBeDialledAreRefused) {
  DialHarness h;
  for (const char* target : {"tel:+15551234", "not a uri", "sip:alice@", "sip:alice@127.0.0.1;transport=ws"}) {
    auto started = h.ua.dial({target, "1000", {}, std::string(kListenerOffer)});
    EXPECT_FALSE(started.has_value()) << target;
  }
  EXPECT_TRUE(h.sender.sent.empty());
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialOut, SipsAndTransportParamsPickTheTransport) {
  std::string error;
  auto tls = dial_target(*parse_uri("sips:bob@127.0.0.1"), error);
  ASSERT_TRUE(tls.has_value()) << error;
  EXPECT_EQ(tls->hop.to_string(), "tls:127.0.0.1:5061");
  EXPECT_TRUE(tls->host_name.empty());
  auto tcp = dial_target(*parse_uri("sip:bob@127.0.0.1:5070;transport=tcp"), error);
  ASSERT_TRUE(tcp.has_value()) << error;
  EXPECT_EQ(tcp->hop.to_string(), "tcp:127.0.0.1:5070");
  // A name is not looked up here (no blocking getaddrinfo on the control loop): it is handed back.
  auto named = dial_target(*parse_uri("sip:bob@localhost:5090"), error);
  ASSERT_TRUE(named.has_value()) << error;
  EXPECT_EQ(named->hop.port, 5090);
  EXPECT_EQ(named->host_name, "localhost");
}

// A HostResolver the test answers by hand, as the real one answers later from the control loop.
class ManualResolver final : public HostResolver, public dialtest::ManualLookups<ResolveResult> {
 public:
  void resolve(const std::string& host, HostResolver::Done done) override {
    lookups.push_back({host, std::move(done)});
  }
};

std::vector<boost::asio::ip::address> addresses(std::initializer_list<const char*> texts) {
  std::vector<boost::asio::ip::address> out;
  for (const char* text : texts) out.push_back(boost::asio::ip::make_address(text));
  return out;
}

TEST(UserAgentDialOut, HostNameIsResolvedOffTheCallThenDialled) {
  DialHarness h;
  ManualResolver resolver;
  h.ua.set_resolver(resolver);
  auto started = h.ua.dial({"sip:bob@pbx.example.com:5090", "1000", {}, std::string(kListenerOffer)});
  ASSERT_TRUE(started.has_value()) << started.error();
  // dial() returned before any answer: nothing is sent until the name resolves.
  ASSERT_EQ(resolver.lookups.size(), 1U);
  EXPECT_EQ(resolver.lookups[0].host, "pbx.example.com");
  EXPECT_TRUE(h.sender.sent.empty());
  EXPECT_EQ(h.ua.dialing_count(), 1U);
  resolver.answer(0, addresses({"2001:db8::7", "127.0.0.1"}));  // IPv4 preferred
  const SipMessage invite = h.invite();
  EXPECT_EQ(invite.call_id, started->call_id);
  EXPECT_EQ(invite.request_uri_text, "sip:bob@pbx.example.com:5090");
  ASSERT_EQ(h.sender.sent.size(), 1U);
  EXPECT_EQ(h.sender.sent[0].peer.to_string(), "udp:127.0.0.1:5090");
  h.respond(invite, 200, {}, std::string(kCallerOffer));
  ASSERT_EQ(h.listener.answered.size(), 1U);
}

TEST(UserAgentDialOut, DnsTimeoutFails504AndUnresolvableFails503) {
  DialHarness h;
  ManualResolver resolver;
  h.ua.set_resolver(resolver);
  const CallHandle slow = h.dial("sip:bob@slow.example.com");
  const CallHandle missing = h.dial("sip:bob@missing.example.com");
  resolver.answer(0, std::unexpected(ResolveError{ResolveError::Kind::kTimeout, "no DNS answer for slow.example.com"}));
  resolver.answer(
      1, std::unexpected(ResolveError{ResolveError::Kind::kNotFound, "host missing.example.com does not resolve"}));
  ASSERT_EQ(h.listener.failed.size(), 2U);
  EXPECT_EQ(h.listener.failed[0].call, slow);
  EXPECT_EQ(h.listener.failed[0].status, 504);
  EXPECT_EQ(h.listener.failed[0].reason, "no DNS answer for slow.example.com");
  EXPECT_EQ(h.listener.failed[1].call, missing);
  EXPECT_EQ(h.listener.failed[1].status, 503);
  EXPECT_TRUE(h.sender.sent.empty());
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialOut, ResolvedAddressTheCheckRefusesFails403WithNothingSent) {
  DialHarness h;
  ManualResolver resolver;
  h.ua.set_resolver(resolver);
  OutgoingCallRequest request{"sip:bob@rebind.example.com",
                              "1000",
                              {},
                              std::string(kListenerOffer),
                              [](const boost::asio::ip::address& address) -> std::optional<std::string> {
                                if (address.is_loopback()) return address.to_string() + " is loopback";
                                return std::nullopt;
                              }};
  ASSERT_TRUE(h.ua.dial(request).has_value());
  resolver.answer(0, addresses({"127.0.0.1"}));
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 403);
  EXPECT_NE(h.listener.failed[0].reason.find("127.0.0.1 is loopback"), std::string::npos);
  EXPECT_TRUE(h.sender.sent.empty());
  // An IP literal the check refuses is refused by dial() itself.
  request.target = "sip:bob@127.0.0.1:5090";
  auto literal = h.ua.dial(request);
  ASSERT_FALSE(literal.has_value());
  EXPECT_EQ(literal.error(), "127.0.0.1 is loopback");
  EXPECT_TRUE(h.sender.sent.empty());
}

TEST(UserAgentDialOut, HangUpWhileResolvingFailsWithoutCancelAndIgnoresTheLateAnswer) {
  DialHarness h;
  ManualResolver resolver;
  h.ua.set_resolver(resolver);
  const CallHandle call = h.dial("sip:bob@pbx.example.com");
  ASSERT_TRUE(h.ua.hang_up(call, "moderator hung up"));
  EXPECT_TRUE(h.listener.failed.empty());  // reported from a zero-delay timer, not from inside hang_up
  h.timers.advance(Millis{0});
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 487);
  resolver.answer(0, addresses({"192.0.2.10"}));
  EXPECT_TRUE(h.sender.sent.empty());  // no INVITE, no CANCEL
  EXPECT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialOut, HostNamesNeedAResolver) {
  DialHarness h;
  auto started = h.ua.dial({"sip:bob@pbx.example.com", "1000", {}, std::string(kListenerOffer)});
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("no resolver"), std::string::npos);
}

TEST(UserAgentDialOut, ShutdownCancelsRingingDials) {
  DialHarness h;
  h.dial();
  h.respond(h.invite(), 180);
  h.ua.shutdown();
  EXPECT_EQ(h.sent("CANCEL").size(), 1U);
  EXPECT_FALSE(h.ua.dial({"sip:alice@127.0.0.1:5090", "1000", {}, {}}).has_value());
}

}  // namespace user_agent_outgoing_test
}  // namespace chorus::sip
