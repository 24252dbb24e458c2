// Big-endian (network order, RFC 3550 §5.1 convention) reads and writes over byte spans.
// Callers check lengths first; these helpers only do the arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace chorus::media::rtcp {

inline std::uint16_t read_u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
inline std::uint32_t read_u24(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 16) | (std::uint32_t{b[at + 1]} << 8) | b[at + 2];
}
inline std::uint32_t read_u32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
inline void write_u16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void write_u24(std::span<std::uint8_t> b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 16);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
  b[at + 2] = static_cast<std::uint8_t>(v);
}
inline void write_u32(std::span<std::uint8_t> b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 24);
  b[at + 1] = static_cast<std::uint8_t>(v >> 16);
  b[at + 2] = static_cast<std::uint8_t>(v >> 8);
  b[at + 3] = static_cast<std::uint8_t>(v);
}

// Sign-extends the low `bits` bits of `v` (two's complement fields such as the 24-bit
// cumulative lost of RFC 3550 §6.4.1).
inline std::int32_t sign_extend(std::uint32_t v, unsigned bits) {
  const std::uint32_t sign = 1U << (bits - 1);
  v &= (sign << 1) - 1;
  return static_cast<std::int32_t>(v ^ sign) - static_cast<std::int32_t>(sign);
}

}  // namespace chorus::media::rtcp
