// Dial-out failover (RFC 3263 §4.3): the hops — preset for a trunk, from the SipLocator, or a
// name's addresses — are tried in order; a 503, Timer B or a transport error sends a fresh INVITE
// (new branch; same Call-ID, From tag and CSeq) to the next; other final responses end the dial;
// all failed, the last status is reported. check_address holds for every hop.
#include <gtest/gtest.h>

#include "tests/unit/signaling/ua/dial_out_test_support.hpp"

namespace chorus::sip {
namespace user_agent_failover_test {

using dialtest::DialHarness;
using dialtest::located;
using dialtest::udp;

OutgoingCallRequest trunk_request(const DialHarness& h) {
  OutgoingCallRequest r = h.request("sip:+4930123456@trunk.example.net");
  r.hops = {located("192.0.2.1"), located("192.0.2.2", 5070)};
  return r;
}

TEST(UserAgentFailover, ServiceUnavailableMovesToTheNextHopWhichAnswers) {
  DialHarness h;
  const CallHandle call = h.dial(trunk_request(h));
  auto invites = h.invites();
  ASSERT_EQ(invites.size(), 1U);
  EXPECT_EQ(invites[0].peer.to_string(), "udp:192.0.2.1:5060");
  h.respond(invites[0], 503);
  EXPECT_EQ(h.sender.requests("ACK").size(), 1U);  // the 503 ACKed by its transaction
  invites = h.invites();
  ASSERT_EQ(invites.size(), 2U);
  EXPECT_EQ(invites[1].peer.to_string(), "udp:192.0.2.2:5070");
  const SipMessage& first = invites[0].message;
  const SipMessage& second = invites[1].message;
  EXPECT_NE(second.top_branch(), first.top_branch());
  EXPECT_EQ(second.call_id, first.call_id);
  EXPECT_EQ(second.from.tag(), first.from.tag());
  EXPECT_EQ(second.cseq.number, first.cseq.number);
  EXPECT_EQ(second.request_uri_text, "sip:+4930123456@trunk.example.net");
  EXPECT_TRUE(h.listener.failed.empty());
  h.respond(invites[1], 200);
  ASSERT_EQ(h.listener.answered.size(), 1U);
  EXPECT_EQ(h.listener.answered[0].first, call);
  // The ACK goes to the 2xx's Contact at the hop that answered.
  EXPECT_EQ(h.last("ACK").peer.to_string(), "udp:192.0.2.2:5070");
}

TEST(UserAgentFailover, TimerBOnTheFirstHopMovesToTheSecond) {
  DialHarness h;
  h.dial(trunk_request(h));
  h.timers.advance(Millis{64 * 500 - 1});
  EXPECT_EQ(h.invites().size(), 1U);  // retransmitted (Timer A), still to the first hop
  EXPECT_GT(h.sender.requests("INVITE").size(), 1U);
  h.timers.advance(Millis{1});  // Timer B: 64*T1 without a response
  const auto after = h.invites();
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after.back().peer.to_string(), "udp:192.0.2.2:5070");
  EXPECT_TRUE(h.listener.failed.empty());
  h.respond(after.back(), 180);
  h.respond(after.back(), 200);
  EXPECT_EQ(h.listener.answered.size(), 1U);
}

TEST(UserAgentFailover, TransportErrorMovesToTheNextHop) {
  DialHarness h;
  h.sender.unreachable.insert("udp:192.0.2.1:5060");
  h.dial(trunk_request(h));
  EXPECT_TRUE(h.invites().empty());
  h.timers.advance(Millis{0});  // the transaction layer reports the failure as a 503, later
  ASSERT_EQ(h.invites().size(), 1U);
  EXPECT_EQ(h.invites()[0].peer.to_string(), "udp:192.0.2.2:5070");
}

TEST(UserAgentFailover, BusyDoesNotFailOver) {
  for (int status : {486, 404, 408, 500, 603}) {
    DialHarness h;
    h.dial(trunk_request(h));
    h.respond(h.invites()[0], status);
    EXPECT_EQ(h.invites().size(), 1U) << status;
    ASSERT_EQ(h.listener.failed.size(), 1U) << status;
    EXPECT_EQ(h.listener.failed[0].status, status);
  }
}

// A timeout after a provisional response is Timer C (someone was ringing): not a dead server.
TEST(UserAgentFailover, TimeoutAfterRingingDoesNotFailOver) {
  UserAgentConfig config;
  config.no_answer_timeout = Millis{600'000};
  DialHarness h(config);
  h.dial(trunk_request(h));
  h.respond(h.invites()[0], 180);
  h.timers.advance(Millis{182'000});
  EXPECT_EQ(h.invites().size(), 1U);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 408);
}

TEST(UserAgentFailover, AllHopsFailedReportsTheLastStatus) {
  DialHarness h;
  OutgoingCallRequest r = trunk_request(h);
  r.hops.push_back(located("192.0.2.3"));
  h.dial(r);
  h.respond(h.invites()[0], 503);
  h.timers.advance(Millis{64 * 500});  // the second hop is silent
  ASSERT_EQ(h.invites().size(), 3U);
  EXPECT_EQ(h.invites()[2].peer.to_string(), "udp:192.0.2.3:5060");
  EXPECT_TRUE(h.listener.failed.empty());
  h.respond(h.invites()[2], 503, {{"Retry-After", "60"}});
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 503);
  EXPECT_EQ(h.ua.dialing_count(), 0U);

  // The last failure was the silent hop: 408.
  DialHarness g;
  g.dial(trunk_request(g));
  g.respond(g.invites()[0], 503);
  g.timers.advance(Millis{64 * 500});
  ASSERT_EQ(g.listener.failed.size(), 1U);
  EXPECT_EQ(g.listener.failed[0].status, 408);
}

// The no-answer bound is the whole dial's: a failover does not restart it.
TEST(UserAgentFailover, NoAnswerTimeoutCoversEveryHop) {
  UserAgentConfig config;
  config.no_answer_timeout = Millis{40'000};
  DialHarness h(config);
  h.dial(trunk_request(h));
  h.timers.advance(Millis{32'000});  // Timer B on the first hop
  ASSERT_EQ(h.invites().size(), 2U);
  h.respond(h.invites()[1], 180);
  h.timers.advance(Millis{8'000});
  const auto cancel = h.last("CANCEL");
  EXPECT_EQ(cancel.peer.to_string(), "udp:192.0.2.2:5070");
  EXPECT_EQ(cancel.message.top_branch(), h.invites()[1].message.top_branch());
  h.respond(cancel, 200);
  h.respond(h.invites()[1], 487);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 408);
}

TEST(UserAgentFailover, EgressPolicyHoldsForEveryHop) {
  DialHarness h;
  OutgoingCallRequest r = trunk_request(h);
  r.check_address = [](const boost::asio::ip::address& address) -> std::optional<std::string> {
    if (address.to_string() == "192.0.2.1") return "192.0.2.1 is blocked";
    return std::nullopt;
  };
  h.dial(r);
  ASSERT_EQ(h.invites().size(), 1U);
  EXPECT_EQ(h.invites()[0].peer.to_string(), "udp:192.0.2.2:5070");

  r.check_address = [](const boost::asio::ip::address&) -> std::optional<std::string> { return "all blocked"; };
  auto refused = h.ua.dial(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), "all blocked");
  EXPECT_EQ(h.invites().size(), 1U);
}

TEST(UserAgentFailover, LocatorHopsAreWalked) {
  DialHarness h;
  dialtest::ManualLocator locator;
  h.ua.set_locator(locator);
  OutgoingCallRequest r = h.request("sip:+4930123456@trunk.example.net");
  r.credentials = DigestCredentials{"u", "p"};
  const CallHandle call = h.dial(r);
  ASSERT_EQ(locator.lookups.size(), 1U);
  EXPECT_EQ(locator.lookups[0].host, "trunk.example.net");
  EXPECT_TRUE(h.invites().empty());
  locator.answer(0, std::vector<LocatedHop>{located("192.0.2.11"), located("192.0.2.12")});
  ASSERT_EQ(h.invites().size(), 1U);
  EXPECT_EQ(h.invites()[0].peer.to_string(), "udp:192.0.2.11:5060");
  h.respond(h.invites()[0], 503);
  ASSERT_EQ(h.invites().size(), 2U);
  EXPECT_EQ(h.invites()[1].peer.to_string(), "udp:192.0.2.12:5060");
  h.respond(h.invites()[1], 200);
  ASSERT_EQ(h.listener.answered.size(), 1U);
  EXPECT_EQ(h.listener.answered[0].first, call);
}

TEST(UserAgentFailover, LocatorFailuresAndRefusals) {
  DialHarness h;
  dialtest::ManualLocator locator;
  h.ua.set_locator(locator);
  h.dial(h.request("sip:bob@slow.example.net"));
  h.dial(h.request("sip:bob@missing.example.net"));
  OutgoingCallRequest blocked = h.request("sip:bob@internal.example.net");
  blocked.check_address = [](const boost::asio::ip::address& a) -> std::optional<std::string> {
    return a.to_string() + " is internal";
  };
  h.dial(blocked);
  locator.answer(0, std::unexpected(ResolveError{ResolveError::Kind::kTimeout, "no DNS answer"}));
  locator.answer(1, std::unexpected(ResolveError{ResolveError::Kind::kNotFound, "no SIP server"}));
  locator.answer(2, std::vector<LocatedHop>{located("10.0.0.1")});
  ASSERT_EQ(h.listener.failed.size(), 3U);
  EXPECT_EQ(h.listener.failed[0].status, 504);
  EXPECT_EQ(h.listener.failed[1].status, 503);
  EXPECT_EQ(h.listener.failed[2].status, 403);
  EXPECT_NE(h.listener.failed[2].reason.find("10.0.0.1 is internal"), std::string::npos);
  EXPECT_TRUE(h.invites().empty());
  // An IP literal target needs no lookup, locator or not.
  h.dial(h.request("sip:bob@192.0.2.50"));
  EXPECT_EQ(locator.lookups.size(), 3U);
  EXPECT_EQ(h.invites().size(), 1U);
}

// Without a locator a name's A/AAAA addresses are the hops (IPv4 first), on the URI's port.
TEST(UserAgentFailover, ResolvedAddressesAreHopsToo) {
  class OneShotResolver final : public HostResolver {
   public:
    void resolve(const std::string& /*host*/, Done done) override { pending = std::move(done); }
    Done pending;
  };
  DialHarness h;
  OneShotResolver resolver;
  h.ua.set_resolver(resolver);
  h.dial(h.request("sip:bob@pbx.example.net:5080"));
  ASSERT_TRUE(resolver.pending);
  resolver.pending(std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("2001:db8::5"),
                                                         boost::asio::ip::make_address("192.0.2.5")});
  ASSERT_EQ(h.invites().size(), 1U);
  EXPECT_EQ(h.invites()[0].peer.to_string(), "udp:192.0.2.5:5080");
  h.respond(h.invites()[0], 503);
  ASSERT_EQ(h.invites().size(), 2U);
  EXPECT_EQ(h.invites()[1].peer.to_string(), "udp:[2001:db8::5]:5080");
}

// Challenged at the first hop, then 503 there: the next hop starts without the old credentials
// and may challenge afresh.
TEST(UserAgentFailover, ChallengesAreAnsweredPerHop) {
  DialHarness h;
  OutgoingCallRequest r = trunk_request(h);
  r.credentials = DigestCredentials{"u", "p"};
  h.dial(r);
  const std::string challenge = "Digest realm=\"trunk.example.net\", nonce=\"n1\", qop=\"auth\"";
  h.respond(h.invites()[0], 407, {{"Proxy-Authenticate", challenge}});
  ASSERT_EQ(h.invites().size(), 2U);
  EXPECT_TRUE(h.invites()[1].message.has_header("Proxy-Authorization"));
  h.respond(h.invites()[1], 503);
  ASSERT_EQ(h.invites().size(), 3U);
  EXPECT_EQ(h.invites()[2].peer.to_string(), "udp:192.0.2.2:5070");
  EXPECT_FALSE(h.invites()[2].message.has_header("Proxy-Authorization"));
  h.respond(h.invites()[2], 407, {{"Proxy-Authenticate", challenge}});
  ASSERT_EQ(h.invites().size(), 4U);
  EXPECT_TRUE(h.invites()[3].message.has_header("Proxy-Authorization"));
  EXPECT_EQ(h.invites()[3].message.cseq.number, 3U);
}

}  // namespace user_agent_failover_test
}  // namespace chorus::sip
