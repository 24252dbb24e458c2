// UserAgent limits against strangers (issue 12): calls per source IP (486, stateless, trusted
// sources exempt), error responses without optional headers, bare OPTIONS answers to unverified
// UDP sources, the 2xx budget for them (and no BYE), and the byte amplification factor of what a
// spoofed request can make us send.
#include <gtest/gtest.h>

#include <cstdio>

#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace user_agent_limits_test {

using uatest::kCallerOffer;
using uatest::request_text;
using uatest::RequestSpec;
using uatest::tcp_peer;
using uatest::UaHarness;
using uatest::udp_peer;

RequestSpec invite_from(const std::string& call_id) {
  RequestSpec spec;
  spec.call_id = call_id;
  spec.content_type = "application/sdp";
  spec.body = std::string(kCallerOffer);
  return spec;
}

UserAgentConfig per_source(std::size_t limit) {
  UserAgentConfig config;
  config.max_calls_per_source = limit;
  return config;
}

TEST(UserAgentLimits, CallsBeyondThePerSourceLimitGet486Statelessly) {
  UaHarness h(per_source(2));
  const std::string tag = h.establish(invite_from("c1"));
  h.establish(invite_from("c2"));
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 2u);
  h.deliver(invite_from("c3"));
  auto busy = h.sender.responses(486, "INVITE");
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_FALSE(busy[0].has_header("Server"));
  EXPECT_EQ(h.listener.incoming.size(), 2u);  // refused before the conference is asked
  EXPECT_EQ(h.ua.counters().calls_refused_per_source.load(), 1u);
  h.timers.advance(Millis(0));
  // Only the two calls' INVITE transactions (Accepted) are alive: the refusal left nothing.
  EXPECT_EQ(h.transactions.server_count(), 2u);
  h.timers.advance(Millis(32'000));
  EXPECT_EQ(h.sender.responses(486, "INVITE").size(), 1u);  // and was never retransmitted

  // Another address is not affected.
  RequestSpec other = invite_from("c4");
  h.establish(other, udp_peer("198.51.100.8"));
  EXPECT_EQ(h.ua.call_count(), 3u);

  // A call that ends frees its slot.
  RequestSpec bye;
  bye.method = "BYE";
  bye.call_id = "c1";
  bye.to_tag = tag;
  bye.cseq = 2;
  h.deliver(bye);
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 1u);
  h.establish(invite_from("c5"));
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 2u);
}

TEST(UserAgentLimits, EarlyMediaCallsCountAndFreeTheirSlot) {
  UaHarness h(per_source(1));
  h.listener.decision = CallDecision{183, {}, std::string(uatest::kListenerAnswer), {}};
  h.deliver(invite_from("e1"));
  ASSERT_EQ(h.sender.responses(183, "INVITE").size(), 1u);
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 1u);
  h.deliver(invite_from("e2"));
  EXPECT_EQ(h.sender.responses(486, "INVITE").size(), 1u);
  ASSERT_EQ(h.listener.incoming.size(), 1u);
  EXPECT_TRUE(h.ua.reject_after_early_media(h.listener.incoming[0].handle, 480));
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 0u);
}

TEST(UserAgentLimits, TrustedSourcesAreNotLimited) {
  UserAgentConfig config = per_source(1);
  config.trusted_sources = {*parse_address_range("198.51.100.0/24")};
  UaHarness h(config);
  h.establish(invite_from("t1"));
  h.establish(invite_from("t2"));
  EXPECT_EQ(h.ua.call_count(), 2u);
  EXPECT_EQ(h.ua.calls_from(udp_peer().address), 0u);
  EXPECT_TRUE(h.sender.responses(486).empty());
}

TEST(UserAgentLimits, ZeroMeansNoPerSourceLimit) {
  UaHarness h(per_source(0));
  for (int i = 0; i < 30; ++i) h.establish(invite_from("z" + std::to_string(i)));
  EXPECT_EQ(h.ua.call_count(), 30u);
}

TEST(UserAgentLimits, ErrorResponsesCarryNoServerHeaderButSuccessesDo) {
  UaHarness h;
  h.listener.decision = CallDecision{404, "Room Not Found", {}, {}};
  h.deliver(invite_from("unknown-room"));
  auto refused = h.sender.responses(404, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].has_header("Server"));
  h.listener.decision = CallDecision{200, {}, std::string(uatest::kListenerAnswer), {}};
  h.establish(invite_from("known-room"));
  EXPECT_TRUE(h.sender.responses(200, "INVITE").back().has_header("Server"));
}

TEST(UserAgentLimits, OptionsFromAnUnverifiedUdpSourceGetsABare200) {
  UaHarness h;
  RequestSpec options;
  options.method = "OPTIONS";
  options.uri = "sip:probe@127.0.0.1";
  h.deliver(options);
  auto bare = h.sender.responses(200, "OPTIONS");
  ASSERT_EQ(bare.size(), 1u);
  for (const char* name : {"Allow", "Accept", "Supported", "Server"}) EXPECT_FALSE(bare[0].has_header(name)) << name;
  EXPECT_FALSE(h.ua.verified(udp_peer()));

  // A source that ACKed our 2xx has proved it receives what we send: the full answer (§11.2).
  h.establish(invite_from("proof"));
  EXPECT_TRUE(h.ua.verified(udp_peer()));
  options.call_id = "options-2";
  h.deliver(options);
  EXPECT_TRUE(h.sender.responses(200, "OPTIONS").back().has_header("Allow"));
  EXPECT_FALSE(h.ua.verified(udp_peer("198.51.100.99")));
  EXPECT_TRUE(h.ua.verified(tcp_peer()));
}

TEST(UserAgentLimits, VerifiedSourcesAreBounded) {
  UserAgentConfig config;
  config.max_verified_sources = 2;
  UaHarness h(config);
  for (const char* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.3"})
    h.establish(invite_from(std::string("v-") + ip), udp_peer(ip));
  EXPECT_FALSE(h.ua.verified(udp_peer("198.51.100.1")));  // the oldest was forgotten
  EXPECT_TRUE(h.ua.verified(udp_peer("198.51.100.2")));
  EXPECT_TRUE(h.ua.verified(udp_peer("198.51.100.3")));
}

// What a scanner sends (SIPVicious-like): each request and the bytes it makes us send back.
struct Amplification {
  std::size_t request_bytes = 0;
  std::size_t response_bytes = 0;
  std::size_t responses = 0;
  [[nodiscard]] double factor() const { return static_cast<double>(response_bytes) / request_bytes; }
};

Amplification measure(UaHarness& h, RequestSpec spec, int count) {
  Amplification a;
  const std::size_t before = h.sender.sent.size();
  for (int i = 0; i < count; ++i) {
    spec.call_id = "scan-" + std::to_string(i) + "@203.0.113.9";
    const std::string text = request_text(spec);
    a.request_bytes += text.size();
    h.deliver(text, udp_peer("203.0.113.9"));
  }
  h.timers.advance(Millis(64 * 500));  // everything a retransmission timer could still send
  for (std::size_t i = before; i < h.sender.sent.size(); ++i) {
    a.response_bytes += h.sender.sent[i].message.serialize().size();
    ++a.responses;
  }
  return a;
}

RequestSpec scanner(std::string method) {
  RequestSpec spec;
  spec.method = std::move(method);
  spec.uri = "sip:100@127.0.0.1";
  spec.headers = {"User-Agent: friendly-scanner", "Accept: application/sdp"};
  // A registration names its binding (RFC 3261 §10.2); request_text adds Contact to the others.
  if (spec.method == "REGISTER")
    spec.headers.insert(spec.headers.end(), {"Contact: <sip:100@203.0.113.9:5060>", "Expires: 3600"});
  return spec;
}

TEST(UserAgentLimits, AmplificationIsAtMostOneForNonInviteAndThreeForInvite) {
  UaHarness h;
  h.listener.decision = CallDecision{404, "Room Not Found", {}, {}};
  const Amplification options = measure(h, scanner("OPTIONS"), 200);
  const Amplification reg = measure(h, scanner("REGISTER"), 200);
  RequestSpec invite = scanner("INVITE");
  invite.content_type = "application/sdp";
  invite.body = std::string(kCallerOffer);
  const Amplification inv = measure(h, invite, 200);
  EXPECT_EQ(options.responses, 200u);  // one response per request, never a retransmission
  EXPECT_EQ(reg.responses, 200u);
  EXPECT_EQ(inv.responses, 200u);
  EXPECT_LE(options.factor(), 1.0) << options.response_bytes << " / " << options.request_bytes;
  EXPECT_LE(reg.factor(), 1.0) << reg.response_bytes << " / " << reg.request_bytes;
  EXPECT_LE(inv.factor(), 3.0) << inv.response_bytes << " / " << inv.request_bytes;
  EXPECT_EQ(h.transactions.server_count(), 0u);
  std::printf("amplification: OPTIONS %.2f, REGISTER %.2f, INVITE (unknown room) %.2f\n", options.factor(),
              reg.factor(), inv.factor());
}

// A forged INVITE to a real room: the room answers 200 with SDP, and RFC 3261 alone would send that
// 2xx eleven times (T1, 2·T1, ... T2 until 64·T1) and then a BYE with its own retransmissions.
TEST(UserAgentLimits, AnsweredInviteFromAnUnverifiedSourceStaysWithinThree) {
  UaHarness h;  // the listener answers 200 with SDP
  RequestSpec invite = scanner("INVITE");
  invite.content_type = "application/sdp";
  invite.body = std::string(kCallerOffer);
  const Amplification inv = measure(h, invite, 20);
  EXPECT_LE(inv.factor(), 3.0) << inv.response_bytes << " / " << inv.request_bytes;
  EXPECT_GE(inv.responses, 20u);                  // each was answered
  EXPECT_TRUE(h.sender.requests("BYE").empty());  // and the unACKed calls ended without a BYE
  EXPECT_EQ(h.listener.ended.size(), 20u);
  EXPECT_EQ(h.ua.call_count(), 0u);
  EXPECT_GT(h.ua.counters().retransmissions_withheld.load(), 0u);
  std::printf("amplification: INVITE answered 200 by a room %.2f (%zu responses for 20 INVITEs)\n", inv.factor(),
              inv.responses);
}

TEST(UserAgentLimits, AnInviteRetransmissionEarnsItsUnverifiedSourceThe2xxAgain) {
  UaHarness h;
  const std::string text = request_text(invite_from("lost-2xx"));
  h.deliver(text);
  ASSERT_EQ(h.sender.responses(200, "INVITE").size(), 1u);
  // The 2xx was lost: the caller, which got no response at all, retransmits the INVITE (Timer A);
  // each copy is answered at once, long after the timer's own budget ran out.
  h.timers.advance(Millis(4'000));
  const std::size_t before = h.sender.responses(200, "INVITE").size();
  for (int copy = 1; copy <= 3; ++copy) {
    h.deliver(text);
    EXPECT_EQ(h.sender.responses(200, "INVITE").size(), before + copy);
  }
  EXPECT_TRUE(h.listener.incoming.size() == 1u);  // one call: the retransmissions are not new calls
  // Its ACK proves the address: the call is up, no BYE.
  const SipMessage ok = h.sender.responses(200, "INVITE").front();
  RequestSpec ack = invite_from("lost-2xx");
  ack.method = "ACK";
  ack.to_tag = ok.to.tag();
  ack.content_type.clear();
  ack.body.clear();
  h.deliver(ack);
  EXPECT_TRUE(h.ua.verified(udp_peer()));
  h.timers.advance(Millis(64 * 500));
  EXPECT_EQ(h.ua.call_count(), 1u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
}

TEST(UserAgentLimits, ASourceProvenByAnotherCallGetsTheFullSchedule) {
  UaHarness h;
  h.deliver(invite_from("first"));
  h.timers.advance(Millis(4'000));  // T1 + 2·T1 + 4·T1 have passed: the budget held some back
  const std::size_t withheld = h.ua.counters().retransmissions_withheld.load();
  EXPECT_GT(withheld, 0u);
  auto oks_of_first = [&] {
    std::size_t n = 0;
    for (const auto& ok : h.sender.responses(200, "INVITE")) n += ok.call_id == "first" ? 1 : 0;
    return n;
  };
  const std::size_t sent = oks_of_first();
  h.establish(invite_from("second"));  // its ACK proves the address
  h.timers.advance(Millis(4'000));     // the next retransmission of the first 2xx (T2)
  EXPECT_EQ(oks_of_first(), sent + 1);
  EXPECT_EQ(h.ua.counters().retransmissions_withheld.load(), withheld);
  h.timers.advance(Millis(64 * 500));  // no ACK for the first: a proven source is sent the BYE
  const auto byes = h.sender.requests("BYE");
  ASSERT_FALSE(byes.empty());  // (and its retransmissions: nobody answers it here)
  for (const auto& bye : byes) EXPECT_EQ(bye.call_id, "first");
}

}  // namespace user_agent_limits_test
}  // namespace chorus::sip
