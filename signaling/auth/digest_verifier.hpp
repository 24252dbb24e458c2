// DigestVerifier: the UAS side of Digest (RFC 3261 §22.2, RFC 2617 §3.2.1, RFC 7616 §3.3) for
// callers that are not from a trusted trunk: challenges with stateless nonces and checks the
// Authorization (or Proxy-Authorization) a challenged request comes back with.
//
// Nonces are stateless (nothing to store per challenge, nothing a flood can fill):
//   nonce = hex(issue time, s) hex(8 random octets) hex(HMAC-SHA-256(secret, time ":" salt ":" realm)[0..16))
// A nonce is valid for the realm it was issued in until `nonce_lifetime` has passed; a correct
// response on an older nonce fails with kStaleNonce, whose new challenge carries stale=true so the
// client retries without asking its user (RFC 2617 §3.2.1). A nonce that was not signed with our
// secret, or for another realm, is kBadNonce. Replay within the lifetime is not detected (no nc
// state is kept); the lifetime bounds it, and the transaction layer absorbs retransmissions.
//
// Threading: challenge_header and verify are const and touch only the configuration; the clock
// and the lookup run on the caller's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/auth/digest.hpp"
#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

enum class DigestFailure {
  kMissing,        // no Digest credentials for us: challenge
  kMalformed,      // credentials that do not parse, or lack qop=auth (our challenges require it)
  kBadNonce,       // a nonce we did not issue (tampered, forged, or from another realm)
  kStaleNonce,     // right password on an expired nonce: challenge again with stale=true
  kUnknownUser,    // lookup_password had no password for the username
  kWrongResponse,  // the request-digest does not match (wrong password)
  kUriMismatch,    // digest-uri is not the Request-URI (RFC 2617 §3.2.2.5)
};

std::string_view to_string(DigestFailure failure);

struct DigestVerifierConfig {
  std::string secret;                                     // HMAC key; random per verifier when empty
  std::chrono::seconds nonce_lifetime{300};               // RFC 7616 §5.5: a short lifetime limits replay
  bool proxy = false;                                     // 407 Proxy-Authenticate / Proxy-Authorization
  bool check_uri = true;                                  // off behind a proxy that rewrites the R-URI
  std::vector<std::string> algorithms{"SHA-256", "MD5"};  // challenge_headers' order (RFC 8760 §2.4)
};

class DigestVerifier {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // The password of `username` in `realm`, or nullopt when there is no such user.
  using PasswordLookup = std::function<std::optional<std::string>(std::string_view username, std::string_view realm)>;

  explicit DigestVerifier(DigestVerifierConfig config = {}, Clock clock = {});

  // One WWW-Authenticate (Proxy-Authenticate when config.proxy) value with a fresh nonce and
  // qop="auth"; `algorithm` empty: the first of config.algorithms.
  [[nodiscard]] std::string challenge_header(std::string_view realm, bool stale, std::string_view algorithm = {}) const;
  // One value per configured algorithm, most preferred first, as RFC 8760 §2.4 asks of a UAS.
  [[nodiscard]] std::vector<std::string> challenge_headers(std::string_view realm, bool stale) const;
  // "WWW-Authenticate" or "Proxy-Authenticate": where challenge_header's values go.
  [[nodiscard]] std::string_view challenge_header_name() const;

  // The authenticated username, or why not. Of several credentials the first for a realm
  // `realm` names (any realm when empty) is checked.
  [[nodiscard]] std::expected<std::string, DigestFailure> verify(const SipMessage& request,
                                                                 const PasswordLookup& lookup_password,
                                                                 std::string_view realm = {}) const;

 private:
  [[nodiscard]] std::string make_nonce(std::string_view realm) const;
  // The issue time of a nonce we signed for `realm`; nullopt when we did not.
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> nonce_issued(std::string_view nonce,
                                                                                  std::string_view realm) const;

  DigestVerifierConfig config_;
  Clock clock_;
};

}  // namespace chorus::sip
