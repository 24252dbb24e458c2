#include "media/stun/stun_message.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace chorus::media::stun {
namespace {

// RFC 8489 §14.3: USERNAME is fewer than 509 bytes (RFC 5389 allowed 513; accept the older bound).
constexpr std::size_t kMaxUsernameSize = 513;
// RFC 8489 §14.14 / §14.8: SOFTWARE and the ERROR-CODE reason are at most 763 bytes.
constexpr std::size_t kMaxTextSize = 763;

std::uint16_t read16(std::span<const std::uint8_t> data, std::size_t at) {
  return static_cast<std::uint16_t>((data[at] << 8) | data[at + 1]);
}

std::uint32_t read32(std::span<const std::uint8_t> data, std::size_t at) {
  return (std::uint32_t{data[at]} << 24) | (std::uint32_t{data[at + 1]} << 16) | (std::uint32_t{data[at + 2]} << 8) |
         std::uint32_t{data[at + 3]};
}

std::uint64_t read64(std::span<const std::uint8_t> data, std::size_t at) {
  return (std::uint64_t{read32(data, at)} << 32) | read32(data, at + 4);
}

std::expected<StunHeader, StunParseError> check_header(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kHeaderSize) return std::unexpected(StunParseError::kTooShort);
  // RFC 8489 §5: the two most significant bits of every STUN message are zero.
  if ((datagram[0] & 0xC0) != 0) return std::unexpected(StunParseError::kNotStun);
  if (read32(datagram, 4) != kMagicCookie) return std::unexpected(StunParseError::kNotStun);
  if (datagram.size() > kMaxMessageSize) return std::unexpected(StunParseError::kTooLarge);
  const std::size_t length = read16(datagram, 2);
  // RFC 8489 §5: the length excludes the header and is a multiple of 4 (attributes are padded).
  if (length % 4 != 0 || length + kHeaderSize != datagram.size()) {
    return std::unexpected(StunParseError::kLengthMismatch);
  }
  const std::uint16_t type = read16(datagram, 0);
  StunHeader header;
  // RFC 8489 §5 figure 3: M11..M7 C1 M6..M4 C0 M3..M0.
  header.method = static_cast<std::uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  header.message_class = static_cast<StunClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
  std::copy_n(datagram.begin() + 8, kTransactionIdSize, header.transaction_id.begin());
  return header;
}

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;  // reflected 0x04C11DB7
    table[n] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

// A known attribute's value has the size its RFC section gives; false rejects the message.
bool known_value_ok(std::uint16_t type, std::span<const std::uint8_t> value) {
  switch (type) {
    case attribute::kUsername:
      return value.size() <= kMaxUsernameSize;
    case attribute::kSoftware:
      return value.size() <= kMaxTextSize;
    case attribute::kMessageIntegrity:
      return value.size() == kMessageIntegritySize;
    case attribute::kFingerprint:
    case attribute::kPriority:
      return value.size() == 4;
    case attribute::kUseCandidate:
      return value.empty();  // RFC 8445 §16.1: a flag, no value
    case attribute::kIceControlled:
    case attribute::kIceControlling:
      return value.size() == 8;
    case attribute::kMappedAddress:
    case attribute::kXorMappedAddress:
      // RFC 8489 §14.2: reserved byte, family, port, then 4 or 16 address bytes.
      if (value.size() == 8) return value[1] == static_cast<std::uint8_t>(AddressFamily::kIpv4);
      if (value.size() == 20) return value[1] == static_cast<std::uint8_t>(AddressFamily::kIpv6);
      return false;
    case attribute::kErrorCode:
      // RFC 8489 §14.8: class 3..6 in the low three bits of byte 2, number 0..99 in byte 3.
      return value.size() >= 4 && value.size() <= 4 + kMaxTextSize && (value[2] & 0x07) >= 3 &&
             (value[2] & 0x07) <= 6 && value[3] < 100;
    case attribute::kUnknownAttributes:
      return value.size() % 2 == 0;
    default:
      return true;
  }
}

}  // namespace

std::string_view to_string(StunParseError error) {
  switch (error) {
    case StunParseError::kTooShort:
      return "shorter than a STUN header";
    case StunParseError::kNotStun:
      return "not STUN (top bits or magic cookie)";
    case StunParseError::kLengthMismatch:
      return "header length does not match the datagram";
    case StunParseError::kTooLarge:
      return "larger than the STUN message limit";
    case StunParseError::kAttributeOverrun:
      return "attribute runs past the message";
    case StunParseError::kBadAttributeValue:
      return "attribute value of the wrong size";
    case StunParseError::kFingerprintNotLast:
      return "FINGERPRINT is not the last attribute";
  }
  return "unknown";
}

TransportAddress TransportAddress::ipv4(std::array<std::uint8_t, 4> address, std::uint16_t port) {
  TransportAddress result;
  result.family = AddressFamily::kIpv4;
  std::copy(address.begin(), address.end(), result.ip.begin());
  result.port = port;
  return result;
}

TransportAddress TransportAddress::ipv6(std::array<std::uint8_t, 16> address, std::uint16_t port) {
  TransportAddress result;
  result.family = AddressFamily::kIpv6;
  result.ip = address;
  result.port = port;
  return result;
}

std::optional<StunHeader> peek_header(std::span<const std::uint8_t> datagram) {
  auto header = check_header(datagram);
  if (!header) return std::nullopt;
  return *header;
}

std::expected<StunMessage, StunParseError> StunMessage::parse(std::span<const std::uint8_t> datagram) {
  auto header = check_header(datagram);
  if (!header) return std::unexpected(header.error());
  StunMessage message(datagram, *header);
  const std::size_t size = datagram.size();
  bool after_integrity = false;
  bool after_fingerprint = false;
  std::size_t pos = kHeaderSize;
  while (pos < size) {
    // RFC 8489 §14.7: FINGERPRINT, when present, is the last attribute.
    if (after_fingerprint) return std::unexpected(StunParseError::kFingerprintNotLast);
    if (size - pos < 4) return std::unexpected(StunParseError::kAttributeOverrun);
    const std::uint16_t type = read16(datagram, pos);
    const std::uint16_t length = read16(datagram, pos + 2);
    const std::size_t padded = (std::size_t{length} + 3) & ~std::size_t{3};  // RFC 8489 §14: pad to 4
    if (padded > size - pos - 4) return std::unexpected(StunParseError::kAttributeOverrun);
    const auto value_offset = static_cast<std::uint16_t>(pos + 4);
    if (type == attribute::kFingerprint) {
      if (!message.record(type, value_offset, length)) return std::unexpected(StunParseError::kBadAttributeValue);
      after_fingerprint = true;
    } else if (!after_integrity) {
      // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY, FINGERPRINT aside, are ignored.
      if (!message.record(type, value_offset, length)) return std::unexpected(StunParseError::kBadAttributeValue);
      after_integrity = type == attribute::kMessageIntegrity;
    }
    pos += 4 + padded;
  }
  return message;
}

bool StunMessage::record(std::uint16_t type, std::uint16_t offset, std::uint16_t length) {
  if (!known_value_ok(type, data_.subspan(offset, length))) return false;
  Slot slot = kSlotCount;
  switch (type) {
    case attribute::kUsername:
      slot = kSlotUsername;
      break;
    case attribute::kSoftware:
      slot = kSlotSoftware;
      break;
    case attribute::kMessageIntegrity:
      slot = kSlotMessageIntegrity;
      break;
    case attribute::kFingerprint:
      slot = kSlotFingerprint;
      break;
    case attribute::kXorMappedAddress:
      slot = kSlotXorMappedAddress;
      break;
    case attribute::kPriority:
      slot = kSlotPriority;
      break;
    case attribute::kUseCandidate:
      slot = kSlotUseCandidate;
      break;
    case attribute::kIceControlled:
      slot = kSlotIceControlled;
      break;
    case attribute::kIceControlling:
      slot = kSlotIceControlling;
      break;
    case attribute::kErrorCode:
      slot = kSlotErrorCode;
      break;
    case attribute::kUnknownAttributes:
      slot = kSlotUnknownAttributes;
      break;
    case attribute::kMappedAddress:
      return true;  // understood (RFC 8489 §14.1), not needed by ICE
    default:
      if (attribute::comprehension_required(type) && unknown_count_ < kMaxUnknownReported &&
          std::find(unknown_required_.begin(), unknown_required_.begin() + unknown_count_, type) ==
              unknown_required_.begin() + unknown_count_) {
        unknown_required_[unknown_count_++] = type;
      }
      return true;
  }
  // RFC 8489 §14: of a repeated attribute only the first occurrence is processed.
  if (slots_[slot].offset == 0) slots_[slot] = Location{offset, length};
  return true;
}

std::optional<std::span<const std::uint8_t>> StunMessage::value(Slot slot) const {
  const Location& location = slots_[slot];
  if (location.offset == 0) return std::nullopt;
  return data_.subspan(location.offset, location.length);
}

std::optional<std::string_view> StunMessage::username() const {
  auto bytes = value(kSlotUsername);
  if (!bytes) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

std::optional<std::string_view> StunMessage::software() const {
  auto bytes = value(kSlotSoftware);
  if (!bytes) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

std::optional<std::span<const std::uint8_t, kMessageIntegritySize>> StunMessage::message_integrity() const {
  auto bytes = value(kSlotMessageIntegrity);
  if (!bytes) return std::nullopt;
  return bytes->first<kMessageIntegritySize>();
}

std::optional<std::uint32_t> StunMessage::fingerprint() const {
  auto bytes = value(kSlotFingerprint);
  if (!bytes) return std::nullopt;
  return read32(*bytes, 0);
}

std::optional<TransportAddress> StunMessage::xor_mapped_address() const {
  auto bytes = value(kSlotXorMappedAddress);
  if (!bytes) return std::nullopt;
  // RFC 8489 §14.2: the port is XORed with the cookie's top 16 bits, the address with the
  // cookie (IPv4) or with the cookie followed by the transaction id (IPv6).
  std::array<std::uint8_t, 16> mask{};
  mask[0] = 0x21, mask[1] = 0x12, mask[2] = 0xA4, mask[3] = 0x42;
  std::copy(header_.transaction_id.begin(), header_.transaction_id.end(), mask.begin() + 4);
  TransportAddress address;
  address.family =
      (*bytes)[1] == static_cast<std::uint8_t>(AddressFamily::kIpv6) ? AddressFamily::kIpv6 : AddressFamily::kIpv4;
  address.port = static_cast<std::uint16_t>(read16(*bytes, 2) ^ (kMagicCookie >> 16));
  for (std::size_t i = 0; i < address.ip_size(); ++i) address.ip[i] = (*bytes)[4 + i] ^ mask[i];
  return address;
}

std::optional<std::uint32_t> StunMessage::priority() const {
  auto bytes = value(kSlotPriority);
  if (!bytes) return std::nullopt;
  return read32(*bytes, 0);
}

std::optional<std::uint64_t> StunMessage::ice_controlled() const {
  auto bytes = value(kSlotIceControlled);
  if (!bytes) return std::nullopt;
  return read64(*bytes, 0);
}

std::optional<std::uint64_t> StunMessage::ice_controlling() const {
  auto bytes = value(kSlotIceControlling);
  if (!bytes) return std::nullopt;
  return read64(*bytes, 0);
}

std::optional<ErrorCode> StunMessage::error_code() const {
  auto bytes = value(kSlotErrorCode);
  if (!bytes) return std::nullopt;
  ErrorCode error;
  error.code = ((*bytes)[2] & 0x07) * 100 + (*bytes)[3];
  error.reason = std::string_view(reinterpret_cast<const char*>(bytes->data()) + 4, bytes->size() - 4);
  return error;
}

std::optional<std::span<const std::uint8_t>> StunMessage::unknown_attributes() const {
  return value(kSlotUnknownAttributes);
}

std::size_t StunMessage::message_integrity_offset() const {
  const Location& location = slots_[kSlotMessageIntegrity];
  return location.offset == 0 ? 0 : location.offset - 4u;
}

std::size_t StunMessage::fingerprint_offset() const {
  const Location& location = slots_[kSlotFingerprint];
  return location.offset == 0 ? 0 : location.offset - 4u;
}

bool hmac_sha1_with_length(std::span<const std::uint8_t> message, std::uint16_t length_field,
                           std::span<const std::uint8_t> key, std::span<std::uint8_t, kMessageIntegritySize> out) {
  if (message.size() < kHeaderSize || message.size() > kMaxMessageSize) return false;
  // The HMAC covers the header with an adjusted length; copy rather than touch the datagram.
  std::array<std::uint8_t, kMaxMessageSize> scratch;
  std::copy(message.begin(), message.end(), scratch.begin());
  scratch[2] = static_cast<std::uint8_t>(length_field >> 8);
  scratch[3] = static_cast<std::uint8_t>(length_field);
  unsigned int out_size = 0;
  const unsigned char* result =
      HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), scratch.data(), message.size(), out.data(), &out_size);
  return result != nullptr && out_size == kMessageIntegritySize;
}

bool check_integrity(const StunMessage& message, std::span<const std::uint8_t> key) {
  auto received = message.message_integrity();
  if (!received) return false;
  const std::size_t offset = message.message_integrity_offset();
  // RFC 8489 §14.5: the length counts up to the end of MESSAGE-INTEGRITY, so a FINGERPRINT that
  // follows is left out of it.
  const auto length_field = static_cast<std::uint16_t>(offset + 4 + kMessageIntegritySize - kHeaderSize);
  std::array<std::uint8_t, kMessageIntegritySize> expected{};
  if (!hmac_sha1_with_length(message.bytes().first(offset), length_field, key, expected)) return false;
  return CRYPTO_memcmp(expected.data(), received->data(), kMessageIntegritySize) == 0;
}

bool check_integrity(const StunMessage& message, std::string_view key) {
  return check_integrity(message, std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

bool check_fingerprint(const StunMessage& message) {
  auto received = message.fingerprint();
  if (!received) return false;
  // FINGERPRINT is last (parse enforces it), so the header length already counts it as §14.7 asks.
  return (crc32(message.bytes().first(message.fingerprint_offset())) ^ kFingerprintXor) == *received;
}

std::uint32_t crc32(std::span<const std::uint8_t> data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t byte : data) crc = kCrcTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace chorus::media::stun
