// Digest (signaling/auth/digest.hpp): the RFC 2617 and RFC 7616 worked examples, RFC 8760's
// algorithm tokens, the challenge parser's edge cases and pick_challenge's choice.
#include "signaling/auth/digest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::sip {
namespace digest_test {

// RFC 2617 §3.5 (password "Circle Of Life"; qop=auth).
TEST(Digest, Rfc2617Section35Example) {
  auto challenge = parse_digest_challenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(challenge.has_value()) << challenge.error();
  EXPECT_EQ(challenge->algorithm, "MD5");
  EXPECT_EQ(challenge->qop, (std::vector<std::string>{"auth", "auth-int"}));
  const std::string value =
      digest_response_header(*challenge, {"Mufasa", "Circle Of Life"}, "GET", "/dir/index.html", 1, "0a4f113b");
  auto parsed = parse_digest_authorization(value);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->response, "6629fae49393a05397450978507c4ef1");
  EXPECT_EQ(parsed->nc, "00000001");
  EXPECT_EQ(parsed->qop, "auth");
  EXPECT_EQ(parsed->cnonce, "0a4f113b");
  EXPECT_EQ(parsed->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_EQ(parsed->uri, "/dir/index.html");
  EXPECT_EQ(value.rfind("Digest username=\"Mufasa\", realm=\"testrealm@host.com\"", 0), 0U) << value;
  EXPECT_NE(value.find(", qop=auth, nc=00000001"), std::string::npos) << value;
}

constexpr std::string_view kRfc7616Params =
    "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
constexpr std::string_view kRfc7616Cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
TEST(Digest, Rfc7616Section391Md5) {
  auto challenge = parse_digest_challenge("Digest " + std::string(kRfc7616Params) + ", algorithm=MD5");
  ASSERT_TRUE(challenge.has_value()) << challenge.error();
  auto parsed = parse_digest_authorization(digest_response_header(*challenge, {"Mufasa", "Circle of Life"}, "GET",
                                                                  "/dir/index.html", 1, std::string(kRfc7616Cnonce)));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->response, "8ca523f5e9506fed4657c9700eebdbec");
  EXPECT_EQ(parsed->algorithm, "MD5");
}

TEST(Digest, Rfc7616Section391Sha256) {
  auto challenge = parse_digest_challenge("Digest " + std::string(kRfc7616Params) + ", algorithm=SHA-256");
  ASSERT_TRUE(challenge.has_value()) << challenge.error();
  EXPECT_EQ(challenge->algorithm, "SHA-256");
  const std::string value = digest_response_header(*challenge, {"Mufasa", "Circle of Life"}, "GET", "/dir/index.html",
                                                   1, std::string(kRfc7616Cnonce));
  auto parsed = parse_digest_authorization(value);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  EXPECT_NE(value.find(", algorithm=SHA-256"), std::string::npos) << value;
}

// RFC 8760 §2.1 / RFC 7616 §6.1: the tokens, matched without regard to case, printed canonically.
TEST(Digest, Rfc8760AlgorithmTokens) {
  for (std::string_view token : {"MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"}) {
    EXPECT_TRUE(is_supported_digest_algorithm(token)) << token;
    auto challenge =
        parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=" + std::string(token));
    ASSERT_TRUE(challenge.has_value()) << token;
    EXPECT_EQ(challenge->algorithm, token);
    auto answer = parse_digest_authorization(digest_response_header(*challenge, {"u", "p"}, "INVITE", "sip:a@b", 7));
    ASSERT_TRUE(answer.has_value()) << token;
    EXPECT_EQ(answer->algorithm, token);
    // Hex of the hash: 32 digits for MD5, 64 for SHA-256 and SHA-512/256.
    EXPECT_EQ(answer->response.size(), token.starts_with("MD5") ? 32U : 64U) << token;
    EXPECT_EQ(answer->response, digest_expected_response(*answer, "p", "INVITE"));
  }
  EXPECT_TRUE(parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=sha-256").has_value());
  EXPECT_FALSE(is_supported_digest_algorithm("SHA-1"));
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1").has_value());
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5").has_value());
}

// -sess (RFC 7616 §3.4.2): HA1 covers nonce and cnonce, so another cnonce gives another response.
TEST(Digest, SessionVariantDependsOnCnonce) {
  auto challenge = parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256-sess");
  ASSERT_TRUE(challenge.has_value());
  auto a = parse_digest_authorization(digest_response_header(*challenge, {"u", "p"}, "INVITE", "sip:x", 1, "c1"));
  auto b = parse_digest_authorization(digest_response_header(*challenge, {"u", "p"}, "INVITE", "sip:x", 1, "c2"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->response, b->response);
  DigestAuthorization plain = *a;
  plain.algorithm = "SHA-256";
  EXPECT_NE(digest_expected_response(plain, "p", "INVITE"), a->response);
}

// RFC 2069 compatibility (RFC 2617 §3.2.2.1): no qop in the challenge, none in the answer.
TEST(Digest, NoQopIsRfc2069Form) {
  // RFC 2069 §2.4's example; the response it prints (e966c932...) is wrong, as its errata say.
  auto challenge = parse_digest_challenge(
      "Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(challenge.has_value());
  EXPECT_TRUE(challenge->qop.empty());
  const std::string value = digest_response_header(*challenge, {"Mufasa", "CircleOfLife"}, "GET", "/dir/index.html", 1);
  EXPECT_EQ(value.find("qop"), std::string::npos) << value;
  EXPECT_EQ(value.find("cnonce"), std::string::npos) << value;
  EXPECT_EQ(value.find("nc="), std::string::npos) << value;
  auto parsed = parse_digest_authorization(value);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->response, "1949323746fe6a43ef61f9606e7febea");
}

TEST(Digest, NonceCountAndRandomCnonce) {
  auto challenge = parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
  ASSERT_TRUE(challenge.has_value());
  auto a = parse_digest_authorization(digest_response_header(*challenge, {"u", "p"}, "BYE", "sip:x", 0x1a2b));
  auto b = parse_digest_authorization(digest_response_header(*challenge, {"u", "p"}, "BYE", "sip:x", 0x1a2b));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->nc, "00001a2b");
  EXPECT_GE(a->cnonce.size(), 16U);
  EXPECT_NE(a->cnonce, b->cnonce);
}

TEST(Digest, QuotedStringsWithEscapesAndCommas) {
  auto challenge = parse_digest_challenge(
      R"(Digest   realm="a \"quoted\", realm\\x" ,nonce="n,o,n\ce",opaque="",  stale=TRUE, domain="sip:a sip:b")");
  ASSERT_TRUE(challenge.has_value()) << challenge.error();
  EXPECT_EQ(challenge->realm, R"(a "quoted", realm\x)");
  EXPECT_EQ(challenge->nonce, "n,o,nce");
  EXPECT_TRUE(challenge->stale);
  // Written back with quoted-pairs, it reads the same.
  auto again = parse_digest_challenge(format_digest_challenge(*challenge));
  ASSERT_TRUE(again.has_value()) << format_digest_challenge(*challenge);
  EXPECT_EQ(again->realm, challenge->realm);
  EXPECT_EQ(again->nonce, challenge->nonce);
  // And the Authorization escapes them too.
  auto answer =
      parse_digest_authorization(digest_response_header(*challenge, {"we\"ird\\user", "p"}, "INVITE", "sip:x", 1));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->username, "we\"ird\\user");
  EXPECT_EQ(answer->realm, challenge->realm);
}

TEST(Digest, UnknownParametersIgnoredSchemeCaseInsensitive) {
  auto challenge = parse_digest_challenge(
      "dIgEsT NONCE=\"n\", future-param=token, realm=\"r\", x=\"y,z\", userhash=true, charset=UTF-8");
  ASSERT_TRUE(challenge.has_value()) << challenge.error();
  EXPECT_EQ(challenge->realm, "r");
  EXPECT_EQ(challenge->nonce, "n");
  EXPECT_FALSE(challenge->stale);
}

TEST(Digest, RefusesWhatIsNotAUsableChallenge) {
  using namespace std::string_view_literals;
  const std::vector<std::string_view> refused{
      "",
      "Basic realm=\"r\"",
      "Digest",
      "Digestrealm=\"r\", nonce=\"n\"",
      "Digest nonce=\"n\"",                                 // no realm
      "Digest realm=\"r\"",                                 // no nonce
      "Digest realm=\"r\", nonce=\"n",                      // unterminated quote
      "Digest realm=\"r\", nonce=\"n\\\"",                  // escaped closing quote
      "Digest realm=\"r\", nonce",                          // parameter without value
      "Digest realm=\"r\", nonce=",                         // empty value
      "Digest realm=\"r\" nonce=\"n\"",                     // missing comma
      "Digest realm=\"r\", realm=\"s\", nonce=\"n\"",       // duplicate
      "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",  // nothing we can answer
      "Digest realm=\"r\r\n\", nonce=\"n\"",                // CTLs cannot reach our headers
      "Digest realm=\"r\", nonce=\"n\0\""sv,
  };
  for (std::string_view bad : refused) {
    EXPECT_FALSE(parse_digest_challenge(bad).has_value()) << bad;
  }
}

TEST(Digest, RefusesOversize) {
  std::string value = "Digest realm=\"r\", nonce=\"";
  value.append(kMaxDigestValue - value.size() - 1, 'n').append("\"");
  EXPECT_TRUE(parse_digest_challenge(value).has_value());
  value.insert(value.size() - 1, "n");
  EXPECT_FALSE(parse_digest_challenge(value).has_value());

  std::string many = "Digest realm=\"r\", nonce=\"n\"";
  for (std::size_t i = 2; i < kMaxDigestParams; ++i) many += ", p" + std::to_string(i) + "=v";
  EXPECT_TRUE(parse_digest_challenge(many).has_value());
  many += ", one=more";
  EXPECT_FALSE(parse_digest_challenge(many).has_value());
}

SipMessage response(int status) {
  SipMessage r;
  r.is_request = false;
  r.status = status;
  return r;
}

// RFC 8760 §2.4: of several challenges the strongest we support.
TEST(Digest, PickChallengePrefersStrongest) {
  SipMessage r = response(401);
  r.add_header("WWW-Authenticate", "Digest realm=\"r\", nonce=\"md5\", qop=\"auth\"");
  r.add_header("WWW-Authenticate", "Digest realm=\"r\", nonce=\"unknown\", algorithm=SHA-1");
  r.add_header("WWW-Authenticate", "Digest realm=\"r\", nonce=\"sha\", qop=\"auth\", algorithm=SHA-256");
  r.add_header("WWW-Authenticate", "Digest realm=\"r\", nonce=\"sha2\", qop=\"auth\", algorithm=SHA-256");
  auto picked = pick_challenge(r);
  ASSERT_TRUE(picked.has_value());
  EXPECT_EQ(picked->nonce, "sha");  // equal strength: the topmost
  EXPECT_FALSE(picked->proxy);
  EXPECT_EQ(digest_response_header_name(*picked), "Authorization");
}

TEST(Digest, PickChallengeProxyAndNone) {
  SipMessage r = response(407);
  r.add_header("Proxy-Authenticate", "Digest realm=\"proxy\", nonce=\"p\", qop=\"auth\"");
  auto picked = pick_challenge(r);
  ASSERT_TRUE(picked.has_value());
  EXPECT_TRUE(picked->proxy);
  EXPECT_EQ(digest_response_header_name(*picked), "Proxy-Authorization");

  SipMessage none = response(401);
  none.add_header("WWW-Authenticate", "Basic realm=\"r\"");
  none.add_header("WWW-Authenticate", "Digest realm=\"r\"");
  EXPECT_FALSE(pick_challenge(none).has_value());
  EXPECT_FALSE(pick_challenge(response(401)).has_value());
}

TEST(Digest, AuthorizationParserRequirements) {
  EXPECT_TRUE(parse_digest_authorization("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                                         "response=\"00\"")
                  .has_value());
  EXPECT_FALSE(
      parse_digest_authorization("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\"").has_value());
  // qop without a well-formed nc/cnonce.
  EXPECT_FALSE(parse_digest_authorization("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                                          "response=\"00\", qop=auth, nc=1, cnonce=\"c\"")
                   .has_value());
  EXPECT_FALSE(parse_digest_authorization("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                                          "response=\"00\", qop=auth, nc=00000001")
                   .has_value());
}

}  // namespace digest_test
}  // namespace chorus::sip
