// Answering an SDES offer (RFC 4568 §7.1.2): pick one offered `a=crypto` line and write ours with
// the same tag and suite and a fresh master key from OpenSSL's CSPRNG. Kept apart from sdes.cpp so
// the grammar links without OpenSSL (fuzz/sdes_fuzz.cpp).
// Threading: free functions, safe from any thread (RAND_bytes is thread-safe in OpenSSL 3).
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>

#include "media/srtp/sdes.hpp"

namespace chorus::media {

// A crypto line with a fresh random key||salt of the suite's length and no lifetime or parameters.
std::expected<CryptoAttribute, std::string> generate_crypto_attribute(std::uint32_t tag, SrtpSuite suite);

struct CryptoAnswer {
  CryptoAttribute remote;    // the offered line we accepted: its key unprotects what we receive
  CryptoAttribute local;     // our line: same tag and suite, a fresh key that protects what we send
  std::string answer_value;  // `local` formatted, the value of our answer's a=crypto
};

// RFC 4568 §7.1.2: the answer carries exactly one crypto line, with the tag of the offered line it
// accepts. The choice is select_offered_crypto()'s; the error (for a 488) says why nothing fits.
std::expected<CryptoAnswer, std::string> choose_crypto(std::span<const std::string> offered_values,
                                                       std::span<const SrtpSuite> preference);

}  // namespace chorus::media
