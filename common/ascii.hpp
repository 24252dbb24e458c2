// ascii_lowercase: case folding for protocol tokens (SIP header and parameter names, digest
// parameters, URI schemes and hosts, media type names, CPIM headers). These are ASCII-case-insensitive
// by their RFCs (RFC 3261 §7.3.1, RFC 3986 §3.1/§3.2.2, RFC 7616 §3.4), so the folding must not depend
// on the C locale as std::tolower does, and must leave every non-ASCII byte alone.
// Threading: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace chorus {

inline std::string ascii_lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

}  // namespace chorus
