// Character classes and small scanners of the SIP grammar (RFC 3261 §25.1), shared by the URI,
// header and message parsers in this folder. Internal to signaling/message: other folders use the
// typed parsers in sip_uri.hpp / header_types.hpp instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::sip::grammar {

// One bit per ABNF rule; a character belongs to the rule when its bit is set.
enum CharClass : std::uint8_t {
  kAlnum = 1 << 0,
  kToken = 1 << 1,      // token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
  kUser = 1 << 2,       // unreserved / user-unreserved ("&" "=" "+" "$" "," ";" "?" "/")
  kPassword = 1 << 3,   // unreserved / "&" / "=" / "+" / "$" / ","
  kParamChar = 1 << 4,  // unreserved / param-unreserved ("[" "]" "/" ":" "&" "+" "$")
  kHnvChar = 1 << 5,    // unreserved / hnv-unreserved ("[" "]" "/" "?" ":" "+" "$")
  kHostChar = 1 << 6,   // alphanum / "-" / "." (and "_", which real DNS names carry)
  kWordChar = 1 << 7,   // callid word (§25.1): token chars plus ( ) < > : \ DQUOTE / [ ] ? { }
};

consteval std::array<std::uint8_t, 256> make_char_table() {
  std::array<std::uint8_t, 256> t{};
  auto add = [&t](std::string_view chars, std::uint8_t cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  for (int c = 0; c < 256; ++c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t[c] = kAlnum | kToken | kUser | kPassword | kParamChar | kHnvChar | kHostChar | kWordChar;
    }
  }
  constexpr std::string_view kMark = "-_.!~*'()";  // unreserved = alphanum / mark
  add(kMark, kUser | kPassword | kParamChar | kHnvChar);
  add("-.!%*_+`'~", kToken | kWordChar);
  add("&=+$,;?/", kUser);
  add("&=+$,", kPassword);
  add("[]/:&+$", kParamChar);
  add("[]/?:+$", kHnvChar);
  add("-._", kHostChar);
  add("()<>:\\\"/[]?{}", kWordChar);
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kCharTable = make_char_table();

constexpr bool is(char c, std::uint8_t cls) {
  return (kCharTable[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}
constexpr char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
}

// Advances `pos` past SP/HT.
inline void skip_wsp(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && is_wsp(s[pos])) ++pos;
}

// Returns the run of characters of class `cls` starting at `pos` and advances past it.
inline std::string_view take_while(std::string_view s, std::size_t& pos, std::uint8_t cls) {
  const std::size_t start = pos;
  while (pos < s.size() && is(s[pos], cls)) ++pos;
  return s.substr(start, pos - start);
}

// Whether every character is of class `cls` or part of a valid %HH escape (RFC 3261 §25.1 escaped).
bool all_escaped_or(std::string_view s, std::uint8_t cls);

// %HH-decodes `s` (which all_escaped_or accepted); %00 yields a NUL octet, as RFC 4475 §3.1.1.4 allows.
std::string percent_decode(std::string_view s);

// Appends `s` to `out`, %HH-escaping every octet not in class `cls` (so '%' itself always is).
void percent_encode(std::string_view s, std::uint8_t cls, std::string& out);

// quoted-string (§25.1) starting at s[pos] == '"'. On success `out` holds the text with quoted-pairs
// resolved and `pos` is just past the closing quote; false when the closing quote is missing.
bool parse_quoted(std::string_view s, std::size_t& pos, std::string& out);

// Appends `s` as a quoted-string, escaping '"' and '\'.
void append_quoted(std::string_view s, std::string& out);

// 1*DIGIT with no sign or space, at most `max`; nullopt when malformed or larger.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max);

// Textual IPv6 address without brackets (RFC 4291 §2.2, as RFC 5954 corrects RFC 3261's ABNF:
// "2001:db8:::192.0.2.1" with three colons is rejected) and dotted-quad IPv4 (§25.1 IPv4address).
bool is_ipv6_address(std::string_view s);
bool is_ipv4_address(std::string_view s);

// §7.3.1: calls `fn` with each trimmed element of a comma-separated header value. Commas inside a
// quoted-string or a <>-enclosed URI do not split. Empty elements are passed on (empty views) so
// that callers can reject them where the grammar has no room for them (RFC 4475 §3.1.2.1); an
// all-blank value yields no element.
template <typename Fn>
void for_each_list_element(std::string_view value, Fn&& fn) {
  auto trimmed = [](std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
  };
  if (trimmed(value).empty()) return;
  bool in_quotes = false;
  bool in_angle = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_quotes) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (c == ',' && !in_angle) {
      fn(trimmed(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  fn(trimmed(value.substr(start)));
}

// gen-value that can go on the wire unquoted: token / host (§25.1 generic-param).
bool is_unquoted_gen_value(std::string_view s);

}  // namespace chorus::sip::grammar
