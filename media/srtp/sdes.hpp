// SDP Security Descriptions (SDES, RFC 4568): the `a=crypto` attribute that carries SRTP master
// keys in the offer and the answer, for the four suites Chorus speaks (RFC 4568 §6.2, RFC 7714 §12).
//
// This file is the grammar only: parse and format one attribute value, strict base64, and the
// choice of which offered line to answer. It depends on nothing but the standard library so the
// fuzz target (fuzz/sdes_fuzz.cpp) links it alone; the answer's fresh key comes from
// sdes_answer.hpp (OpenSSL RAND_bytes) and the keys feed srtp_session.hpp (libsrtp2).
// Threading: free functions over values, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::media {

// The SRTP crypto suites we negotiate. RFC 4568 §6.2.1 (AES_CM_128_HMAC_SHA1_80/32) and
// RFC 7714 §12 (AEAD_AES_128_GCM, AEAD_AES_256_GCM with a 16-octet tag).
enum class SrtpSuite : std::uint8_t {
  kAesCm128HmacSha1_80,
  kAesCm128HmacSha1_32,
  kAeadAes128Gcm,
  kAeadAes256Gcm,
};

inline constexpr SrtpSuite kAllSrtpSuites[] = {SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32,
                                               SrtpSuite::kAeadAes128Gcm, SrtpSuite::kAeadAes256Gcm};

// The suite's name as written in SDP, e.g. "AES_CM_128_HMAC_SHA1_80".
std::string_view suite_name(SrtpSuite suite);
// Case-sensitive (RFC 4568 §9.1 writes the names as tokens in upper case).
std::optional<SrtpSuite> suite_from_name(std::string_view name);
// Length of the master key || master salt octet string carried inline: 30, 30, 28, 44.
std::size_t key_salt_length(SrtpSuite suite);

// One `a=crypto` attribute value with a single inline key and no MKI.
struct CryptoAttribute {
  std::uint32_t tag = 1;  // RFC 4568 §9.1: tag = 1*9DIGIT
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  std::vector<std::uint8_t> key_salt;  // master key followed by master salt
  // Key lifetime in packets when the offer gave one (RFC 4568 §6.1). Only lifetimes of at least
  // 2^31 are accepted: we never re-key an SDES session, and 2^31 packets outlast any call.
  std::optional<std::uint64_t> lifetime;
  std::vector<std::string> session_params;  // RFC 4568 §6.3, kept verbatim

  friend bool operator==(const CryptoAttribute&, const CryptoAttribute&) = default;
};

// Ingress limit: a longer attribute value is rejected before it is scanned.
inline constexpr std::size_t kMaxCryptoAttributeLength = 1024;
inline constexpr std::uint64_t kMinAcceptedLifetime = std::uint64_t{1} << 31;

// Parses the value after "a=crypto:". The error says what is wrong, for logs and a 488 reason.
std::expected<CryptoAttribute, std::string> parse_crypto_attribute(std::string_view value);
// Writes the value (without "a=crypto:"); the lifetime is written as "2^n" when it is a power of two.
std::string format_crypto_attribute(const CryptoAttribute& attribute);

// Strict base64 (RFC 4648 §4): padded to a multiple of four, no whitespace, canonical pad bits.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
std::string base64_encode(std::span<const std::uint8_t> bytes);

// True when we can honour every session parameter of the line. We support only WSH (RFC 4568
// §6.3.6, a replay window size hint that our window of 1024 covers); KDR, UNENCRYPTED_SRTP/SRTCP,
// UNAUTHENTICATED_SRTP and FEC_* change the SRTP transform libsrtp applies here, so a line that
// carries them is skipped, as RFC 4568 §6.3 asks of an answerer that cannot honour a parameter.
bool session_params_supported(const CryptoAttribute& attribute);

// RFC 4568 §7.1.1 / §7.2: of the offered lines, the first one (in offer order) whose suite is the
// most preferred of `preference`, among lines that parse and whose session parameters we
// support. Returns its index into `offered_values`, or nullopt when none is acceptable.
struct SelectedCrypto {
  std::size_t index = 0;
  CryptoAttribute offered;
};
std::optional<SelectedCrypto> select_offered_crypto(std::span<const std::string> offered_values,
                                                    std::span<const SrtpSuite> preference);

}  // namespace chorus::media
