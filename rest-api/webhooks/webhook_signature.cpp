#include "rest-api/webhooks/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <stdexcept>

namespace chorus::rest {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

using Mac = std::array<std::uint8_t, 32>;  // SHA-256 output

std::optional<Mac> hmac_sha256(const std::vector<std::uint8_t>& key, std::string_view webhook_id,
                               std::string_view timestamp, std::string_view body) {
  std::string content;
  content.reserve(webhook_id.size() + timestamp.size() + body.size() + 2);
  content.append(webhook_id).append(".").append(timestamp).append(".").append(body);
  Mac mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac.data(), &length) == nullptr ||
      length != mac.size()) {
    return std::nullopt;
  }
  return mac;
}

}  // namespace

std::string encode_base64(const std::uint8_t* data, std::size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t b0 = data[i];
    const std::uint32_t b1 = i + 1 < size ? data[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < size ? data[i + 2] : 0;
    const std::uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out.push_back(kAlphabet[(triple >> 18) & 0x3F]);
    out.push_back(kAlphabet[(triple >> 12) & 0x3F]);
    out.push_back(i + 1 < size ? kAlphabet[(triple >> 6) & 0x3F] : '=');
    out.push_back(i + 2 < size ? kAlphabet[triple & 0x3F] : '=');
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
    std::uint32_t triple = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const int value = j >= 4 - padding ? 0 : base64_value(text[i + j]);
      if (value < 0) return std::nullopt;
      triple = (triple << 6) | static_cast<std::uint32_t>(value);
    }
    out.push_back(static_cast<std::uint8_t>(triple >> 16));
    if (padding < 2) out.push_back(static_cast<std::uint8_t>(triple >> 8));
    if (padding < 1) out.push_back(static_cast<std::uint8_t>(triple));
  }
  return out;
}

std::string generate_webhook_secret() {
  std::array<std::uint8_t, kWebhookSecretBytes> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("webhook secret: the OpenSSL CSPRNG failed");
  }
  std::string secret(kWebhookSecretPrefix);
  secret += encode_base64(key.data(), key.size());
  OPENSSL_cleanse(key.data(), key.size());
  return secret;
}

std::optional<std::vector<std::uint8_t>> decode_webhook_secret(std::string_view secret) {
  if (secret.starts_with(kWebhookSecretPrefix)) secret.remove_prefix(kWebhookSecretPrefix.size());
  auto key = decode_base64(secret);
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::optional<std::string> sign_webhook(std::string_view secret, std::string_view webhook_id,
                                        std::int64_t timestamp_seconds, std::string_view body) {
  const auto key = decode_webhook_secret(secret);
  if (!key) return std::nullopt;
  const auto mac = hmac_sha256(*key, webhook_id, std::to_string(timestamp_seconds), body);
  if (!mac) return std::nullopt;
  return "v1," + encode_base64(mac->data(), mac->size());
}

std::string_view to_string(SignatureError error) {
  switch (error) {
    case SignatureError::kInvalidSecret:
      return "invalid secret";
    case SignatureError::kInvalidTimestamp:
      return "invalid webhook-timestamp";
    case SignatureError::kStaleTimestamp:
      return "webhook-timestamp outside the tolerance";
    case SignatureError::kNoMatch:
      return "no matching signature";
  }
  return "unknown";
}

std::expected<void, SignatureError> verify_signature(std::string_view secret, std::string_view webhook_id,
                                                     std::string_view webhook_timestamp, std::string_view body,
                                                     std::string_view webhook_signature,
                                                     std::chrono::system_clock::time_point now,
                                                     std::chrono::seconds tolerance) {
  const auto key = decode_webhook_secret(secret);
  if (!key) return std::unexpected(SignatureError::kInvalidSecret);
  std::int64_t seconds = 0;
  const auto* end = webhook_timestamp.data() + webhook_timestamp.size();
  const auto [ptr, ec] = std::from_chars(webhook_timestamp.data(), end, seconds);
  if (webhook_timestamp.empty() || ec != std::errc{} || ptr != end) {
    return std::unexpected(SignatureError::kInvalidTimestamp);
  }
  const auto sent = std::chrono::system_clock::time_point{std::chrono::seconds{seconds}};
  if (sent < now - tolerance || sent > now + tolerance) return std::unexpected(SignatureError::kStaleTimestamp);

  const auto expected = hmac_sha256(*key, webhook_id, webhook_timestamp, body);
  if (!expected) return std::unexpected(SignatureError::kNoMatch);
  // Space-delimited "version,signature" entries; only v1 is defined.
  while (!webhook_signature.empty()) {
    const std::size_t space = webhook_signature.find(' ');
    const std::string_view entry = webhook_signature.substr(0, space);
    webhook_signature = space == std::string_view::npos ? std::string_view{} : webhook_signature.substr(space + 1);
    if (!entry.starts_with("v1,")) continue;
    const auto given = decode_base64(entry.substr(3));
    if (given && given->size() == expected->size() &&
        CRYPTO_memcmp(given->data(), expected->data(), expected->size()) == 0) {
      return {};
    }
  }
  return std::unexpected(SignatureError::kNoMatch);
}

}  // namespace chorus::rest
