#include "rest-api/webhooks/webhook_signature.hpp"

#include <gtest/gtest.h>

namespace chorus::rest {
namespace webhook_signature_test {

using std::chrono::seconds;
using std::chrono::system_clock;

// The Standard Webhooks specification's example. The expected value was computed independently with
//   python3 -c "import hmac,hashlib,base64; k=base64.b64decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
//   print(base64.b64encode(hmac.new(k, b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}',
//   hashlib.sha256).digest()))"
// and matches the value printed in the specification.
constexpr std::string_view kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kSpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kSpecTimestamp = 1614265330;
constexpr std::string_view kSpecBody = R"({"test": 2432232314})";
constexpr std::string_view kSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// Our own event body with key bytes 00..1f, computed the same way:
//   k=bytes(range(32)); msg=b'evt_42.1700000000.' + body; base64(hmac_sha256(k, msg))
constexpr std::string_view kOwnSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kOwnBody = R"({"data":{},"id":42,"timestamp":"2023-11-14T22:13:20Z","type":"room.created"})";
constexpr std::string_view kOwnSignature = "v1,c0u4+B9U9bLrnVUkOxBFBF57eB/2vLLwiyqtO7u+/qY=";

const system_clock::time_point kSpecNow{seconds{kSpecTimestamp + 10}};

TEST(WebhookSignature, MatchesTheSpecificationVector) {
  EXPECT_EQ(sign_webhook(kSpecSecret, kSpecId, kSpecTimestamp, kSpecBody), std::string(kSpecSignature));
}

TEST(WebhookSignature, MatchesAnIndependentlyComputedVector) {
  EXPECT_EQ(sign_webhook(kOwnSecret, "evt_42", 1'700'000'000, kOwnBody), std::string(kOwnSignature));
}

TEST(WebhookSignature, VerifiesAValidDelivery) {
  EXPECT_TRUE(verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, kSpecSignature, kSpecNow));
  // Several signatures (secret rotation, unknown versions): any v1 match is enough.
  const std::string several = "v2,abc v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + std::string(kSpecSignature);
  EXPECT_TRUE(verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, several, kSpecNow));
}

TEST(WebhookSignature, RejectsTamperedContent) {
  EXPECT_EQ(
      verify_signature(kSpecSecret, kSpecId, "1614265330", R"({"test": 2432232315})", kSpecSignature, kSpecNow).error(),
      SignatureError::kNoMatch);
  EXPECT_EQ(verify_signature(kSpecSecret, "msg_other", "1614265330", kSpecBody, kSpecSignature, kSpecNow).error(),
            SignatureError::kNoMatch);
  EXPECT_EQ(verify_signature(kOwnSecret, kSpecId, "1614265330", kSpecBody, kSpecSignature, kSpecNow).error(),
            SignatureError::kNoMatch);
  EXPECT_EQ(verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, "v1,not*base64", kSpecNow).error(),
            SignatureError::kNoMatch);
  EXPECT_EQ(verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, "", kSpecNow).error(),
            SignatureError::kNoMatch);
}

TEST(WebhookSignature, RejectsStaleOrFutureTimestamps) {
  const system_clock::time_point sent{seconds{kSpecTimestamp}};
  EXPECT_TRUE(verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, kSpecSignature, sent + seconds{300}));
  EXPECT_EQ(
      verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, kSpecSignature, sent + seconds{301}).error(),
      SignatureError::kStaleTimestamp);
  EXPECT_EQ(
      verify_signature(kSpecSecret, kSpecId, "1614265330", kSpecBody, kSpecSignature, sent - seconds{301}).error(),
      SignatureError::kStaleTimestamp);
  EXPECT_EQ(verify_signature(kSpecSecret, kSpecId, "16142653x0", kSpecBody, kSpecSignature, kSpecNow).error(),
            SignatureError::kInvalidTimestamp);
  EXPECT_EQ(verify_signature(kSpecSecret, kSpecId, "", kSpecBody, kSpecSignature, kSpecNow).error(),
            SignatureError::kInvalidTimestamp);
}

TEST(WebhookSignature, GeneratedSecretsAreRandomAndUsable) {
  const std::string a = generate_webhook_secret();
  const std::string b = generate_webhook_secret();
  EXPECT_NE(a, b);
  ASSERT_TRUE(a.starts_with("whsec_"));
  const auto key = decode_webhook_secret(a);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), kWebhookSecretBytes);
  const auto now = system_clock::now();
  const std::int64_t ts = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  const auto signature = sign_webhook(a, "evt_1", ts, "{}");
  ASSERT_TRUE(signature.has_value());
  EXPECT_TRUE(verify_signature(a, "evt_1", std::to_string(ts), "{}", *signature, now));
  EXPECT_FALSE(verify_signature(b, "evt_1", std::to_string(ts), "{}", *signature, now));
}

TEST(WebhookSignature, RejectsUndecodableSecrets) {
  EXPECT_FALSE(decode_webhook_secret("whsec_").has_value());
  EXPECT_FALSE(decode_webhook_secret("whsec_abc").has_value());
  EXPECT_FALSE(sign_webhook("whsec_***=", "evt_1", 1, "{}").has_value());
  EXPECT_EQ(verify_signature("whsec_%%", "evt_1", "1", "{}", "v1,x", kSpecNow).error(), SignatureError::kInvalidSecret);
}

TEST(Base64, RoundTripsAndRefusesMalformedText) {
  const std::vector<std::uint8_t> bytes{0x00, 0xFF, 0x10, 0x80, 0x7F};
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string text = encode_base64(bytes.data(), n);
    const auto decoded = decode_base64(text);
    ASSERT_TRUE(decoded.has_value()) << text;
    EXPECT_EQ(*decoded, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  EXPECT_EQ(encode_base64(reinterpret_cast<const std::uint8_t*>("foobar"), 6), "Zm9vYmFy");  // RFC 4648 §10
  EXPECT_EQ(encode_base64(reinterpret_cast<const std::uint8_t*>("fo"), 2), "Zm8=");
  EXPECT_FALSE(decode_base64("Zm8").has_value());
  EXPECT_FALSE(decode_base64("Z=8=").has_value());
  EXPECT_FALSE(decode_base64("Zm=v").has_value());
  EXPECT_FALSE(decode_base64("Zm9v\nYmFy").has_value());
}

}  // namespace webhook_signature_test
}  // namespace chorus::rest
