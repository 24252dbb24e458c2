// RtpPacket: a view over one RTP packet (RFC 3550 §5.1) in a caller's mutable buffer, with the
// RFC 8285 header extension elements it carries and in-place rewriting for the SFU path.
//
// parse() checks every length before it trusts it (version, CSRC count, extension length,
// padding) and then never reads outside the buffer: the accessors read the validated header in
// place. Nothing is copied or allocated; the packet path never throws. The view does not own the
// buffer: the caller keeps it alive (and unmoved) while the RtpPacket is in use, and clones the
// bytes once only when a packet must be kept (a retransmission cache).
//
// The mutators write in network byte order over the same bytes, so a forwarded packet is the
// received datagram with only the rewritten fields changed.
//
// Threading: none of its own. A packet belongs to the media worker thread that received it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::media {

// RFC 8285 §4.1: the "defined by profile" field says which element format the block uses.
enum class ExtensionForm {
  kNone,     // X bit clear
  kOneByte,  // 0xBEDE (§4.2)
  kTwoByte,  // 0x100 + 4 appbits (§4.3)
  kOther,    // a non-RFC 8285 profile: the block is kept opaque, elements are not looked up
};

class RtpPacket {
 public:
  static constexpr std::size_t kFixedHeaderSize = 12;       // RFC 3550 §5.1
  static constexpr std::uint8_t kVersion = 2;               // RFC 3550 §5.1
  static constexpr std::uint16_t kOneByteProfile = 0xBEDE;  // RFC 8285 §4.2
  static constexpr std::uint16_t kTwoByteProfile = 0x1000;  // RFC 8285 §4.3 (low 4 bits: appbits)

  // nullopt unless `buffer` holds exactly one valid RTP packet. The RtpPacket refers to `buffer`.
  [[nodiscard]] static std::optional<RtpPacket> parse(std::span<std::uint8_t> buffer) noexcept;

  // RFC 3550 §5.1 fixed header fields, host byte order.
  [[nodiscard]] bool marker() const noexcept { return (buffer_[1] & 0x80) != 0; }
  [[nodiscard]] std::uint8_t payload_type() const noexcept { return buffer_[1] & 0x7F; }
  [[nodiscard]] std::uint16_t sequence_number() const noexcept;
  [[nodiscard]] std::uint32_t timestamp() const noexcept;
  [[nodiscard]] std::uint32_t ssrc() const noexcept;

  // CSRCs stay in network byte order in the buffer and need not be 4-byte aligned, so they are
  // offered as their raw bytes plus an indexed accessor rather than as a span of uint32_t.
  [[nodiscard]] std::size_t csrc_count() const noexcept { return buffer_[0] & 0x0F; }
  [[nodiscard]] std::span<const std::uint8_t> csrc_bytes() const noexcept;
  // Precondition: index < csrc_count().
  [[nodiscard]] std::uint32_t csrc(std::size_t index) const noexcept;

  [[nodiscard]] ExtensionForm extension_form() const noexcept { return extension_form_; }
  [[nodiscard]] std::uint16_t extension_profile() const noexcept { return extension_profile_; }
  // The extension block's elements, after its 4-byte header (empty when there is none).
  [[nodiscard]] std::span<const std::uint8_t> extension_block() const noexcept;
  // RFC 8285: the data of the first element with local identifier `id`, if the block is in an
  // RFC 8285 form and carries it. Valid ids: 1..14 (one-byte form), 1..255 (two-byte form).
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> extension(std::uint8_t id) const noexcept;
  // The same element, writable: the SFU rewrites e.g. the transport-wide sequence number in place.
  [[nodiscard]] std::optional<std::span<std::uint8_t>> mutable_extension(std::uint8_t id) noexcept;

  // Fixed header + CSRCs + extension block: where the payload starts.
  [[nodiscard]] std::size_t header_size() const noexcept { return header_size_; }
  [[nodiscard]] std::span<const std::uint8_t> payload() const noexcept;
  [[nodiscard]] std::span<std::uint8_t> mutable_payload() noexcept;
  // RFC 3550 §5.1: P bit; the count in the last byte, which includes that byte itself.
  [[nodiscard]] std::size_t padding_size() const noexcept { return padding_size_; }
  [[nodiscard]] std::size_t size() const noexcept { return buffer_.size(); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return buffer_; }

  // SFU rewrite path: each changes exactly its own field's bytes, in network byte order.
  void set_marker(bool marker) noexcept;
  // false (and nothing changed) unless payload_type fits the 7-bit field.
  bool set_payload_type(std::uint8_t payload_type) noexcept;
  void set_sequence_number(std::uint16_t sequence_number) noexcept;
  void set_timestamp(std::uint32_t timestamp) noexcept;
  void set_ssrc(std::uint32_t ssrc) noexcept;

 private:
  explicit RtpPacket(std::span<std::uint8_t> buffer) noexcept : buffer_(buffer) {}

  // Offset and size of an element's data within buffer_.
  struct ElementLocation {
    std::size_t offset;
    std::size_t size;
  };
  [[nodiscard]] std::optional<ElementLocation> find_extension(std::uint8_t id) const noexcept;
  [[nodiscard]] std::optional<ElementLocation> find_one_byte_element(std::uint8_t id) const noexcept;
  [[nodiscard]] std::optional<ElementLocation> find_two_byte_element(std::uint8_t id) const noexcept;

  std::span<std::uint8_t> buffer_;
  std::size_t header_size_ = kFixedHeaderSize;
  std::size_t padding_size_ = 0;
  std::size_t extension_offset_ = 0;  // first element byte, after the 4-byte extension header
  std::size_t extension_size_ = 0;    // element bytes, a multiple of 4
  std::uint16_t extension_profile_ = 0;
  ExtensionForm extension_form_ = ExtensionForm::kNone;
};

// ---- Parsers for the header extensions a WebRTC-style SFU reads. Each takes the extension id
// negotiated in SDP (RFC 8285 §5 a=extmap) and returns nullopt when the packet does not carry it
// or the element's size is wrong for the extension.

// RFC 8843 §15 (urn:ietf:params:rtp-hdrext:sdes:mid) and RFC 8852 §3.3 (sdes:rtp-stream-id and
// sdes:repaired-rtp-stream-id): the SDES item's text, at least one byte. The view refers to the
// packet's buffer. RID values are RFC 8851 §10 rid-ids (alphanumerics, '-' and '_'); MID is any
// token, so only RID is checked for its charset.
[[nodiscard]] std::optional<std::string_view> read_mid(const RtpPacket& packet, std::uint8_t id) noexcept;
[[nodiscard]] std::optional<std::string_view> read_rid(const RtpPacket& packet, std::uint8_t id) noexcept;

// RFC 6464 §3 (urn:ietf:params:rtp-hdrext:ssrc-audio-level): V bit and level in -dBov.
struct AudioLevel {
  bool voice_activity = false;
  std::uint8_t level_dbov = 127;  // 0 (loudest) .. 127 (silence), the magnitude of -dBov
};
[[nodiscard]] std::optional<AudioLevel> read_audio_level(const RtpPacket& packet, std::uint8_t id) noexcept;

// http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time: 24 bits, 6.18 fixed-point seconds
// of the sender's clock, wrapping every 64 s.
struct AbsSendTime {
  static constexpr std::uint32_t kFractionBits = 18;
  std::uint32_t raw = 0;  // 0 .. 0xFFFFFF
  // The value as a duration within the 64 s wrap, rounded down to whole microseconds.
  [[nodiscard]] std::chrono::microseconds to_duration() const noexcept {
    return std::chrono::microseconds{(static_cast<std::uint64_t>(raw) * 1'000'000) >> kFractionBits};
  }
};
[[nodiscard]] std::optional<AbsSendTime> read_abs_send_time(const RtpPacket& packet, std::uint8_t id) noexcept;

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: a 16-bit transport-wide sequence number.
[[nodiscard]] std::optional<std::uint16_t> read_transport_sequence_number(const RtpPacket& packet,
                                                                          std::uint8_t id) noexcept;
// The SFU renumbers per outgoing transport: false when the packet has no such element of 2 bytes.
bool write_transport_sequence_number(RtpPacket& packet, std::uint8_t id, std::uint16_t value) noexcept;

}  // namespace chorus::media
