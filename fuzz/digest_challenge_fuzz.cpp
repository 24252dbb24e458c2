// libFuzzer target: the Digest challenge and credentials parsers (signaling/auth/digest.hpp,
// RFC 3261 §25.1 challenge/credentials, RFC 7616 §3.3/§3.4), the values a 401/407 or a caller's
// Authorization puts in front of us.
//
// Invariants: a parsed challenge has a canonical algorithm, qop=auth among its options when it has
// any, and no CTL in any field (nothing from it can end a header line we write); written back with
// format_digest_challenge it parses to the same fields; the Authorization we build from it parses,
// carries the challenge's realm, nonce and opaque, and its response is the one we compute.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "signaling/auth/digest.hpp"

namespace {

using chorus::fuzz::check;

bool has_ctl(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace chorus::sip;

  if (auto challenge = parse_digest_challenge(text)) {
    check(size <= kMaxDigestValue);
    check(is_supported_digest_algorithm(challenge->algorithm));
    check(challenge->qop.empty() || std::ranges::find(challenge->qop, "auth") != challenge->qop.end());
    check(!has_ctl(challenge->realm) && !has_ctl(challenge->nonce) && !has_ctl(challenge->opaque));

    const std::string printed = format_digest_challenge(*challenge);
    if (printed.size() <= kMaxDigestValue) {  // escaping can only grow it
      auto again = parse_digest_challenge(printed);
      check(again.has_value());
      check(again->realm == challenge->realm && again->nonce == challenge->nonce &&
            again->opaque == challenge->opaque && again->algorithm == challenge->algorithm &&
            again->qop == challenge->qop && again->stale == challenge->stale);
    }

    const std::string answer =
        digest_response_header(*challenge, {"user", "secret"}, "INVITE", "sip:1000@example.com", 1, "cnonce");
    check(!has_ctl(answer));
    if (answer.size() <= kMaxDigestValue) {
      auto credentials = parse_digest_authorization(answer);
      check(credentials.has_value());
      check(credentials->realm == challenge->realm && credentials->nonce == challenge->nonce &&
            credentials->opaque == challenge->opaque && credentials->username == "user");
      check(credentials->response == digest_expected_response(*credentials, "secret", "INVITE"));
    }
  }

  if (auto credentials = parse_digest_authorization(text)) {
    check(is_supported_digest_algorithm(credentials->algorithm));
    check(credentials->qop.empty() || credentials->nc.size() == 8);
    check(!digest_expected_response(*credentials, "secret", "REGISTER").empty());
  }
  return 0;
}
