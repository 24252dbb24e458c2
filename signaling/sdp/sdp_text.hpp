// Small text helpers shared by the SDP parser, model and offer/answer code. They work on
// std::string_view and never allocate, so parsing an offer costs one pass and the copies the model
// keeps (RFC 8866 text is ASCII in every field we interpret).
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string_view>

namespace chorus::sdp::detail {

[[nodiscard]] constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive ASCII comparison: encoding names (RFC 4855 §3: "PCMU" and "pcmu" are the same
// subtype) and, for tolerance, attribute names and protocol tokens.
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

[[nodiscard]] constexpr bool is_space(char c) {
  return c == ' ' || c == '\t';
}

[[nodiscard]] constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the next space-separated token off the front of `s` (runs of spaces count as one
// separator: tolerant of peers that pad fields). Returns an empty view when none is left.
[[nodiscard]] constexpr std::string_view next_token(std::string_view& s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  std::size_t end = 0;
  while (end < s.size() && !is_space(s[end])) ++end;
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

// A whole string of decimal digits (no sign, no spaces) as an unsigned number no larger than
// `max`; std::nullopt otherwise. RFC 8866 numeric fields are 1*DIGIT.
template <std::unsigned_integral T>
[[nodiscard]] std::optional<T> parse_unsigned(std::string_view s, T max) {
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || value > max) return std::nullopt;
  return value;
}

[[nodiscard]] constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

[[nodiscard]] constexpr bool is_alpha_numeric(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 8866 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E.
[[nodiscard]] constexpr bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x27) || u == 0x2a || u == 0x2b || u == 0x2d || u == 0x2e ||
         (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x5e && u <= 0x7e);
}

[[nodiscard]] constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// Takes the text up to the next `separator` off the front of `s` (all of it when there is none)
// and drops the separator. Returns the piece, which may be empty.
[[nodiscard]] constexpr std::string_view next_field(std::string_view& s, char separator) {
  const std::size_t end = s.find(separator);
  std::string_view field = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
  return field;
}

// Same, as an int in [0, max] (payload types, clock rates, channel counts, ptime).
[[nodiscard]] inline std::optional<int> parse_int(std::string_view s, int max) {
  auto v = parse_unsigned<unsigned>(s, static_cast<unsigned>(max));
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace chorus::sdp::detail
