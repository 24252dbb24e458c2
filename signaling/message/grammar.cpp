// Scanners of the SIP grammar (RFC 3261 §25.1) shared by the URI, header and message parsers.
#include "signaling/message/grammar.hpp"

namespace chorus::sip::grammar {

bool all_escaped_or(std::string_view s, std::uint8_t cls) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is(s[i], cls)) continue;
    // escaped = "%" HEXDIG HEXDIG
    if (s[i] != '%' || i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
      return false;
    }
    i += 2;
  }
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void percent_encode(std::string_view s, std::uint8_t cls, std::string& out) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  for (char c : s) {
    if (is(c, cls)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
}

bool parse_quoted(std::string_view s, std::size_t& pos, std::string& out) {
  // quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE; quoted-pair = "\" any octet but CR/LF.
  std::size_t i = pos + 1;
  out.clear();
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      pos = i + 1;
      return true;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return false;
      out.push_back(s[i + 1]);
      i += 2;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return false;
}

void append_quoted(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max) return std::nullopt;  // stops before any overflow: max < 2^64 / 10
  }
  return value;
}

bool is_ipv4_address(std::string_view s) {
  // IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255
  int octets = 0;
  std::size_t pos = 0;
  while (true) {
    const std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 4) ++pos;
    if (pos == start || pos - start > 3) return false;
    if (!parse_decimal(s.substr(start, pos - start), 255)) return false;
    ++octets;
    if (pos == s.size()) return octets == 4;
    if (s[pos] != '.' || octets == 4) return false;
    ++pos;
  }
}

bool is_ipv6_address(std::string_view s) {
  // hexpart with at most one "::", 1-4 hex digits per group, optionally ending in an IPv4 address
  // that counts for two groups; 8 groups in all, or fewer when "::" stands for the rest.
  if (s.size() < 2) return false;
  std::size_t pos = 0;
  int groups = 0;
  bool compressed = false;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    compressed = true;
    pos = 2;
    if (pos == s.size()) return true;  // "::"
  }
  while (true) {
    const std::size_t start = pos;
    while (pos < s.size() && hex_value(s[pos]) >= 0 && pos - start < 5) ++pos;
    if (pos < s.size() && s[pos] == '.') {  // trailing IPv4address
      if (!is_ipv4_address(s.substr(start))) return false;
      groups += 2;
      break;
    }
    if (pos == start || pos - start > 4) return false;
    ++groups;
    if (pos == s.size()) break;
    if (s[pos] != ':') return false;
    ++pos;
    if (pos < s.size() && s[pos] == ':') {
      if (compressed) return false;
      compressed = true;
      ++pos;
      if (pos == s.size()) break;
    } else if (pos == s.size()) {
      return false;  // a single trailing colon
    }
    if (groups > 8) return false;
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool is_unquoted_gen_value(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is(c, kToken) && c != '[' && c != ']' && c != ':') return false;
  }
  return true;
}

}  // namespace chorus::sip::grammar
