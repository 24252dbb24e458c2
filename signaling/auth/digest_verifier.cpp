#include "signaling/auth/digest_verifier.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "common/ascii.hpp"
#include "common/random.hpp"

namespace chorus::sip {

namespace {

constexpr std::size_t kTimeHex = 16;  // seconds since the epoch, 64 bits
constexpr std::size_t kSaltHex = 16;  // 8 random octets: every challenge's nonce differs
constexpr std::size_t kMacHex = 32;   // HMAC-SHA-256 truncated to 128 bits
constexpr std::size_t kNonceSize = kTimeHex + kSaltHex + kMacHex;
// A nonce issued "in the future" by more than this is not ours (clock steps are tolerated).
constexpr std::chrono::seconds kClockSkew{5};

constexpr std::string_view kHex = "0123456789abcdef";

std::string to_hex(std::uint64_t value, std::size_t digits) {
  std::string out(digits, '0');
  for (std::size_t i = digits; i-- > 0; value >>= 4) out[i] = kHex[value & 0x0f];
  return out;
}

std::optional<std::uint64_t> from_hex(std::string_view text) {
  std::uint64_t value = 0;
  for (char c : text) {
    const auto digit = kHex.find(c);
    if (digit == std::string_view::npos) return std::nullopt;
    value = (value << 4) | digit;
  }
  return value;
}

std::string nonce_mac(std::string_view secret, std::string_view time_and_salt, std::string_view realm) {
  std::string input;
  input.append(time_and_salt.substr(0, kTimeHex)).append(":").append(time_and_salt.substr(kTimeHex));
  input.append(":").append(realm);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &length) == nullptr) {
    throw std::runtime_error("digest verifier: HMAC failed");
  }
  std::string out;
  for (std::size_t i = 0; i < kMacHex / 2; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0x0f]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string_view to_string(DigestFailure failure) {
  switch (failure) {
    case DigestFailure::kMissing:
      return "no credentials";
    case DigestFailure::kMalformed:
      return "malformed credentials";
    case DigestFailure::kBadNonce:
      return "nonce not ours";
    case DigestFailure::kStaleNonce:
      return "stale nonce";
    case DigestFailure::kUnknownUser:
      return "unknown user";
    case DigestFailure::kWrongResponse:
      return "wrong response";
    case DigestFailure::kUriMismatch:
      return "uri does not match the Request-URI";
  }
  return "unknown";
}

DigestVerifier::DigestVerifier(DigestVerifierConfig config, Clock clock)
    : config_(std::move(config)), clock_(std::move(clock)) {
  if (config_.secret.empty()) config_.secret = random_alphanumeric(43);  // ≈ 256 bits
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
  if (config_.algorithms.empty()) config_.algorithms = {"MD5"};
  for (const auto& algorithm : config_.algorithms) {
    if (!is_supported_digest_algorithm(algorithm)) {
      throw std::invalid_argument("digest verifier: unsupported algorithm " + algorithm);
    }
  }
}

std::string DigestVerifier::make_nonce(std::string_view realm) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  std::string nonce = to_hex(static_cast<std::uint64_t>(now), kTimeHex) + to_hex(random_u64(), kSaltHex);
  nonce += nonce_mac(config_.secret, nonce, realm);
  return nonce;
}

std::optional<std::chrono::system_clock::time_point> DigestVerifier::nonce_issued(std::string_view nonce,
                                                                                  std::string_view realm) const {
  if (nonce.size() != kNonceSize) return std::nullopt;
  const std::string_view signed_part = nonce.substr(0, kTimeHex + kSaltHex);
  if (!from_hex(signed_part.substr(kTimeHex)).has_value()) return std::nullopt;
  const auto seconds = from_hex(signed_part.substr(0, kTimeHex));
  if (!seconds ||
      !constant_time_equal(nonce.substr(kTimeHex + kSaltHex), nonce_mac(config_.secret, signed_part, realm))) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(*seconds)));
}

std::string_view DigestVerifier::challenge_header_name() const {
  return config_.proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
}

std::string DigestVerifier::challenge_header(std::string_view realm, bool stale, std::string_view algorithm) const {
  DigestChallenge challenge;
  challenge.realm = std::string(realm);
  challenge.nonce = make_nonce(realm);
  challenge.algorithm = algorithm.empty() ? config_.algorithms.front() : std::string(algorithm);
  challenge.qop = {"auth"};
  challenge.stale = stale;
  return format_digest_challenge(challenge);
}

std::vector<std::string> DigestVerifier::challenge_headers(std::string_view realm, bool stale) const {
  std::vector<std::string> values;
  for (const auto& algorithm : config_.algorithms) values.push_back(challenge_header(realm, stale, algorithm));
  return values;
}

std::expected<std::string, DigestFailure> DigestVerifier::verify(const SipMessage& request,
                                                                 const PasswordLookup& lookup_password,
                                                                 std::string_view realm) const {
  std::optional<DigestAuthorization> credentials;
  bool malformed = false;
  for (std::string_view value : request.header_values(config_.proxy ? "Proxy-Authorization" : "Authorization")) {
    auto parsed = parse_digest_authorization(value);
    if (!parsed) {
      malformed = malformed || (value.size() >= 6 && ascii_lowercase(value.substr(0, 6)) == "digest");
      continue;
    }
    if (!realm.empty() && parsed->realm != realm) continue;
    credentials = std::move(*parsed);
    break;
  }
  if (!credentials) return std::unexpected(malformed ? DigestFailure::kMalformed : DigestFailure::kMissing);
  // Our challenges always offer qop="auth" (RFC 2617 §3.2.2: then the client MUST answer with it).
  if (credentials->qop != "auth") return std::unexpected(DigestFailure::kMalformed);
  const auto issued = nonce_issued(credentials->nonce, credentials->realm);
  const auto now = clock_();
  if (!issued || *issued > now + kClockSkew) return std::unexpected(DigestFailure::kBadNonce);
  if (config_.check_uri && credentials->uri != request.request_uri_text) {
    return std::unexpected(DigestFailure::kUriMismatch);
  }
  const auto password = lookup_password(credentials->username, credentials->realm);
  if (!password) return std::unexpected(DigestFailure::kUnknownUser);
  const std::string expected = digest_expected_response(*credentials, *password, request.method);
  if (expected.empty() || !constant_time_equal(ascii_lowercase(credentials->response), expected)) {
    return std::unexpected(DigestFailure::kWrongResponse);
  }
  // RFC 2617 §3.2.1: stale only when the digest itself was right, so the client may retry silently.
  if (now - *issued > config_.nonce_lifetime) return std::unexpected(DigestFailure::kStaleNonce);
  return std::move(credentials->username);
}

}  // namespace chorus::sip
