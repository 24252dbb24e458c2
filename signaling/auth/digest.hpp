// Digest access authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): parsing a
// WWW-Authenticate / Proxy-Authenticate challenge, choosing among a response's challenges, and
// answering one with an Authorization / Proxy-Authorization value (the UAC side); parsing such a
// credentials value and computing the expected response (what DigestVerifier, the UAS side, uses).
//
// Algorithms (RFC 8760 §2.1 tokens): MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256,
// SHA-512-256-sess, hashed with OpenSSL's EVP. qop=auth is used when offered; a challenge without
// qop is answered in RFC 2069's form (RFC 2617 §3.2.2.1), one offering only auth-int is unusable
// (the UAC API carries no body).
//
// Every parser here is bounded (kMaxDigestValue octets, kMaxDigestParams parameters), refuses CTLs
// inside values (so nothing parsed can end a header line we write back) and duplicate parameters
// (RFC 7235 §2.1), and ignores parameters it does not know (RFC 7616 §3.3).
//
// Threading: pure functions, callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

inline constexpr std::size_t kMaxDigestValue = 4096;  // octets of one challenge or credentials value
inline constexpr std::size_t kMaxDigestParams = 32;   // auth-params in one value

struct DigestChallenge {
  std::string realm, nonce, opaque, algorithm /*"MD5" default, "SHA-256"*/;
  std::vector<std::string> qop;
  bool stale = false;
  bool proxy = false; /*from Proxy-Authenticate (407)*/
};

// Parses one WWW-Authenticate / Proxy-Authenticate value ("Digest realm=..., ..."); an error string
// when it is not a usable Digest challenge (bounded: 4 KiB, 32 params). `algorithm` comes back in
// its canonical RFC 8760 spelling ("MD5" when absent); `proxy` is left false (pick_challenge sets it).
std::expected<DigestChallenge, std::string> parse_digest_challenge(std::string_view value);

// The strongest usable challenge among a 401/407 response's headers (SHA-512-256 over SHA-256 over
// MD5, RFC 8760 §2.4; equal strength: the topmost); nullopt: none.
std::optional<DigestChallenge> pick_challenge(const SipMessage& response);

struct DigestCredentials {
  std::string username, password;
};

// The Authorization (or Proxy-Authorization when challenge.proxy) header VALUE answering `challenge`
// for `method` on `request_uri` (qop=auth when offered; nc as given; cnonce random when empty).
std::string digest_response_header(const DigestChallenge& challenge, const DigestCredentials& credentials,
                                   std::string_view method, std::string_view request_uri, std::uint32_t nonce_count,
                                   std::string cnonce = {});

// The header name digest_response_header's value goes into: "Proxy-Authorization" when
// challenge.proxy, else "Authorization" (RFC 3261 §22.2, §22.3).
std::string_view digest_response_header_name(const DigestChallenge& challenge);

// A challenge's wire value ("Digest realm=\"...\", nonce=\"...\", ..."), what a UAS sends in
// WWW-Authenticate / Proxy-Authenticate; parse_digest_challenge reads it back unchanged.
std::string format_digest_challenge(const DigestChallenge& challenge);

// ---- the UAS side's building blocks

// A parsed Authorization / Proxy-Authorization Digest value (RFC 2617 §3.2.2, RFC 7616 §3.4).
struct DigestAuthorization {
  std::string username, realm, nonce, uri, response, algorithm /*canonical; "MD5" when absent*/, cnonce, opaque, qop;
  std::string nc;  // as sent: 8 hex digits when qop is present
};

// Parses one credentials value ("Digest username=..., ..."): an error string when it is not Digest,
// lacks username/realm/nonce/uri/response, names an unknown algorithm, or has qop without nc and
// cnonce (same bounds as the challenge parser).
std::expected<DigestAuthorization, std::string> parse_digest_authorization(std::string_view value);

// Whether `algorithm` is one of RFC 8760's tokens (any letter case).
bool is_supported_digest_algorithm(std::string_view algorithm);

// The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1) in lowercase hex, for `password`, the
// fields of `authorization` (algorithm, realm, nonce, cnonce, nc, qop, uri, username) and `method`;
// empty when the algorithm is unknown.
std::string digest_expected_response(const DigestAuthorization& authorization, std::string_view password,
                                     std::string_view method);

}  // namespace chorus::sip
