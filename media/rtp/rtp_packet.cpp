#include "media/rtp/rtp_packet.hpp"

namespace chorus::media {

namespace {

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
         (std::uint32_t{bytes[offset + 2]} << 8) | std::uint32_t{bytes[offset + 3]};
}

void write_u16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) {
  bytes[offset] = static_cast<std::uint8_t>(value >> 8);
  bytes[offset + 1] = static_cast<std::uint8_t>(value);
}

void write_u32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) {
  bytes[offset] = static_cast<std::uint8_t>(value >> 24);
  bytes[offset + 1] = static_cast<std::uint8_t>(value >> 16);
  bytes[offset + 2] = static_cast<std::uint8_t>(value >> 8);
  bytes[offset + 3] = static_cast<std::uint8_t>(value);
}

constexpr std::size_t kCsrcSize = 4;
constexpr std::size_t kExtensionHeaderSize = 4;  // RFC 3550 §5.3.1: profile + length in words
constexpr std::uint8_t kOneByteReservedId = 15;  // RFC 8285 §4.2: stop processing here

ExtensionForm form_of(std::uint16_t profile) {
  if (profile == RtpPacket::kOneByteProfile) return ExtensionForm::kOneByte;
  if ((profile & 0xFFF0) == RtpPacket::kTwoByteProfile) return ExtensionForm::kTwoByte;
  return ExtensionForm::kOther;
}

}  // namespace

std::optional<RtpPacket> RtpPacket::parse(std::span<std::uint8_t> buffer) noexcept {
  if (buffer.size() < kFixedHeaderSize) return std::nullopt;
  const std::uint8_t first = buffer[0];
  if ((first >> 6) != kVersion) return std::nullopt;
  const bool has_padding = (first & 0x20) != 0;
  const bool has_extension = (first & 0x10) != 0;

  RtpPacket packet{buffer};
  // RFC 3550 §5.1: CC, 0..15 CSRC identifiers after the fixed header.
  std::size_t offset = kFixedHeaderSize + kCsrcSize * (first & 0x0F);
  if (offset > buffer.size()) return std::nullopt;

  // RFC 3550 §5.3.1: a 4-byte extension header (profile, length in 32-bit words) then the block.
  if (has_extension) {
    if (buffer.size() - offset < kExtensionHeaderSize) return std::nullopt;
    packet.extension_profile_ = read_u16(buffer, offset);
    const std::size_t block_size = std::size_t{read_u16(buffer, offset + 2)} * 4;
    offset += kExtensionHeaderSize;
    if (buffer.size() - offset < block_size) return std::nullopt;
    packet.extension_offset_ = offset;
    packet.extension_size_ = block_size;
    packet.extension_form_ = form_of(packet.extension_profile_);
    offset += block_size;
  }
  packet.header_size_ = offset;

  // RFC 3550 §5.1: with P set the last byte counts the padding bytes, itself included, so it is
  // at least 1 and cannot reach back into the header.
  if (has_padding) {
    const std::size_t available = buffer.size() - offset;
    if (available == 0) return std::nullopt;
    const std::size_t padding = buffer[buffer.size() - 1];
    if (padding == 0 || padding > available) return std::nullopt;
    packet.padding_size_ = padding;
  }
  return packet;
}

std::uint16_t RtpPacket::sequence_number() const noexcept {
  return read_u16(buffer_, 2);
}
std::uint32_t RtpPacket::timestamp() const noexcept {
  return read_u32(buffer_, 4);
}
std::uint32_t RtpPacket::ssrc() const noexcept {
  return read_u32(buffer_, 8);
}

std::span<const std::uint8_t> RtpPacket::csrc_bytes() const noexcept {
  return std::span<const std::uint8_t>{buffer_}.subspan(kFixedHeaderSize, kCsrcSize * csrc_count());
}

std::uint32_t RtpPacket::csrc(std::size_t index) const noexcept {
  return read_u32(buffer_, kFixedHeaderSize + kCsrcSize * index);
}

std::span<const std::uint8_t> RtpPacket::extension_block() const noexcept {
  return std::span<const std::uint8_t>{buffer_}.subspan(extension_offset_, extension_size_);
}

std::span<const std::uint8_t> RtpPacket::payload() const noexcept {
  return std::span<const std::uint8_t>{buffer_}.subspan(header_size_, buffer_.size() - header_size_ - padding_size_);
}

std::span<std::uint8_t> RtpPacket::mutable_payload() noexcept {
  return buffer_.subspan(header_size_, buffer_.size() - header_size_ - padding_size_);
}

std::optional<std::span<const std::uint8_t>> RtpPacket::extension(std::uint8_t id) const noexcept {
  const auto location = find_extension(id);
  if (!location) return std::nullopt;
  return std::span<const std::uint8_t>{buffer_}.subspan(location->offset, location->size);
}

std::optional<std::span<std::uint8_t>> RtpPacket::mutable_extension(std::uint8_t id) noexcept {
  const auto location = find_extension(id);
  if (!location) return std::nullopt;
  return buffer_.subspan(location->offset, location->size);
}

std::optional<RtpPacket::ElementLocation> RtpPacket::find_extension(std::uint8_t id) const noexcept {
  if (id == 0) return std::nullopt;  // RFC 8285 §4.2, §4.3: 0 is padding, never an identifier
  switch (extension_form_) {
    case ExtensionForm::kOneByte:
      return find_one_byte_element(id);
    case ExtensionForm::kTwoByte:
      return find_two_byte_element(id);
    case ExtensionForm::kNone:
    case ExtensionForm::kOther:
      break;
  }
  return std::nullopt;
}

// RFC 8285 §4.2: each element is a byte of ID (4 bits) and length-minus-one (4 bits), then 1..16
// data bytes. A zero ID byte is padding (skipped one byte at a time); ID 15 ends processing, its
// length ignored. An element that overruns the block makes the rest of the block unusable, so
// the lookup fails rather than trusting anything beyond it.
std::optional<RtpPacket::ElementLocation> RtpPacket::find_one_byte_element(std::uint8_t id) const noexcept {
  if (id >= kOneByteReservedId) return std::nullopt;
  const std::size_t end = extension_offset_ + extension_size_;
  std::size_t pos = extension_offset_;
  while (pos < end) {
    const std::uint8_t element_id = buffer_[pos] >> 4;
    if (element_id == 0) {
      ++pos;
      continue;
    }
    if (element_id == kOneByteReservedId) return std::nullopt;
    const std::size_t length = std::size_t{buffer_[pos] & 0x0Fu} + 1;
    if (end - pos - 1 < length) return std::nullopt;
    if (element_id == id) return ElementLocation{pos + 1, length};
    pos += 1 + length;
  }
  return std::nullopt;
}

// RFC 8285 §4.3: each element is an ID byte and a length byte (0..255), then the data. Zero
// bytes between elements are padding.
std::optional<RtpPacket::ElementLocation> RtpPacket::find_two_byte_element(std::uint8_t id) const noexcept {
  const std::size_t end = extension_offset_ + extension_size_;
  std::size_t pos = extension_offset_;
  while (pos < end) {
    const std::uint8_t element_id = buffer_[pos];
    if (element_id == 0) {
      ++pos;
      continue;
    }
    if (end - pos < 2) return std::nullopt;
    const std::size_t length = buffer_[pos + 1];
    if (end - pos - 2 < length) return std::nullopt;
    if (element_id == id) return ElementLocation{pos + 2, length};
    pos += 2 + length;
  }
  return std::nullopt;
}

void RtpPacket::set_marker(bool marker) noexcept {
  buffer_[1] = static_cast<std::uint8_t>((buffer_[1] & 0x7F) | (marker ? 0x80 : 0x00));
}

bool RtpPacket::set_payload_type(std::uint8_t payload_type) noexcept {
  if (payload_type > 0x7F) return false;
  buffer_[1] = static_cast<std::uint8_t>((buffer_[1] & 0x80) | payload_type);
  return true;
}

void RtpPacket::set_sequence_number(std::uint16_t sequence_number) noexcept {
  write_u16(buffer_, 2, sequence_number);
}
void RtpPacket::set_timestamp(std::uint32_t timestamp) noexcept {
  write_u32(buffer_, 4, timestamp);
}
void RtpPacket::set_ssrc(std::uint32_t ssrc) noexcept {
  write_u32(buffer_, 8, ssrc);
}

// ---- Extension parsers.

namespace {

std::optional<std::string_view> as_text(std::span<const std::uint8_t> data) {
  if (data.empty()) return std::nullopt;
  return std::string_view{reinterpret_cast<const char*>(data.data()), data.size()};
}

bool is_alphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// RFC 8866 §9 token-char, which RFC 5888 §4's identification-tag (the mid) is made of.
bool is_token_char(char c) {
  if (is_alphanumeric(c)) return true;
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`{|}~";
  return kSymbols.find(c) != std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> read_mid(const RtpPacket& packet, std::uint8_t id) noexcept {
  const auto data = packet.extension(id);
  if (!data) return std::nullopt;
  const auto text = as_text(*data);
  if (!text) return std::nullopt;
  for (char c : *text) {
    if (!is_token_char(c)) return std::nullopt;
  }
  return text;
}

std::optional<std::string_view> read_rid(const RtpPacket& packet, std::uint8_t id) noexcept {
  const auto data = packet.extension(id);
  if (!data) return std::nullopt;
  const auto text = as_text(*data);
  if (!text) return std::nullopt;
  // RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_")
  for (char c : *text) {
    if (!is_alphanumeric(c) && c != '-' && c != '_') return std::nullopt;
  }
  return text;
}

std::optional<AudioLevel> read_audio_level(const RtpPacket& packet, std::uint8_t id) noexcept {
  const auto data = packet.extension(id);
  // RFC 6464 §3: exactly one byte (one-byte form len=0, two-byte form len=1).
  if (!data || data->size() != 1) return std::nullopt;
  const std::uint8_t byte = (*data)[0];
  return AudioLevel{(byte & 0x80) != 0, static_cast<std::uint8_t>(byte & 0x7F)};
}

std::optional<AbsSendTime> read_abs_send_time(const RtpPacket& packet, std::uint8_t id) noexcept {
  const auto data = packet.extension(id);
  if (!data || data->size() != 3) return std::nullopt;
  const auto& d = *data;
  return AbsSendTime{(std::uint32_t{d[0]} << 16) | (std::uint32_t{d[1]} << 8) | std::uint32_t{d[2]}};
}

std::optional<std::uint16_t> read_transport_sequence_number(const RtpPacket& packet, std::uint8_t id) noexcept {
  const auto data = packet.extension(id);
  if (!data || data->size() != 2) return std::nullopt;
  return read_u16(*data, 0);
}

bool write_transport_sequence_number(RtpPacket& packet, std::uint8_t id, std::uint16_t value) noexcept {
  const auto data = packet.mutable_extension(id);
  if (!data || data->size() != 2) return false;
  write_u16(*data, 0, value);
  return true;
}

}  // namespace chorus::media
