#include "media/rtp/rtp_header_writer.hpp"

#include <algorithm>

#include "media/rtp/rtp_packet.hpp"

namespace chorus::media {

namespace {

void put_u16(std::span<std::uint8_t> out, std::size_t offset, std::uint16_t value) {
  out[offset] = static_cast<std::uint8_t>(value >> 8);
  out[offset + 1] = static_cast<std::uint8_t>(value);
}

void put_u32(std::span<std::uint8_t> out, std::size_t offset, std::uint32_t value) {
  out[offset] = static_cast<std::uint8_t>(value >> 24);
  out[offset + 1] = static_cast<std::uint8_t>(value >> 16);
  out[offset + 2] = static_cast<std::uint8_t>(value >> 8);
  out[offset + 3] = static_cast<std::uint8_t>(value);
}

// Element bytes (ID/length byte + data) before padding to a 32-bit boundary; nullopt if any
// element is not encodable in the one-byte form, or an id repeats (a receiver looking it up
// would see only the first, so a second one is a bug in the caller).
std::optional<std::size_t> one_byte_elements_size(std::span<const OneByteExtensionElement> elements) {
  std::size_t size = 0;
  std::uint16_t seen_ids = 0;
  for (const auto& element : elements) {
    if (element.id == 0 || element.id > kMaxOneByteExtensionId) return std::nullopt;
    if (element.data.empty() || element.data.size() > kMaxOneByteExtensionDataSize) return std::nullopt;
    const auto bit = static_cast<std::uint16_t>(1u << element.id);
    if ((seen_ids & bit) != 0) return std::nullopt;
    seen_ids |= bit;
    size += 1 + element.data.size();
  }
  return size;
}

std::size_t round_up_to_word(std::size_t size) {
  return (size + 3) & ~std::size_t{3};
}

}  // namespace

std::optional<std::size_t> rtp_header_size(const RtpHeaderFields& fields) noexcept {
  if (fields.payload_type > 0x7F || fields.csrcs.size() > kMaxCsrcCount) return std::nullopt;
  std::size_t size = RtpPacket::kFixedHeaderSize + 4 * fields.csrcs.size();
  if (fields.extensions.empty()) return size;
  const auto elements = one_byte_elements_size(fields.extensions);
  if (!elements) return std::nullopt;
  // At most 14 elements of 17 bytes: the block's word count always fits its 16-bit field.
  return size + 4 + round_up_to_word(*elements);
}

std::optional<std::size_t> write_rtp_header(std::span<std::uint8_t> out, const RtpHeaderFields& fields) noexcept {
  const auto size = rtp_header_size(fields);
  if (!size || *size > out.size()) return std::nullopt;

  const bool has_extension = !fields.extensions.empty();
  // RFC 3550 §5.1: V=2, P=0, X, CC | M, PT | sequence number | timestamp | SSRC.
  out[0] = static_cast<std::uint8_t>((RtpPacket::kVersion << 6) | (has_extension ? 0x10 : 0x00) |
                                     static_cast<std::uint8_t>(fields.csrcs.size()));
  out[1] = static_cast<std::uint8_t>((fields.marker ? 0x80 : 0x00) | fields.payload_type);
  put_u16(out, 2, fields.sequence_number);
  put_u32(out, 4, fields.timestamp);
  put_u32(out, 8, fields.ssrc);
  std::size_t offset = RtpPacket::kFixedHeaderSize;
  for (std::uint32_t csrc : fields.csrcs) {
    put_u32(out, offset, csrc);
    offset += 4;
  }
  if (!has_extension) return offset;

  // RFC 3550 §5.3.1 + RFC 8285 §4.2: 0xBEDE, length in words, elements, zero padding.
  const std::size_t block_size = *size - offset - 4;
  put_u16(out, offset, RtpPacket::kOneByteProfile);
  put_u16(out, offset + 2, static_cast<std::uint16_t>(block_size / 4));
  offset += 4;
  const std::size_t block_end = offset + block_size;
  for (const auto& element : fields.extensions) {
    out[offset] = static_cast<std::uint8_t>((element.id << 4) | (element.data.size() - 1));
    std::ranges::copy(element.data, out.begin() + static_cast<std::ptrdiff_t>(offset + 1));
    offset += 1 + element.data.size();
  }
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(offset), out.begin() + static_cast<std::ptrdiff_t>(block_end),
            std::uint8_t{0});
  return block_end;
}

}  // namespace chorus::media
