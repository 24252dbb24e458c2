#include "conference/events/bounded_text.hpp"

#include <algorithm>
#include <cstdint>

namespace chorus::conference {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629 §4, Unicode Table
// 3-7), or 0 when it is ill-formed.
std::size_t sequence_length(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  const auto b1 = static_cast<unsigned char>(text[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (!is_continuation(static_cast<unsigned char>(text[i]))) return 0;
  return length;
}

}  // namespace

std::string bounded_text(std::string_view text, std::size_t max_bytes) {
  max_bytes = std::max(max_bytes, kEllipsis.size());
  // Valid UTF-8 first (at most 3 bytes per input byte), then cut: a text that fits after
  // sanitizing is kept whole.
  std::string out;
  out.reserve(std::min(text.size(), max_bytes + kEllipsis.size()));
  for (std::size_t i = 0; i < text.size() && out.size() <= max_bytes;) {
    const std::size_t length = sequence_length(text.substr(i));
    const auto first = static_cast<unsigned char>(text[i]);
    if (length == 0 || (length == 1 && (first < 0x20 || first == 0x7F))) {
      out.append(kReplacement);
      i += 1;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  if (out.size() <= max_bytes) return out;
  // Too long: keep whole characters up to max_bytes - 3 and mark the cut.
  std::size_t cut = max_bytes - kEllipsis.size();
  while (cut > 0 && is_continuation(static_cast<unsigned char>(out[cut]))) --cut;
  out.resize(cut);
  out.append(kEllipsis);
  return out;
}

}  // namespace chorus::conference
