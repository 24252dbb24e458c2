// StunBuilder: writes one STUN message (RFC 8489) into a caller-owned buffer.
//
// Attributes are appended in call order, each padded to four bytes with zeros, and the header
// length is kept current after every append. MESSAGE-INTEGRITY and then FINGERPRINT go last
// (RFC 8489 §14.5, §14.7). Every append returns false when the buffer is too small or a value
// is out of range, and the builder then stays failed: finish() returns nullopt. Never throws.
// Threading: a builder belongs to the thread that owns its buffer.
#pragma once

#include "media/stun/stun_message.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::media::stun {

// RFC 8489 §14.8 / RFC 8445 §7.3.1.1 error codes an ICE-lite agent sends.
inline constexpr int kErrorBadRequest = 400;
inline constexpr int kErrorUnauthorized = 401;
inline constexpr int kErrorUnknownAttribute = 420;
inline constexpr int kErrorRoleConflict = 487;

class StunBuilder {
 public:
  StunBuilder(std::span<std::uint8_t> buffer, StunClass message_class, std::uint16_t method,
              const TransactionId& transaction_id);

  bool add_username(std::string_view username);
  bool add_software(std::string_view software);
  bool add_xor_mapped_address(const TransportAddress& address);
  bool add_priority(std::uint32_t priority);
  bool add_use_candidate();
  bool add_ice_controlled(std::uint64_t tie_breaker);
  bool add_ice_controlling(std::uint64_t tie_breaker);
  // `code` is 300..699; `reason` at most 763 bytes (RFC 8489 §14.8).
  bool add_error_code(int code, std::string_view reason);
  bool add_unknown_attributes(std::span<const std::uint16_t> types);
  // RFC 8489 §14.5: HMAC-SHA1 keyed with `key` over everything written so far.
  bool add_message_integrity(std::span<const std::uint8_t> key);
  bool add_message_integrity(std::string_view key);
  // RFC 8489 §14.7: CRC-32 over everything written so far, XOR 0x5354554e. Call last.
  bool add_fingerprint();

  [[nodiscard]] bool ok() const { return ok_; }
  // The finished message, a prefix of the buffer; nullopt when any append failed.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> finish() const;

 private:
  // Writes the attribute header and reserves the padded value; nullopt marks the builder failed.
  std::optional<std::span<std::uint8_t>> append(std::uint16_t type, std::size_t length);
  bool add_bytes(std::uint16_t type, std::span<const std::uint8_t> value);
  bool add_u32(std::uint16_t type, std::uint32_t value);
  bool add_u64(std::uint16_t type, std::uint64_t value);

  std::span<std::uint8_t> buffer_;
  std::size_t size_ = 0;
  bool ok_ = true;
};

// Standard reason phrases for the codes above (RFC 8489 §14.8, RFC 8445 §7.3.1.1).
[[nodiscard]] std::string_view reason_phrase(int code);

}  // namespace chorus::media::stun
