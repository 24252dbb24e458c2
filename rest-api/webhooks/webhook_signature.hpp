// Webhook signatures, Standard Webhooks scheme (standardwebhooks.com, spec "Signature scheme"):
// - the secret is "whsec_" + base64 of the HMAC key (we generate 32 random bytes);
// - the signed content is "{webhook-id}.{webhook-timestamp}.{body}";
// - the webhook-signature header is space-separated "v1,<base64 HMAC-SHA256 (RFC 2104)>" entries
//   (several during a secret rotation); a receiver accepts any one that matches;
// - webhook-timestamp is unix seconds; a receiver refuses one outside a tolerance (5 min) against
//   replay.
// Pure functions: any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::rest {

inline constexpr std::string_view kWebhookSecretPrefix = "whsec_";
inline constexpr std::size_t kWebhookSecretBytes = 32;  // the scheme asks for 24..64
inline constexpr std::chrono::seconds kWebhookTimestampTolerance{5 * 60};

// "whsec_" + base64(32 bytes from OpenSSL's CSPRNG). Throws std::runtime_error when the CSPRNG
// fails (control path).
std::string generate_webhook_secret();

// The HMAC key inside a secret: base64 after an optional "whsec_" prefix. Empty key or bad base64
// → nullopt.
std::optional<std::vector<std::uint8_t>> decode_webhook_secret(std::string_view secret);

// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>"; nullopt when the secret does not decode.
std::optional<std::string> sign_webhook(std::string_view secret, std::string_view webhook_id,
                                        std::int64_t timestamp_seconds, std::string_view body);

enum class SignatureError {
  kInvalidSecret,     // the secret does not decode
  kInvalidTimestamp,  // webhook-timestamp is not a decimal integer
  kStaleTimestamp,    // outside now ± tolerance
  kNoMatch,           // no v1 signature in the header matches (compared in constant time)
};
std::string_view to_string(SignatureError error);

// Checks the three headers of a delivery against `secret`. `now` is injectable for tests.
std::expected<void, SignatureError> verify_signature(
    std::string_view secret, std::string_view webhook_id, std::string_view webhook_timestamp, std::string_view body,
    std::string_view webhook_signature, std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
    std::chrono::seconds tolerance = kWebhookTimestampTolerance);

// Standard base64 (RFC 4648 §4) with padding. decode_base64 refuses anything else.
std::string encode_base64(const std::uint8_t* data, std::size_t size);
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace chorus::rest
