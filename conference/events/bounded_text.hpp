// Caller-controlled text made safe to keep (issue 12, "events are bounded"): a SIP display name,
// User-Agent or From URI is whatever the caller wrote, up to the SIP message size limit. Copied as
// is into participants, events, webhook bodies, logs and the event log's ring, a few kilobytes per
// call add up, and bytes that are not UTF-8 make every JSON consumer choose what to do.
//
// bounded_text keeps at most `max_bytes` bytes of valid UTF-8 (RFC 3629): it never cuts inside a
// character, replaces each ill-formed sequence (overlong forms, surrogates, code points above
// U+10FFFF, stray continuation bytes) and each C0 control or DEL with U+FFFD, and ends a text it
// shortened with U+2026 "…" (inside the bound), so a reader can tell.
// Threading: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chorus::conference {

inline constexpr std::size_t kMaxCallerTextBytes = 128;  // display names, User-Agent
inline constexpr std::size_t kMaxCallerUriBytes = 256;   // From/To URIs

// At most max(max_bytes, 3) bytes of valid UTF-8; see above.
[[nodiscard]] std::string bounded_text(std::string_view text, std::size_t max_bytes = kMaxCallerTextBytes);

}  // namespace chorus::conference
