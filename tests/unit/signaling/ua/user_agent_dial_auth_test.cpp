// Dial-out with Digest (RFC 3261 §22.2, §22.3, §8.1.3.5): a 401/407 to our INVITE is answered by a
// new INVITE (same Call-ID and From tag, CSeq + 1, new branch) whose credentials the UAS side of
// signaling/auth (DigestVerifier) accepts; a second non-stale challenge fails; stale=true earns
// one more try; CANCEL follows the re-sent INVITE; in-dialog requests of the call are answered too.
#include <gtest/gtest.h>

#include "signaling/auth/digest_verifier.hpp"
#include "tests/unit/signaling/ua/dial_out_test_support.hpp"

namespace chorus::sip {
namespace user_agent_dial_auth_test {

using dialtest::DialHarness;

const DigestCredentials kTrunkUser{"chorus-trunk", "s3cret!"};

std::optional<std::string> trunk_password(std::string_view username, std::string_view realm) {
  if (username == kTrunkUser.username && realm == "trunk.example.net") return kTrunkUser.password;
  return std::nullopt;
}

DigestVerifier verifier(bool proxy = false) {
  DigestVerifierConfig config;
  config.proxy = proxy;
  return DigestVerifier(config);
}

OutgoingCallRequest with_credentials(const DialHarness& h) {
  OutgoingCallRequest r = h.request();
  r.credentials = kTrunkUser;
  return r;
}

TEST(UserAgentDialAuth, ChallengedInviteIsResentWithAuthorization) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  const CallHandle call = h.dial(with_credentials(h));
  const auto first = h.last("INVITE");
  EXPECT_FALSE(first.message.has_header("Authorization"));
  h.respond(first, 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});

  // The transaction ACKs the 401 (§17.1.1.3: the INVITE's branch, CSeq 1).
  auto acks = h.sender.requests("ACK");
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].message.top_branch(), first.message.top_branch());
  EXPECT_EQ(acks[0].message.cseq.number, 1U);

  auto invites = h.invites();
  ASSERT_EQ(invites.size(), 2U);
  const SipMessage& again = invites[1].message;
  EXPECT_EQ(again.call_id, first.message.call_id);
  EXPECT_EQ(again.from.tag(), first.message.from.tag());
  EXPECT_TRUE(again.to.tag().empty());
  EXPECT_EQ(again.cseq.number, 2U);
  EXPECT_NE(again.top_branch(), first.message.top_branch());
  EXPECT_EQ(invites[1].peer.to_string(), first.peer.to_string());
  EXPECT_EQ(again.body, first.message.body);
  auto user = uas.verify(again, trunk_password);
  ASSERT_TRUE(user.has_value()) << to_string(user.error()) << "\n" << *again.header("Authorization");
  EXPECT_EQ(*user, "chorus-trunk");

  h.respond(invites[1], 200);
  ASSERT_EQ(h.listener.answered.size(), 1U);
  EXPECT_EQ(h.listener.answered[0].first, call);
  acks = h.sender.requests("ACK");
  ASSERT_EQ(acks.size(), 2U);
  EXPECT_EQ(acks[1].message.cseq.number, 2U);  // §13.2.2.4: the ACK of the 2xx has the INVITE's CSeq
  EXPECT_TRUE(h.listener.failed.empty());
}

TEST(UserAgentDialAuth, ProxyChallengeGetsProxyAuthorization) {
  DialHarness h;
  const DigestVerifier proxy = verifier(true);
  h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 407, {{"Proxy-Authenticate", proxy.challenge_header("trunk.example.net", false)}});
  const SipMessage again = h.last("INVITE").message;
  EXPECT_FALSE(again.has_header("Authorization"));
  ASSERT_TRUE(again.has_header("Proxy-Authorization"));
  EXPECT_NE(again.header("Proxy-Authorization")->find("algorithm=SHA-256"), std::string::npos);
  EXPECT_TRUE(proxy.verify(again, trunk_password).has_value());
  h.respond(h.last("INVITE"), 200);
  EXPECT_EQ(h.listener.answered.size(), 1U);
}

// A proxy's 407 and then the callee's 401 (two realms): both answered, the first kept (§22.3).
TEST(UserAgentDialAuth, ProxyThenServerChallengesAreBothAnswered) {
  DialHarness h;
  const DigestVerifier proxy = verifier(true);
  DigestVerifierConfig config;
  const DigestVerifier callee(config);
  h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 407, {{"Proxy-Authenticate", proxy.challenge_header("trunk.example.net", false)}});
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", callee.challenge_header("pbx.example.net", false)}});
  const SipMessage third = h.last("INVITE").message;
  EXPECT_EQ(third.cseq.number, 3U);
  EXPECT_TRUE(proxy.verify(third, trunk_password).has_value());
  auto pbx_password = [](std::string_view, std::string_view realm) -> std::optional<std::string> {
    return realm == "pbx.example.net" ? std::optional<std::string>(kTrunkUser.password) : std::nullopt;
  };
  EXPECT_TRUE(callee.verify(third, pbx_password).has_value());
}

TEST(UserAgentDialAuth, SecondNonStaleChallengeFailsWithItsStatus) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  const CallHandle call = h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  EXPECT_EQ(h.invites().size(), 2U);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].call, call);
  EXPECT_EQ(h.listener.failed[0].status, 401);
  EXPECT_EQ(h.sender.requests("ACK").size(), 2U);  // each 401 ACKed by its transaction
  EXPECT_EQ(h.ua.dialing_count(), 0U);
}

TEST(UserAgentDialAuth, StaleNonceIsRetriedOnce) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", true)}});
  auto invites = h.invites();
  ASSERT_EQ(invites.size(), 3U);
  EXPECT_EQ(invites[2].message.cseq.number, 3U);
  EXPECT_TRUE(uas.verify(invites[2].message, trunk_password).has_value());
  // The new nonce is answered, not the old one.
  auto old_nonce = parse_digest_authorization(*invites[1].message.header("Authorization"));
  auto new_nonce = parse_digest_authorization(*invites[2].message.header("Authorization"));
  ASSERT_TRUE(old_nonce && new_nonce);
  EXPECT_NE(old_nonce->nonce, new_nonce->nonce);
  EXPECT_EQ(invites[2].message.header_values("Authorization").size(), 1U);
  // Stale again: no third answer.
  h.respond(invites[2], 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", true)}});
  EXPECT_EQ(h.invites().size(), 3U);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 401);
}

TEST(UserAgentDialAuth, ChallengeWithoutCredentialsOrUsableChallengeFails) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  h.dial(h.request());
  h.respond(h.last("INVITE"), 407, {{"Proxy-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 407);

  h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", "Basic realm=\"trunk.example.net\""}});
  ASSERT_EQ(h.listener.failed.size(), 2U);
  EXPECT_EQ(h.listener.failed[1].status, 401);
  EXPECT_EQ(h.invites().size(), 2U);  // one per dial: neither was re-sent
}

// §9.1: the CANCEL copies the INVITE now in flight — the re-sent one, its branch and CSeq.
TEST(UserAgentDialAuth, CancelMatchesTheResentInvite) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  const CallHandle call = h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  const auto again = h.last("INVITE");
  h.respond(again, 180);
  ASSERT_TRUE(h.ua.hang_up(call, "removed by the API"));
  const auto cancel = h.last("CANCEL");
  EXPECT_EQ(cancel.message.top_branch(), again.message.top_branch());
  EXPECT_EQ(cancel.message.cseq.number, 2U);
  EXPECT_EQ(cancel.message.cseq.method, "CANCEL");
  EXPECT_FALSE(cancel.message.has_header("Authorization"));
  h.respond(cancel, 200);
  h.respond(again, 487);
  ASSERT_EQ(h.listener.failed.size(), 1U);
  EXPECT_EQ(h.listener.failed[0].status, 487);
}

// An answered call's BYE challenged 401: sent again once with credentials and the next CSeq.
TEST(UserAgentDialAuth, ByeChallengedThenAccepted) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  const CallHandle call = h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 200);
  ASSERT_TRUE(h.ua.hang_up(call, "removed by the API"));
  const auto bye = h.last("BYE");
  EXPECT_EQ(bye.message.cseq.number, 2U);
  h.respond(bye, 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  auto byes = h.sender.requests("BYE");
  ASSERT_EQ(byes.size(), 2U);
  const SipMessage& again = byes[1].message;
  EXPECT_EQ(again.cseq.number, 3U);
  EXPECT_EQ(again.call_id, bye.message.call_id);
  EXPECT_EQ(again.to.tag(), "bob-tag");
  EXPECT_NE(again.top_branch(), bye.message.top_branch());
  EXPECT_EQ(byes[1].peer.to_string(), bye.peer.to_string());
  EXPECT_TRUE(uas.verify(again, trunk_password).has_value());
  h.respond(byes[1], 200);
  // A second challenge to the re-sent BYE is not answered again.
  EXPECT_EQ(h.sender.requests("BYE").size(), 2U);
}

TEST(UserAgentDialAuth, InDialogRequestsMoveTheDialogCSeqOn) {
  DialHarness h;
  const DigestVerifier proxy = verifier(true);
  const CallHandle call = h.dial(with_credentials(h));
  h.respond(h.last("INVITE"), 200);
  ASSERT_TRUE(h.ua.send_info(call, {}, "application/media_control+xml", "<media_control/>"));
  const auto info = h.last("INFO");
  h.respond(info, 407, {{"Proxy-Authenticate", proxy.challenge_header("trunk.example.net", false)}});
  const auto again = h.last("INFO");
  EXPECT_EQ(again.message.cseq.number, info.message.cseq.number + 1);
  EXPECT_EQ(again.message.body, "<media_control/>");
  EXPECT_TRUE(proxy.verify(again.message, trunk_password).has_value());
  h.respond(again, 200);
  ASSERT_TRUE(h.ua.hang_up(call, "done"));
  EXPECT_EQ(h.last("BYE").message.cseq.number, again.message.cseq.number + 1);
}

TEST(UserAgentDialAuth, CallsDialledWithoutCredentialsDoNotAnswerChallenges) {
  DialHarness h;
  const DigestVerifier uas = verifier();
  const CallHandle call = h.dial(h.request());
  h.respond(h.last("INVITE"), 200);
  ASSERT_TRUE(h.ua.hang_up(call, "done"));
  h.respond(h.last("BYE"), 401, {{"WWW-Authenticate", uas.challenge_header("trunk.example.net", false)}});
  EXPECT_EQ(h.sender.requests("BYE").size(), 1U);
}

// Caller-ID for a trunk: extra headers and From's host; the UA's own headers cannot be given.
TEST(UserAgentDialAuth, ExtraHeadersAndFromHost) {
  DialHarness h;
  OutgoingCallRequest r = h.request();
  r.from_user = "+4930999";
  r.from_display = "Chorus";
  r.from_host = "trunk.example.net";
  r.extra_headers = {{"P-Asserted-Identity", "<sip:+4930999@trunk.example.net>"}, {"Privacy", "none"}};
  h.dial(r);
  const SipMessage invite = h.last("INVITE").message;
  EXPECT_EQ(invite.from.uri_text, "sip:+4930999@trunk.example.net");
  EXPECT_EQ(invite.from.display_name, "Chorus");
  ASSERT_TRUE(invite.has_header("P-Asserted-Identity"));
  EXPECT_EQ(*invite.header("P-Asserted-Identity"), "<sip:+4930999@trunk.example.net>");
  EXPECT_EQ(*invite.header("Privacy"), "none");
  std::string allow;
  for (auto method : invite.header_values("Allow")) allow += (allow.empty() ? "" : ", ") + std::string(method);
  EXPECT_EQ(allow, h.ua.allowed_methods());

  for (const auto& bad : std::vector<Header>{{"Call-ID", "x"},
                                             {"cseq", "9 INVITE"},
                                             {"P-Asserted-Identity", "<sip:a@b>\r\nVia: evil"},
                                             {"Bad Name", "x"},
                                             {"Proxy-Authorization", "Digest x"}}) {
    OutgoingCallRequest refused = h.request();
    refused.extra_headers = {bad};
    EXPECT_FALSE(h.ua.dial(refused).has_value()) << bad.name;
  }
  EXPECT_EQ(h.invites().size(), 1U);
}

}  // namespace user_agent_dial_auth_test
}  // namespace chorus::sip
