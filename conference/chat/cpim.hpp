// Common Profile for Instant Messaging message format (RFC 3862), as chat MESSAGE bodies carry it:
// message/cpim is a block of message headers (From, To, DateTime, ...), an empty line, then the
// encapsulated MIME object (its own Content-Type, an empty line, the content). A conference relays
// a participant's words to the others, so the originator cannot be the SIP From (that is the room);
// CPIM's From names them (RFC 3862 §3.2.1), which is why it exists for relays like this one.
// Threading: pure functions.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>

namespace chorus::conference {

inline constexpr std::string_view kCpimContentType = "message/cpim";

// A From or To value (RFC 3862 §3.2.1, §3.2.2): `[Formal-name] <URI>`.
struct CpimAddress {
  std::string name;  // may be empty; UTF-8 (§3.1: header values are UTF-8)
  std::string uri;
};

struct CpimMessage {
  CpimAddress from;
  CpimAddress to;
  std::string date_time;     // as written (RFC 3339), may be empty
  std::string content_type;  // the encapsulated object's, lower-cased, without parameters
  std::string charset;       // its charset parameter, lower-cased; empty when absent
  std::string content;
};

// Message headers and MIME headers each at most this many (a body is bounded by the SIP size limit
// already; this bounds the work on a hostile one).
inline constexpr std::size_t kMaxCpimHeaders = 32;

// Reads a message/cpim body. Lines may end with CRLF (the RFC) or a bare LF (lenient, §2 is
// often bent by clients). The error says what is wrong.
std::expected<CpimMessage, std::string> parse_cpim(std::string_view body);

// A message/cpim body carrying `text` as text/plain;charset=utf-8 from `from` to `to` at `at`
// (DateTime in UTC, RFC 3339 with seconds).
std::string encode_cpim(const CpimAddress& from, const CpimAddress& to, std::chrono::system_clock::time_point at,
                        std::string_view text);

// `[Formal-name] <URI>` as a header value: the name as a quoted string (escaping `\` and `"`,
// line ends dropped), or nothing when it is empty.
std::string cpim_address_text(const CpimAddress& address);

}  // namespace chorus::conference
