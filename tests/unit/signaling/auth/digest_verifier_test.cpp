// DigestVerifier (signaling/auth/digest_verifier.hpp): a UAC answer built with
// digest_response_header passes; wrong passwords, stale, tampered and foreign nonces do not.
#include "signaling/auth/digest_verifier.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace chorus::sip {
namespace digest_verifier_test {

using namespace std::chrono_literals;

class DigestVerifierTest : public ::testing::Test {
 protected:
  DigestVerifier make(bool proxy = false, std::string secret = "test secret, 32 octets long....") {
    DigestVerifierConfig config;
    config.secret = std::move(secret);
    config.nonce_lifetime = 60s;
    config.proxy = proxy;
    return DigestVerifier(config, [this] { return now_; });
  }

  // An INVITE answering `challenge_value` (parsed as a UAC would) with `password`.
  static SipMessage answered(const DigestVerifier& verifier, const std::string& challenge_value,
                             std::string_view password, std::string_view uri = "sip:1000@chorus.example") {
    auto challenge = parse_digest_challenge(challenge_value);
    EXPECT_TRUE(challenge.has_value()) << challenge_value;
    challenge->proxy = verifier.challenge_header_name() == "Proxy-Authenticate";
    SipMessage request;
    request.method = "INVITE";
    request.request_uri_text = "sip:1000@chorus.example";
    request.add_header(std::string(digest_response_header_name(*challenge)),
                       digest_response_header(*challenge, {"alice", std::string(password)}, "INVITE", uri, 1));
    return request;
  }

  static std::optional<std::string> lookup(std::string_view username, std::string_view realm) {
    if (username == "alice" && realm == "chorus") return "wonderland";
    return std::nullopt;
  }

  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::time_point(1'800'000'000s);
};

TEST_F(DigestVerifierTest, RoundTripEveryOfferedAlgorithm) {
  const DigestVerifier verifier = make();
  const auto values = verifier.challenge_headers("chorus", false);
  ASSERT_EQ(values.size(), 2U);
  EXPECT_NE(values[0].find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(values[1].find("algorithm=MD5"), std::string::npos);
  for (const auto& value : values) {
    EXPECT_NE(value.find("qop=\"auth\""), std::string::npos);
    EXPECT_EQ(value.find("stale"), std::string::npos);
    auto verdict = verifier.verify(answered(verifier, value, "wonderland"), lookup);
    ASSERT_TRUE(verdict.has_value()) << to_string(verdict.error());
    EXPECT_EQ(*verdict, "alice");
  }
  EXPECT_EQ(verifier.challenge_header_name(), "WWW-Authenticate");
}

TEST_F(DigestVerifierTest, ProxyFlavourReadsProxyAuthorization) {
  const DigestVerifier verifier = make(true);
  EXPECT_EQ(verifier.challenge_header_name(), "Proxy-Authenticate");
  SipMessage request = answered(verifier, verifier.challenge_header("chorus", false), "wonderland");
  ASSERT_TRUE(request.has_header("Proxy-Authorization"));
  EXPECT_TRUE(verifier.verify(request, lookup).has_value());
  // A verifier for 401 does not read Proxy-Authorization.
  EXPECT_EQ(make(false).verify(request, lookup).error(), DigestFailure::kMissing);
}

TEST_F(DigestVerifierTest, WrongPasswordAndUnknownUser) {
  const DigestVerifier verifier = make();
  const std::string challenge = verifier.challenge_header("chorus", false);
  EXPECT_EQ(verifier.verify(answered(verifier, challenge, "guess"), lookup).error(), DigestFailure::kWrongResponse);
  auto nobody = [](std::string_view, std::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(verifier.verify(answered(verifier, challenge, "wonderland"), nobody).error(), DigestFailure::kUnknownUser);
}

TEST_F(DigestVerifierTest, MissingAndMalformed) {
  const DigestVerifier verifier = make();
  SipMessage request;
  request.method = "INVITE";
  request.request_uri_text = "sip:1000@chorus.example";
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kMissing);
  request.add_header("Authorization", "Basic YWxpY2U6d29uZGVybGFuZA==");
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kMissing);
  request.add_header("Authorization", "Digest username=\"alice\"");
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kMalformed);
}

// An expired nonce with the right password: stale, and the next challenge says stale=true; with a
// wrong password it is just wrong (RFC 2617 §3.2.1).
TEST_F(DigestVerifierTest, ReplayedExpiredNonceIsStale) {
  const DigestVerifier verifier = make();
  const SipMessage request = answered(verifier, verifier.challenge_header("chorus", false), "wonderland");
  const SipMessage wrong = answered(verifier, verifier.challenge_header("chorus", false), "guess");
  now_ += 59s;
  EXPECT_TRUE(verifier.verify(request, lookup).has_value());  // replay inside the lifetime is accepted
  now_ += 2s;
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kStaleNonce);
  EXPECT_EQ(verifier.verify(wrong, lookup).error(), DigestFailure::kWrongResponse);
  auto again = parse_digest_challenge(verifier.challenge_header("chorus", true));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->stale);
  EXPECT_TRUE(verifier.verify(answered(verifier, format_digest_challenge(*again), "wonderland"), lookup).has_value());
}

TEST_F(DigestVerifierTest, TamperedForeignAndFutureNonces) {
  const DigestVerifier verifier = make();
  auto challenge = parse_digest_challenge(verifier.challenge_header("chorus", false));
  ASSERT_TRUE(challenge.has_value());
  ASSERT_EQ(challenge->nonce.size(), 64U);

  // Moving the issue time forward (to dodge expiry) breaks the HMAC.
  DigestChallenge tampered = *challenge;
  tampered.nonce[15] = tampered.nonce[15] == 'f' ? '0' : 'f';
  EXPECT_EQ(verifier.verify(answered(verifier, format_digest_challenge(tampered), "wonderland"), lookup).error(),
            DigestFailure::kBadNonce);
  DigestChallenge truncated = *challenge;
  truncated.nonce.pop_back();
  EXPECT_EQ(verifier.verify(answered(verifier, format_digest_challenge(truncated), "wonderland"), lookup).error(),
            DigestFailure::kBadNonce);

  // Another secret (another node, a restart) did not sign it.
  const DigestVerifier other = make(false, "another secret, also long enough");
  EXPECT_EQ(other.verify(answered(verifier, format_digest_challenge(*challenge), "wonderland"), lookup).error(),
            DigestFailure::kBadNonce);

  // A nonce issued for another realm is not good for this one.
  auto foreign = parse_digest_challenge(verifier.challenge_header("elsewhere", false));
  ASSERT_TRUE(foreign.has_value());
  foreign->realm = "chorus";
  EXPECT_EQ(verifier.verify(answered(verifier, format_digest_challenge(*foreign), "wonderland"), lookup).error(),
            DigestFailure::kBadNonce);

  // Signed "in the future" (our clock stepped back a minute): not ours either.
  const std::string future = verifier.challenge_header("chorus", false);
  now_ -= 60s;
  EXPECT_EQ(verifier.verify(answered(verifier, future, "wonderland"), lookup).error(), DigestFailure::kBadNonce);
}

TEST_F(DigestVerifierTest, UriMustBeTheRequestUri) {
  const DigestVerifier verifier = make();
  const std::string challenge = verifier.challenge_header("chorus", false);
  EXPECT_EQ(verifier.verify(answered(verifier, challenge, "wonderland", "sip:9196@chorus.example"), lookup).error(),
            DigestFailure::kUriMismatch);
  DigestVerifierConfig lenient;
  lenient.check_uri = false;
  const DigestVerifier behind_proxy(lenient, [this] { return now_; });
  EXPECT_TRUE(behind_proxy
                  .verify(answered(behind_proxy, behind_proxy.challenge_header("chorus", false), "wonderland",
                                   "sip:9196@chorus.example"),
                          lookup)
                  .has_value());
}

TEST_F(DigestVerifierTest, RealmFilterPicksTheRightCredentials) {
  const DigestVerifier verifier = make();
  SipMessage request = answered(verifier, verifier.challenge_header("chorus", false), "wonderland");
  request.prepend_header("Authorization",
                         "Digest username=\"bob\", realm=\"other\", nonce=\"x\", uri=\"sip:1000@chorus.example\", "
                         "response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"");
  EXPECT_TRUE(verifier.verify(request, lookup, "chorus").has_value());
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kBadNonce);  // the first one: not ours
}

TEST_F(DigestVerifierTest, RefusesAnswerWithoutQop) {
  const DigestVerifier verifier = make();
  auto challenge = parse_digest_challenge(verifier.challenge_header("chorus", false));
  ASSERT_TRUE(challenge.has_value());
  challenge->qop.clear();  // answered in RFC 2069 form although we offered qop=auth
  SipMessage request;
  request.method = "INVITE";
  request.request_uri_text = "sip:1000@chorus.example";
  request.add_header("Authorization", digest_response_header(*challenge, {"alice", "wonderland"}, "INVITE",
                                                             request.request_uri_text, 1));
  EXPECT_EQ(verifier.verify(request, lookup).error(), DigestFailure::kMalformed);
}

}  // namespace digest_verifier_test
}  // namespace chorus::sip
