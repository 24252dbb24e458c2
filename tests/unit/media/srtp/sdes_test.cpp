#include "media/srtp/sdes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/srtp/sdes_answer.hpp"

namespace chorus::media {
namespace sdes_test {

std::vector<std::uint8_t> pattern(std::size_t length, std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(length);
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
  return bytes;
}

// RFC 4568 §9.1's example line, without its "|2^20|1:4" lifetime and MKI: 30 octets of key||salt.
constexpr std::string_view kRfcKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

TEST(SdesCryptoAttribute, FormatsAndParsesBackEverySuite) {
  for (const SrtpSuite suite : kAllSrtpSuites) {
    CryptoAttribute attribute;
    attribute.tag = 7;
    attribute.suite = suite;
    attribute.key_salt = pattern(key_salt_length(suite), 3);
    const std::string text = format_crypto_attribute(attribute);
    const auto parsed = parse_crypto_attribute(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, attribute) << text;
    EXPECT_EQ(format_crypto_attribute(*parsed), text);
  }
}

TEST(SdesCryptoAttribute, KeySaltLengthsFollowRfc7714) {
  EXPECT_EQ(key_salt_length(SrtpSuite::kAesCm128HmacSha1_80), 30u);
  EXPECT_EQ(key_salt_length(SrtpSuite::kAesCm128HmacSha1_32), 30u);
  EXPECT_EQ(key_salt_length(SrtpSuite::kAeadAes128Gcm), 28u);
  EXPECT_EQ(key_salt_length(SrtpSuite::kAeadAes256Gcm), 44u);
}

TEST(SdesCryptoAttribute, ParsesRfc4568ExampleKey) {
  const auto parsed = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->tag, 1u);
  EXPECT_EQ(parsed->suite, SrtpSuite::kAesCm128HmacSha1_80);
  ASSERT_EQ(parsed->key_salt.size(), 30u);
  EXPECT_EQ(parsed->key_salt[0], 0x3d);  // 'P','S' → 001111 010010 → 0x3d...
  EXPECT_FALSE(parsed->lifetime);
  EXPECT_TRUE(parsed->session_params.empty());
}

TEST(SdesCryptoAttribute, KeepsLongLifetimeAndSessionParameters) {
  const std::string text = "42 AES_CM_128_HMAC_SHA1_32 inline:" + std::string(kRfcKey) + "|2^31 WSH=128 KDR=0";
  const auto parsed = parse_crypto_attribute(text);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->tag, 42u);
  EXPECT_EQ(parsed->lifetime, std::uint64_t{1} << 31);
  EXPECT_EQ(parsed->session_params, (std::vector<std::string>{"WSH=128", "KDR=0"}));
  EXPECT_EQ(format_crypto_attribute(*parsed), text);
}

TEST(SdesCryptoAttribute, DecimalLifetimeIsAcceptedAndWrittenAsPowerOfTwo) {
  const auto parsed =
      parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|281474976710656");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->lifetime, std::uint64_t{1} << 48);
  EXPECT_NE(format_crypto_attribute(*parsed).find("|2^48"), std::string::npos);
}

TEST(SdesCryptoAttribute, ToleratesExtraWhitespaceBetweenFields) {
  const auto parsed = parse_crypto_attribute("  1\tAES_CM_128_HMAC_SHA1_80   inline:" + std::string(kRfcKey) + "  ");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->key_salt.size(), 30u);
}

TEST(SdesCryptoAttribute, RejectsMkiSayingItIsUnsupported) {
  const auto parsed = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|2^20|1:4");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("MKI is not supported"), std::string::npos) << parsed.error();
  const auto mki_only = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|1:4");
  ASSERT_FALSE(mki_only);
  EXPECT_NE(mki_only.error().find("MKI"), std::string::npos);
}

TEST(SdesCryptoAttribute, RejectsSeveralKeys) {
  const std::string key(kRfcKey);
  const auto parsed = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("MKI"), std::string::npos);
}

TEST(SdesCryptoAttribute, RejectsShortLifetime) {
  const auto parsed = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|2^20");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("lifetime"), std::string::npos);
  EXPECT_FALSE(parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|2^64"));
  EXPECT_FALSE(parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|"));
  EXPECT_FALSE(
      parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|99999999999999999999999"));
}

TEST(SdesCryptoAttribute, RejectsBadBase64) {
  const std::string prefix = "1 AES_CM_128_HMAC_SHA1_80 inline:";
  std::string bad_char(kRfcKey);
  bad_char[5] = '*';
  EXPECT_FALSE(parse_crypto_attribute(prefix + bad_char));
  EXPECT_FALSE(parse_crypto_attribute(prefix + std::string(kRfcKey.substr(0, 39))));  // not a multiple of 4
  std::string inner_pad(kRfcKey);
  inner_pad[20] = '=';
  EXPECT_FALSE(parse_crypto_attribute(prefix + inner_pad));
  const auto empty = parse_crypto_attribute(prefix);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("base64"), std::string::npos);
}

TEST(SdesCryptoAttribute, RejectsWrongKeyLength) {
  const std::string key16 = base64_encode(pattern(16, 1));
  const auto short_key = parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + key16);
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().find("needs 30"), std::string::npos) << short_key.error();
  // A 30-octet AES_CM key offered for a GCM suite is the wrong length for it.
  EXPECT_FALSE(parse_crypto_attribute("1 AEAD_AES_256_GCM inline:" + std::string(kRfcKey)));
  EXPECT_FALSE(parse_crypto_attribute("1 AEAD_AES_128_GCM inline:" + std::string(kRfcKey)));
}

TEST(SdesCryptoAttribute, RejectsUnknownSuite) {
  for (const char* suite : {"F8_128_HMAC_SHA1_80", "aes_cm_128_hmac_sha1_80", "AES_256_CM_HMAC_SHA1_80"}) {
    const auto parsed = parse_crypto_attribute("1 " + std::string(suite) + " inline:" + std::string(kRfcKey));
    ASSERT_FALSE(parsed) << suite;
    EXPECT_NE(parsed.error().find("unsupported crypto suite"), std::string::npos);
  }
}

TEST(SdesCryptoAttribute, RejectsMalformedTagMethodAndShape) {
  const std::string key(kRfcKey);
  EXPECT_FALSE(parse_crypto_attribute("x AES_CM_128_HMAC_SHA1_80 inline:" + key));
  EXPECT_FALSE(parse_crypto_attribute("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key));  // tag has ≤ 9 digits
  EXPECT_FALSE(parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 uri:" + key));
  EXPECT_FALSE(parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80"));
  EXPECT_FALSE(parse_crypto_attribute(""));
  EXPECT_FALSE(parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "\r\n"));
  EXPECT_FALSE(parse_crypto_attribute(std::string(kMaxCryptoAttributeLength + 1, '1')));
}

TEST(Base64, MatchesRfc4648TestVectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"f", "Zg=="},         {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},       {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    const std::vector<std::uint8_t> bytes(plain.begin(), plain.end());
    EXPECT_EQ(base64_encode(bytes), encoded);
    EXPECT_EQ(base64_decode(encoded), bytes) << encoded;
  }
}

TEST(Base64, RoundTripsEveryLength) {
  for (std::size_t length = 1; length <= 64; ++length) {
    const auto bytes = pattern(length, static_cast<std::uint8_t>(length));
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << length;
  }
}

TEST(Base64, RejectsNonCanonicalAndMalformedInput) {
  EXPECT_FALSE(base64_decode("Zh=="));  // pad bits not zero
  EXPECT_FALSE(base64_decode("Zm9="));  // pad bits not zero
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Zg"));
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Zm 9"));
  EXPECT_FALSE(base64_decode("Zm-_"));  // base64url alphabet is not base64
  EXPECT_FALSE(base64_decode(""));
}

TEST(SdesSelection, PrefersOurSuiteOrderOverOfferOrder) {
  const std::vector<std::string> offer = {
      "1 AES_CM_128_HMAC_SHA1_32 inline:" + std::string(kRfcKey),
      "2 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey),
      "3 AEAD_AES_128_GCM inline:" + base64_encode(pattern(28, 9)),
  };
  const SrtpSuite gcm_first[] = {SrtpSuite::kAeadAes128Gcm, SrtpSuite::kAesCm128HmacSha1_80};
  const auto gcm = select_offered_crypto(offer, gcm_first);
  ASSERT_TRUE(gcm);
  EXPECT_EQ(gcm->index, 2u);
  EXPECT_EQ(gcm->offered.tag, 3u);

  const SrtpSuite sha80_only[] = {SrtpSuite::kAesCm128HmacSha1_80};
  const auto sha80 = select_offered_crypto(offer, sha80_only);
  ASSERT_TRUE(sha80);
  EXPECT_EQ(sha80->offered.tag, 2u);

  const SrtpSuite gcm256_only[] = {SrtpSuite::kAeadAes256Gcm};
  EXPECT_FALSE(select_offered_crypto(offer, gcm256_only));
}

TEST(SdesSelection, SkipsLinesItCannotHonour) {
  const std::vector<std::string> offer = {
      "1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + "|2^20|1:4",          // MKI
      "2 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + " UNENCRYPTED_SRTP",  // parameter
      "3 F8_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey),                            // suite
      "4 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey) + " WSH=256",
  };
  const auto selected = select_offered_crypto(offer, kAllSrtpSuites);
  ASSERT_TRUE(selected);
  EXPECT_EQ(selected->offered.tag, 4u);
}

TEST(SdesAnswer, EchoesTagAndSuiteWithAFreshKey) {
  const std::vector<std::string> offer = {
      "5 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfcKey),
      "9 AEAD_AES_256_GCM inline:" + base64_encode(pattern(44, 2)),
  };
  const SrtpSuite preference[] = {SrtpSuite::kAeadAes256Gcm, SrtpSuite::kAesCm128HmacSha1_80};
  const auto answer = choose_crypto(offer, preference);
  ASSERT_TRUE(answer) << answer.error();
  EXPECT_EQ(answer->remote.tag, 9u);
  EXPECT_EQ(answer->remote.key_salt, pattern(44, 2));
  EXPECT_EQ(answer->local.tag, 9u);
  EXPECT_EQ(answer->local.suite, SrtpSuite::kAeadAes256Gcm);
  ASSERT_EQ(answer->local.key_salt.size(), 44u);
  EXPECT_NE(answer->local.key_salt, answer->remote.key_salt);
  EXPECT_EQ(answer->answer_value.rfind("9 AEAD_AES_256_GCM inline:", 0), 0u) << answer->answer_value;
  const auto reparsed = parse_crypto_attribute(answer->answer_value);
  ASSERT_TRUE(reparsed) << reparsed.error();
  EXPECT_EQ(*reparsed, answer->local);

  const auto again = choose_crypto(offer, preference);
  ASSERT_TRUE(again);
  EXPECT_NE(again->local.key_salt, answer->local.key_salt);  // a fresh key per answer
}

TEST(SdesAnswer, FailsWhenNothingFits) {
  const SrtpSuite preference[] = {SrtpSuite::kAesCm128HmacSha1_80};
  EXPECT_FALSE(choose_crypto({}, preference));
  const std::vector<std::string> offer = {"1 AEAD_AES_128_GCM inline:" + base64_encode(pattern(28, 1)), "garbage"};
  const auto answer = choose_crypto(offer, preference);
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().find("no offered a=crypto"), std::string::npos);
}

TEST(SdesAnswer, GeneratesKeysOfTheSuiteLength) {
  for (const SrtpSuite suite : kAllSrtpSuites) {
    const auto attribute = generate_crypto_attribute(1, suite);
    ASSERT_TRUE(attribute);
    EXPECT_EQ(attribute->key_salt.size(), key_salt_length(suite));
  }
}

}  // namespace sdes_test
}  // namespace chorus::media
