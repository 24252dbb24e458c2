// StunMessage: a read-only view over one received STUN datagram (RFC 8489, formerly RFC 5389),
// with the attributes an ICE-lite agent needs (RFC 8445 §7).
//
// parse() checks the header and walks every attribute once, checking each length against the
// datagram and each known attribute's value size, and records where the known attributes sit;
// the typed readers then only read bytes already checked. Nothing is copied and nothing
// allocates: the view is valid as long as the datagram buffer is. The packet path never throws.
// Threading: a view is used by the one thread that received the datagram.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::media::stun {

// RFC 8489 §5: the fixed header and the magic cookie that tells STUN from RFC 3489 and from
// other protocols sharing the port (RFC 7983 demultiplexing).
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::size_t kTransactionIdSize = 12;
// Named ingress limit: a STUN message over UDP fits one path MTU (RFC 8489 §6.1); anything
// larger is not a connectivity check we answer.
inline constexpr std::size_t kMaxMessageSize = 1500;
// At most this many unknown comprehension-required attributes are reported for a 420.
inline constexpr std::size_t kMaxUnknownReported = 8;
inline constexpr std::size_t kMessageIntegritySize = 20;  // RFC 8489 §14.5: HMAC-SHA1
// RFC 8489 §14.7: FINGERPRINT is CRC-32 XOR 0x5354554e ("STUN").
inline constexpr std::uint32_t kFingerprintXor = 0x5354554e;

using TransactionId = std::array<std::uint8_t, kTransactionIdSize>;

// RFC 8489 §5: the two bits of the class are interleaved with the twelve bits of the method.
enum class StunClass : std::uint8_t { kRequest = 0, kIndication = 1, kSuccessResponse = 2, kErrorResponse = 3 };
inline constexpr std::uint16_t kMethodBinding = 0x001;

// RFC 8489 §18.3 and RFC 8445 §16.1 attribute types.
namespace attribute {
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kPriority = 0x0024;
inline constexpr std::uint16_t kUseCandidate = 0x0025;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;
// RFC 8489 §14: 0x0000-0x7FFF must be understood; 0x8000-0xFFFF may be ignored.
[[nodiscard]] constexpr bool comprehension_required(std::uint16_t type) {
  return type < 0x8000;
}
}  // namespace attribute

enum class AddressFamily : std::uint8_t { kIpv4 = 0x01, kIpv6 = 0x02 };  // RFC 8489 §14.1 values

// An IP address and port, network byte order bytes; IPv4 uses the first four bytes of `ip`.
struct TransportAddress {
  AddressFamily family = AddressFamily::kIpv4;
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;

  static TransportAddress ipv4(std::array<std::uint8_t, 4> address, std::uint16_t port);
  static TransportAddress ipv6(std::array<std::uint8_t, 16> address, std::uint16_t port);
  [[nodiscard]] std::size_t ip_size() const { return family == AddressFamily::kIpv4 ? 4 : 16; }
  friend bool operator==(const TransportAddress&, const TransportAddress&) = default;
};

struct ErrorCode {
  int code = 0;  // 300..699, RFC 8489 §14.8
  std::string_view reason;
};

// Why a datagram is not a well-formed STUN message. The first four mean "not STUN at all"
// (RFC 8489 §6.3: silently discard); the rest are STUN headers over malformed attributes.
enum class StunParseError : std::uint8_t {
  kTooShort,
  kNotStun,            // the two top bits are not zero, or the magic cookie is wrong
  kLengthMismatch,     // header length is not a multiple of 4, or not the datagram's length
  kTooLarge,           // above kMaxMessageSize
  kAttributeOverrun,   // an attribute header or value (with padding) runs past the message
  kBadAttributeValue,  // a known attribute with a value of the wrong size
  kFingerprintNotLast,
};

[[nodiscard]] std::string_view to_string(StunParseError error);

// The header alone, enough to answer a request whose attributes turned out malformed (400).
struct StunHeader {
  StunClass message_class = StunClass::kRequest;
  std::uint16_t method = 0;
  TransactionId transaction_id{};
};

// RFC 8489 §5 header checks only: top bits, magic cookie, length a multiple of 4 matching the
// datagram. nullopt means "not STUN" (or oversized), to be dropped without an answer.
[[nodiscard]] std::optional<StunHeader> peek_header(std::span<const std::uint8_t> datagram);

class StunMessage {
 public:
  [[nodiscard]] static std::expected<StunMessage, StunParseError> parse(std::span<const std::uint8_t> datagram);

  [[nodiscard]] StunClass message_class() const { return header_.message_class; }
  [[nodiscard]] std::uint16_t method() const { return header_.method; }
  [[nodiscard]] const TransactionId& transaction_id() const { return header_.transaction_id; }
  [[nodiscard]] const StunHeader& header() const { return header_; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return data_; }

  [[nodiscard]] std::optional<std::string_view> username() const;
  [[nodiscard]] std::optional<std::string_view> software() const;
  [[nodiscard]] std::optional<std::span<const std::uint8_t, kMessageIntegritySize>> message_integrity() const;
  [[nodiscard]] std::optional<std::uint32_t> fingerprint() const;
  [[nodiscard]] std::optional<TransportAddress> xor_mapped_address() const;
  [[nodiscard]] std::optional<std::uint32_t> priority() const;
  [[nodiscard]] bool use_candidate() const { return slots_[kSlotUseCandidate].offset != 0; }
  [[nodiscard]] std::optional<std::uint64_t> ice_controlled() const;   // the tie-breaker
  [[nodiscard]] std::optional<std::uint64_t> ice_controlling() const;  // the tie-breaker
  [[nodiscard]] std::optional<ErrorCode> error_code() const;
  // UNKNOWN-ATTRIBUTES (RFC 8489 §14.13) of a 420 response: the raw list, two bytes per type.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> unknown_attributes() const;

  // RFC 8489 §6.3.1: comprehension-required attributes this parser does not know, before
  // MESSAGE-INTEGRITY (those after it are ignored, RFC 8489 §14.5), at most kMaxUnknownReported.
  [[nodiscard]] std::span<const std::uint16_t> unknown_required() const {
    return std::span(unknown_required_).first(unknown_count_);
  }

  // Byte offset of the MESSAGE-INTEGRITY / FINGERPRINT attribute header, 0 when absent.
  [[nodiscard]] std::size_t message_integrity_offset() const;
  [[nodiscard]] std::size_t fingerprint_offset() const;

 private:
  enum Slot : std::uint8_t {
    kSlotUsername,
    kSlotSoftware,
    kSlotMessageIntegrity,
    kSlotFingerprint,
    kSlotXorMappedAddress,
    kSlotPriority,
    kSlotUseCandidate,
    kSlotIceControlled,
    kSlotIceControlling,
    kSlotErrorCode,
    kSlotUnknownAttributes,
    kSlotCount
  };
  struct Location {
    std::uint16_t offset = 0;  // of the value; 0 means absent (a value never starts in the header)
    std::uint16_t length = 0;
  };

  StunMessage(std::span<const std::uint8_t> data, const StunHeader& header) : data_(data), header_(header) {}
  bool record(std::uint16_t type, std::uint16_t offset, std::uint16_t length);
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> value(Slot slot) const;

  std::span<const std::uint8_t> data_;
  StunHeader header_;
  std::array<Location, kSlotCount> slots_{};
  std::array<std::uint16_t, kMaxUnknownReported> unknown_required_{};
  std::size_t unknown_count_ = 0;
};

// RFC 8489 §14.5: HMAC-SHA1 with `key` over the message up to MESSAGE-INTEGRITY, the header
// length counting up to and including that attribute. Compared in constant time. False when
// the message has no MESSAGE-INTEGRITY. For ICE the key is the password (RFC 8445 §7.2.2).
[[nodiscard]] bool check_integrity(const StunMessage& message, std::span<const std::uint8_t> key);
[[nodiscard]] bool check_integrity(const StunMessage& message, std::string_view key);

// RFC 8489 §14.7: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e. False when absent.
[[nodiscard]] bool check_fingerprint(const StunMessage& message);

// ISO-HDLC CRC-32 (the one in Ethernet and zlib), as FINGERPRINT uses it.
[[nodiscard]] std::uint32_t crc32(std::span<const std::uint8_t> data);

// HMAC-SHA1 of `message` with its length field replaced by `length_field` (RFC 8489 §14.5).
// False only when OpenSSL fails.
[[nodiscard]] bool hmac_sha1_with_length(std::span<const std::uint8_t> message, std::uint16_t length_field,
                                         std::span<const std::uint8_t> key,
                                         std::span<std::uint8_t, kMessageIntegritySize> out);

}  // namespace chorus::media::stun
