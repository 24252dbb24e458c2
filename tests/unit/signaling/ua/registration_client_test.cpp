// RegistrationClient (RFC 3261 §10.2) over the real UA and transaction layer (UaHarness): the
// challenge answered with the same Call-ID and CSeq+1, the granted expiry read from our Contact,
// the refresh timer, back-off on 503 and on the transaction's timeout, 423 Interval Too Brief,
// credentials refused, a registrar that does not resolve, and the Expires: 0 withdrawal on stop.
#include "signaling/ua/registration_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace registration_client_test {

using namespace std::chrono_literals;
using uatest::UaHarness;
using uatest::udp_peer;

constexpr std::string_view kChallenge =
    R"(Digest realm="provider.example", nonce="5f1c0a9e", qop="auth", algorithm=MD5)";

class RegistrationClientTest : public ::testing::Test {
 protected:
  RegistrationClientTest() { make(); }

  void make(std::string realm = {}) {
    RegistrationSettings settings{.registrar_host = "provider.example",
                                  .registrar_port = std::nullopt,
                                  .transport = TransportKind::kUdp,
                                  .username = "4930123456",
                                  .credentials = {.username = "4930123456", .password = "s3cret"},
                                  .realm = std::move(realm),
                                  .expires = 600s,
                                  .contact_user = "trunk1"};
    client = std::make_unique<RegistrationClient>(
        h.ua, h.timers, std::move(settings),
        [this](HopCallback done) {
          ++lookups;
          if (resolvable) {
            done(udp_peer());
          } else {
            done(std::unexpected(std::string("registrar provider.example does not resolve")));
          }
        },
        [this](const RegistrationReport& report) { reports.push_back(report); });
  }

  std::vector<SipMessage> registers() const { return h.sender.requests("REGISTER"); }
  const SipMessage& last_register() const {
    static SipMessage none;
    const auto& sent = h.sender.sent;
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->message.is_request && it->message.method == "REGISTER") return it->message;
    }
    ADD_FAILURE() << "no REGISTER sent";
    return none;
  }
  void challenge() { h.answer(last_register(), 401, {{"WWW-Authenticate", std::string(kChallenge)}}); }
  void ok(std::string contact_expires = "120") {
    h.answer(last_register(), 200,
             {{"Contact", "<sip:someone-else@192.0.2.1>;expires=3600"},
              {"Contact", "<sip:trunk1@127.0.0.1:5060>;expires=" + contact_expires}});
  }
  void register_with_challenge() {
    client->start();
    challenge();
    ok();
  }

  UaHarness h;
  std::unique_ptr<RegistrationClient> client;
  std::vector<RegistrationReport> reports;
  int lookups = 0;
  bool resolvable = true;
};

TEST_F(RegistrationClientTest, ChallengeIsAnsweredWithTheSameCallIdAndTheNextCSeq) {
  client->start();
  ASSERT_EQ(registers().size(), 1U);
  const SipMessage first = registers()[0];
  EXPECT_EQ(first.request_uri_text, "sip:provider.example");
  EXPECT_EQ(first.to.uri.to_string(), "sip:4930123456@provider.example");
  EXPECT_EQ(first.from.uri.user, "4930123456");
  ASSERT_EQ(first.contacts.size(), 1U);
  EXPECT_EQ(first.contacts[0].uri.user, "trunk1");
  EXPECT_EQ(*first.header("Expires"), "600");
  EXPECT_EQ(first.header("Authorization"), nullptr);
  EXPECT_EQ(reports.back().phase, RegistrationPhase::kRegistering);

  challenge();
  ASSERT_EQ(registers().size(), 2U);
  const SipMessage second = registers()[1];
  EXPECT_EQ(second.call_id, first.call_id);
  EXPECT_EQ(second.cseq.number, first.cseq.number + 1);
  EXPECT_EQ(second.from.tag(), first.from.tag());
  ASSERT_NE(second.header("Authorization"), nullptr);
  const std::string& authorization = *second.header("Authorization");
  EXPECT_NE(authorization.find("username=\"4930123456\""), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("realm=\"provider.example\""), std::string::npos);
  EXPECT_NE(authorization.find("uri=\"sip:provider.example\""), std::string::npos);
  EXPECT_NE(authorization.find("nc=00000001"), std::string::npos);
  EXPECT_EQ(authorization.find("s3cret"), std::string::npos);

  ok();
  EXPECT_EQ(client->phase(), RegistrationPhase::kRegistered);
  EXPECT_EQ(reports.back().granted, 120s);  // our Contact's expires, not the other binding's
}

TEST_F(RegistrationClientTest, GrantedExpiryFromTheExpiresHeaderWhenTheContactHasNone) {
  client->start();
  h.answer(last_register(), 200, {{"Expires", "300"}});
  EXPECT_EQ(reports.back().phase, RegistrationPhase::kRegistered);
  EXPECT_EQ(reports.back().granted, 300s);
}

TEST_F(RegistrationClientTest, RefreshesAtHalfTheGrantedTimeWithTheRememberedChallenge) {
  register_with_challenge();  // granted 120 s: refresh at min(60, 90) = 60 s
  ASSERT_EQ(registers().size(), 2U);
  h.timers.advance(59s);
  EXPECT_EQ(registers().size(), 2U);
  h.timers.advance(1s);
  ASSERT_EQ(registers().size(), 3U);
  const SipMessage refresh = registers()[2];
  EXPECT_EQ(refresh.call_id, registers()[0].call_id);
  EXPECT_EQ(refresh.cseq.number, 3U);
  ASSERT_NE(refresh.header("Authorization"), nullptr);
  EXPECT_NE(refresh.header("Authorization")->find("nc=00000002"), std::string::npos);
  ok("60");  // refresh granted 60 s: the next one 30 s before it ends, also its half
  h.timers.advance(29s);
  EXPECT_EQ(registers().size(), 3U);
  h.timers.advance(1s);
  EXPECT_EQ(registers().size(), 4U);
  EXPECT_EQ(lookups, 1);  // the registrar is looked up again only after a failure
}

TEST_F(RegistrationClientTest, RefreshDelayIsHalfOrThirtySecondsBeforeTheEnd) {
  EXPECT_EQ(registration_refresh_delay(600s), 300s);
  EXPECT_EQ(registration_refresh_delay(60s), 30s);
  EXPECT_EQ(registration_refresh_delay(3600s), 1800s);
  EXPECT_EQ(registration_refresh_delay(40s), 10s);
  EXPECT_EQ(registration_refresh_delay(1s), 1s);
}

TEST_F(RegistrationClientTest, RetryDelayDoublesToThirtyMinutesWithJitterOfAQuarter) {
  EXPECT_EQ(registration_retry_delay(1, 0.0), 30s);
  EXPECT_EQ(registration_retry_delay(2, 0.0), 60s);
  EXPECT_EQ(registration_retry_delay(3, 0.0), 120s);
  EXPECT_EQ(registration_retry_delay(7, 0.0), 1800s);  // 30 s · 2^6 = 32 min, capped
  EXPECT_EQ(registration_retry_delay(40, 0.0), 1800s);
  EXPECT_EQ(registration_retry_delay(1, 0.5), Millis(26'250));  // 30 s less an eighth
  EXPECT_EQ(registration_retry_delay(2, 1.0), 45s);
}

TEST_F(RegistrationClientTest, ServiceUnavailableBacksOffThenRetries) {
  client->start();
  h.answer(last_register(), 503);
  ASSERT_EQ(reports.back().phase, RegistrationPhase::kFailed);
  EXPECT_EQ(reports.back().error, "503 Service Unavailable");
  const Millis first = reports.back().retry_in;
  EXPECT_GE(first, Millis(22'500));
  EXPECT_LE(first, 30s);
  h.timers.advance(first - 1ms);
  EXPECT_EQ(registers().size(), 1U);
  h.timers.advance(1ms);
  ASSERT_EQ(registers().size(), 2U);
  EXPECT_EQ(lookups, 2);
  // No answer at all: the transaction's Timer F (64·T1 = 32 s) makes a 408, and the delay doubles.
  h.timers.advance(32s);
  ASSERT_EQ(reports.back().phase, RegistrationPhase::kFailed);
  EXPECT_NE(reports.back().error.find("408"), std::string::npos) << reports.back().error;
  EXPECT_GE(reports.back().retry_in, 45s);
  EXPECT_LE(reports.back().retry_in, 60s);
  // A success resets the back-off.
  h.timers.advance(reports.back().retry_in);
  ok();
  EXPECT_EQ(client->phase(), RegistrationPhase::kRegistered);
}

TEST_F(RegistrationClientTest, IntervalTooBriefAsksAgainWithMinExpires) {
  client->start();
  h.answer(last_register(), 423, {{"Min-Expires", "1800"}});
  ASSERT_EQ(registers().size(), 2U);
  EXPECT_EQ(*registers()[1].header("Expires"), "1800");
  EXPECT_EQ(registers()[1].cseq.number, 2U);
  EXPECT_EQ(client->requested_expires(), 1800s);
  h.answer(last_register(), 200, {{"Expires", "1800"}});
  EXPECT_EQ(client->phase(), RegistrationPhase::kRegistered);
}

TEST_F(RegistrationClientTest, IntervalTooBriefWithoutALargerMinExpiresFails) {
  client->start();
  h.answer(last_register(), 423, {{"Min-Expires", "60"}});
  EXPECT_EQ(client->phase(), RegistrationPhase::kFailed);
  EXPECT_EQ(registers().size(), 1U);
}

TEST_F(RegistrationClientTest, RefusedCredentialsFailInsteadOfLooping) {
  client->start();
  challenge();
  challenge();  // the answer is refused with a fresh (not stale) challenge
  EXPECT_EQ(registers().size(), 2U);
  ASSERT_EQ(client->phase(), RegistrationPhase::kFailed);
  EXPECT_NE(reports.back().error.find("credentials refused"), std::string::npos);
}

TEST_F(RegistrationClientTest, StaleNonceIsAnsweredAgain) {
  client->start();
  challenge();
  h.answer(last_register(), 401,
           {{"WWW-Authenticate", R"(Digest realm="provider.example", nonce="new1", qop="auth", stale=true)"}});
  ASSERT_EQ(registers().size(), 3U);
  EXPECT_NE(registers()[2].header("Authorization")->find("nonce=\"new1\""), std::string::npos);
}

TEST_F(RegistrationClientTest, AnotherRealmIsNotAnswered) {
  make("other.example");
  client->start();
  challenge();
  EXPECT_EQ(registers().size(), 1U);
  EXPECT_EQ(client->phase(), RegistrationPhase::kFailed);
}

TEST_F(RegistrationClientTest, UnresolvableRegistrarFailsAndRetries) {
  resolvable = false;
  client->start();
  EXPECT_EQ(client->phase(), RegistrationPhase::kFailed);
  EXPECT_NE(reports.back().error.find("does not resolve"), std::string::npos);
  EXPECT_TRUE(registers().empty());
  resolvable = true;
  h.timers.advance(reports.back().retry_in);  // exactly then: UDP retransmissions would follow
  EXPECT_EQ(registers().size(), 1U);
  EXPECT_EQ(lookups, 2);
}

TEST_F(RegistrationClientTest, StopWithdrawsTheBindingWithExpiresZero) {
  register_with_challenge();
  bool done = false;
  client->stop([&done] { done = true; });
  ASSERT_EQ(registers().size(), 3U);
  const SipMessage withdrawal = registers()[2];
  EXPECT_EQ(*withdrawal.header("Expires"), "0");
  EXPECT_EQ(withdrawal.call_id, registers()[0].call_id);
  EXPECT_NE(withdrawal.header("Authorization"), nullptr);
  challenge();  // a new nonce: answered once more
  ASSERT_EQ(registers().size(), 4U);
  EXPECT_EQ(*registers()[3].header("Expires"), "0");
  h.answer(last_register(), 200);
  EXPECT_FALSE(done);  // never from inside the response
  h.timers.advance(1ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(client->phase(), RegistrationPhase::kUnregistered);
  h.timers.advance(3600s);
  EXPECT_EQ(registers().size(), 4U);  // no refresh after stop
}

TEST_F(RegistrationClientTest, StopWhenNeverRegisteredSendsNothing) {
  resolvable = false;
  client->start();
  bool done = false;
  client->stop([&done] { done = true; });
  h.timers.advance(1ms);
  EXPECT_TRUE(done);
  EXPECT_TRUE(registers().empty());
}

TEST_F(RegistrationClientTest, ResponsesAfterDestructionAreIgnored) {
  client->start();
  const SipMessage pending = last_register();
  client.reset();
  h.answer(pending, 200);  // reaches the transaction; the client is gone
  h.timers.advance(3600s);
  EXPECT_EQ(registers().size(), 1U);
}

}  // namespace registration_client_test
}  // namespace chorus::sip
