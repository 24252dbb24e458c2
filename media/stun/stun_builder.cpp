#include "media/stun/stun_builder.hpp"

#include <algorithm>

namespace chorus::media::stun {
namespace {

void write16(std::span<std::uint8_t> out, std::size_t at, std::uint16_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 8);
  out[at + 1] = static_cast<std::uint8_t>(value);
}

void write32(std::span<std::uint8_t> out, std::size_t at, std::uint32_t value) {
  write16(out, at, static_cast<std::uint16_t>(value >> 16));
  write16(out, at + 2, static_cast<std::uint16_t>(value));
}

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

std::string_view reason_phrase(int code) {
  switch (code) {
    case kErrorBadRequest:
      return "Bad Request";
    case kErrorUnauthorized:
      return "Unauthorized";
    case kErrorUnknownAttribute:
      return "Unknown Attribute";
    case kErrorRoleConflict:
      return "Role Conflict";
    default:
      return "";
  }
}

StunBuilder::StunBuilder(std::span<std::uint8_t> buffer, StunClass message_class, std::uint16_t method,
                         const TransactionId& transaction_id)
    : buffer_(buffer) {
  // RFC 8489 §5: methods are twelve bits; the buffer holds at most one message.
  if (buffer_.size() < kHeaderSize || method > 0x0FFF) {
    ok_ = false;
    return;
  }
  if (buffer_.size() > kMaxMessageSize) buffer_ = buffer_.first(kMaxMessageSize);
  const auto cls = static_cast<std::uint16_t>(message_class);
  // RFC 8489 §5 figure 3: interleave C1 C0 into M11..M0.
  const auto type = static_cast<std::uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                                               ((cls & 0x1) << 4) | ((cls & 0x2) << 7));
  write16(buffer_, 0, type);
  write16(buffer_, 2, 0);
  write32(buffer_, 4, kMagicCookie);
  std::copy(transaction_id.begin(), transaction_id.end(), buffer_.begin() + 8);
  size_ = kHeaderSize;
}

std::optional<std::span<std::uint8_t>> StunBuilder::append(std::uint16_t type, std::size_t length) {
  if (!ok_) return std::nullopt;
  const std::size_t padded = (length + 3) & ~std::size_t{3};
  if (length > 0xFFFF || padded + 4 > buffer_.size() - size_) {
    ok_ = false;
    return std::nullopt;
  }
  write16(buffer_, size_, type);
  write16(buffer_, size_ + 2, static_cast<std::uint16_t>(length));
  auto value = buffer_.subspan(size_ + 4, length);
  std::fill_n(buffer_.begin() + static_cast<std::ptrdiff_t>(size_ + 4 + length), padded - length, 0);
  size_ += 4 + padded;
  write16(buffer_, 2, static_cast<std::uint16_t>(size_ - kHeaderSize));
  return value;
}

bool StunBuilder::add_bytes(std::uint16_t type, std::span<const std::uint8_t> value) {
  auto out = append(type, value.size());
  if (!out) return false;
  std::copy(value.begin(), value.end(), out->begin());
  return true;
}

bool StunBuilder::add_u32(std::uint16_t type, std::uint32_t value) {
  auto out = append(type, 4);
  if (!out) return false;
  write32(*out, 0, value);
  return true;
}

bool StunBuilder::add_u64(std::uint16_t type, std::uint64_t value) {
  auto out = append(type, 8);
  if (!out) return false;
  write32(*out, 0, static_cast<std::uint32_t>(value >> 32));
  write32(*out, 4, static_cast<std::uint32_t>(value));
  return true;
}

bool StunBuilder::add_username(std::string_view username) {
  if (username.size() > 513) return ok_ = false;  // RFC 8489 §14.3
  return add_bytes(attribute::kUsername, as_bytes(username));
}

bool StunBuilder::add_software(std::string_view software) {
  if (software.size() > 763) return ok_ = false;  // RFC 8489 §14.14
  return add_bytes(attribute::kSoftware, as_bytes(software));
}

bool StunBuilder::add_xor_mapped_address(const TransportAddress& address) {
  auto out = append(attribute::kXorMappedAddress, 4 + address.ip_size());
  if (!out) return false;
  // RFC 8489 §14.2: X-Port = port XOR cookie>>16; X-Address = address XOR (cookie || txid).
  std::array<std::uint8_t, 16> mask{0x21, 0x12, 0xA4, 0x42};
  std::copy(buffer_.begin() + 8, buffer_.begin() + 20, mask.begin() + 4);
  (*out)[0] = 0;
  (*out)[1] = static_cast<std::uint8_t>(address.family);
  write16(*out, 2, static_cast<std::uint16_t>(address.port ^ (kMagicCookie >> 16)));
  for (std::size_t i = 0; i < address.ip_size(); ++i) (*out)[4 + i] = address.ip[i] ^ mask[i];
  return true;
}

bool StunBuilder::add_priority(std::uint32_t priority) {
  return add_u32(attribute::kPriority, priority);
}

bool StunBuilder::add_use_candidate() {
  return append(attribute::kUseCandidate, 0).has_value();
}

bool StunBuilder::add_ice_controlled(std::uint64_t tie_breaker) {
  return add_u64(attribute::kIceControlled, tie_breaker);
}

bool StunBuilder::add_ice_controlling(std::uint64_t tie_breaker) {
  return add_u64(attribute::kIceControlling, tie_breaker);
}

bool StunBuilder::add_error_code(int code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > 763) return ok_ = false;
  auto out = append(attribute::kErrorCode, 4 + reason.size());
  if (!out) return false;
  // RFC 8489 §14.8: 21 reserved bits, the hundreds in three bits, then the number 0..99.
  write16(*out, 0, 0);
  (*out)[2] = static_cast<std::uint8_t>(code / 100);
  (*out)[3] = static_cast<std::uint8_t>(code % 100);
  std::copy(reason.begin(), reason.end(), out->begin() + 4);
  return true;
}

bool StunBuilder::add_unknown_attributes(std::span<const std::uint16_t> types) {
  auto out = append(attribute::kUnknownAttributes, types.size() * 2);
  if (!out) return false;
  for (std::size_t i = 0; i < types.size(); ++i) write16(*out, i * 2, types[i]);
  return true;
}

bool StunBuilder::add_message_integrity(std::span<const std::uint8_t> key) {
  if (!ok_) return false;
  const std::size_t covered = size_;
  auto out = append(attribute::kMessageIntegrity, kMessageIntegritySize);
  if (!out) return false;
  // The header length already counts MESSAGE-INTEGRITY, as RFC 8489 §14.5 asks of the HMAC input.
  const auto length_field = static_cast<std::uint16_t>(size_ - kHeaderSize);
  if (!hmac_sha1_with_length(buffer_.first(covered), length_field, key, out->first<kMessageIntegritySize>())) {
    return ok_ = false;
  }
  return true;
}

bool StunBuilder::add_message_integrity(std::string_view key) {
  return add_message_integrity(as_bytes(key));
}

bool StunBuilder::add_fingerprint() {
  if (!ok_) return false;
  const std::size_t covered = size_;
  auto out = append(attribute::kFingerprint, 4);
  if (!out) return false;
  // RFC 8489 §14.7: the CRC covers the header with the length already counting FINGERPRINT.
  write32(*out, 0, crc32(buffer_.first(covered)) ^ kFingerprintXor);
  return true;
}

std::optional<std::span<const std::uint8_t>> StunBuilder::finish() const {
  if (!ok_) return std::nullopt;
  return std::span<const std::uint8_t>(buffer_.first(size_));
}

}  // namespace chorus::media::stun
