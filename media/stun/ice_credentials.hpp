// Fresh local ICE credentials (RFC 8445 §5.3, RFC 8839 §5.4): ufrag of at least 24 bits and a
// password of at least 128 bits of randomness, from ice-chars. They come from OpenSSL's CSPRNG:
// the password keys MESSAGE-INTEGRITY, the only thing that stops an off-path attacker from
// validating an address of its choosing.
// Threading: safe from any thread.
#pragma once

#include <string>

namespace chorus::media::stun {

struct LocalIceCredentials {
  std::string ufrag;     // 8 ice-chars (48 bits)
  std::string password;  // 24 ice-chars (144 bits)
};

LocalIceCredentials generate_ice_credentials();

}  // namespace chorus::media::stun
