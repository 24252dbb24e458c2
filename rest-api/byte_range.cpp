#include "rest-api/byte_range.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace chorus::rest {

namespace {

constexpr std::uint64_t kMaxPosition = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) {
  return c == ' ' || c == '\t';  // RFC 9110 §5.6.3
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// 1*DIGIT, saturating at kMaxPosition; nullopt when `text` is empty or holds anything else.
std::optional<std::uint64_t> parse_position(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (kMaxPosition - digit) / 10 ? kMaxPosition : value * 10 + digit;
  }
  return value;
}

// The one non-empty element of a range-set (RFC 9110 §5.6.1: a recipient ignores empty list
// elements); nullopt when there is none or more than one.
std::optional<std::string_view> single_range_spec(std::string_view range_set) {
  std::optional<std::string_view> found;
  while (true) {
    const auto comma = range_set.find(',');
    const auto element = trim_ows(range_set.substr(0, comma));
    if (!element.empty()) {
      if (found) return std::nullopt;  // several ranges: served whole (see the header)
      found = element;
    }
    if (comma == std::string_view::npos) return found;
    range_set.remove_prefix(comma + 1);
  }
}

// RFC 9110 §14.1.2: suffix-range = "-" suffix-length.
RangeSelection select_suffix(std::string_view digits, std::uint64_t size) {
  const auto suffix = parse_position(digits);
  if (!suffix) return RangeSelection::whole();                          // syntax error
  if (*suffix == 0) return RangeSelection::unsatisfiable();             // "a non-zero suffix-length"
  if (size == 0) return RangeSelection::whole();                        // satisfiable, but no 206 holds 0 bytes
  return RangeSelection::of(size - std::min(*suffix, size), size - 1);  // longer than the file: all of it
}

// RFC 9110 §14.1.2: int-range = first-pos "-" [ last-pos ].
RangeSelection select_int_range(std::string_view spec, std::uint64_t size) {
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeSelection::whole();  // other-range: not a byte range
  const auto first = parse_position(spec.substr(0, dash));
  const auto last_text = spec.substr(dash + 1);
  const auto last = last_text.empty() ? std::optional<std::uint64_t>(kMaxPosition) : parse_position(last_text);
  // "A client MUST NOT generate ... a last-pos less than the first-pos": such a range-spec is
  // invalid, and an invalid ranges-specifier is ignored (§14.2).
  if (!first || !last || *last < *first) return RangeSelection::whole();
  if (*first >= size) return RangeSelection::unsatisfiable();
  return RangeSelection::of(*first, std::min(*last, size - 1));
}

}  // namespace

RangeSelection parse_byte_range(std::string_view range_header, std::uint64_t size) {
  // RFC 9110 §14.1: ranges-specifier = range-unit "=" range-set; unit names are case-insensitive.
  // §14.2: an origin server MUST ignore a Range with a unit it does not understand.
  const auto header = trim_ows(range_header);
  const auto equals = header.find('=');
  if (equals == std::string_view::npos || !iequals_ascii(header.substr(0, equals), "bytes")) {
    return RangeSelection::whole();
  }
  const auto spec = single_range_spec(header.substr(equals + 1));
  if (!spec) return RangeSelection::whole();
  return spec->front() == '-' ? select_suffix(spec->substr(1), size) : select_int_range(*spec, size);
}

std::string content_range(ByteRange range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size);
}

std::string unsatisfied_content_range(std::uint64_t size) {
  return "bytes */" + std::to_string(size);
}

}  // namespace chorus::rest
