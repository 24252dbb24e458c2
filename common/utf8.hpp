// is_valid_utf8: RFC 3629 §4 well-formed UTF-8, shared by the SIP WebSocket transport (a text frame
// must be UTF-8, RFC 6455 §5.6) and the store (text both SQLite and PostgreSQL can hold).
// Threading: a pure function.
#pragma once

#include <string_view>

namespace chorus {

// Well-formed UTF-8: no overlongs, no UTF-16 surrogates, nothing past U+10FFFF, no truncated
// sequence. NUL bytes are valid UTF-8 (U+0000); callers that cannot hold them check apart.
bool is_valid_utf8(std::string_view text);

}  // namespace chorus
