// Vp8Descriptor: a view over the VP8 payload descriptor (RFC 7741 §4.2) at the start of an RTP
// payload, and of the VP8 payload header that follows it on a frame's first packet (§4.3), so
// the SFU can find keyframes, follow picture ids and rewrite them without decoding.
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |X|R|N|S|R| PID |  (required)
//       +-+-+-+-+-+-+-+-+
//    X: |I|L|T|K| RSV   |  (present when X)
//       +-+-+-+-+-+-+-+-+
//    I: |M| PictureID   |  (present when I; M selects a 15-bit id and a second byte)
//       +-+-+-+-+-+-+-+-+
//       |   PictureID   |  (present when M)
//       +-+-+-+-+-+-+-+-+
//    L: |   TL0PICIDX   |  (present when L)
//       +-+-+-+-+-+-+-+-+
//  T/K: |TID|Y| KEYIDX  |  (present when T or K)
//       +-+-+-+-+-+-+-+-+
//
// parse() checks that every byte the flags announce is inside the payload and that at least one
// byte of VP8 data follows. Reserved bits are ignored (§4.2: receivers MUST ignore them) and the
// flag combinations are not policed beyond their lengths: a packet is either walkable or refused.
// Nothing is copied or allocated and nothing throws. The view refers to the caller's buffer.
//
// Threading: none of its own; a packet belongs to the media worker that received it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::sfu {

enum class Vp8Error : std::uint8_t {
  kEmpty,      // no payload at all
  kTruncated,  // a descriptor field the flags announce lies past the payload's end
  kNoPayload,  // a descriptor with no VP8 data after it (§4.2: the payload follows)
};
[[nodiscard]] std::string_view to_string(Vp8Error error) noexcept;

// RFC 7741 §4.2: the PictureID field is 7 or 15 bits wide on the wire (the M bit says which).
enum class PictureIdWidth : std::uint8_t { kNone, kSevenBit, kFifteenBit };

// RFC 6386 §9.1: the key frame's dimensions and its upscaling hint (0 = none, 1 = 5/4, 2 = 5/3,
// 3 = 2), from the 7 bytes after the 3-byte frame tag.
struct Vp8KeyframeInfo {
  std::uint16_t width = 0;  // 14 bits
  std::uint16_t height = 0;
  std::uint8_t horizontal_scale = 0;
  std::uint8_t vertical_scale = 0;

  bool operator==(const Vp8KeyframeInfo&) const = default;
};

class Vp8Descriptor {
 public:
  static constexpr std::size_t kMinSize = 1;
  static constexpr std::size_t kMaxSize = 6;  // required + X + 2 PictureID + TL0PICIDX + T/K
  static constexpr std::uint16_t kSevenBitPictureIdMask = 0x7F;
  static constexpr std::uint16_t kFifteenBitPictureIdMask = 0x7FFF;

  [[nodiscard]] static std::expected<Vp8Descriptor, Vp8Error> parse(std::span<const std::uint8_t> payload) noexcept;

  // Descriptor bytes: the VP8 payload (what the decoder gets) starts here.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::span<const std::uint8_t> vp8_payload() const noexcept { return payload_.subspan(size_); }

  [[nodiscard]] bool extended() const noexcept { return (payload_[0] & 0x80) != 0; }            // X
  [[nodiscard]] bool non_reference() const noexcept { return (payload_[0] & 0x20) != 0; }       // N
  [[nodiscard]] bool start_of_partition() const noexcept { return (payload_[0] & 0x10) != 0; }  // S
  [[nodiscard]] std::uint8_t partition_id() const noexcept { return payload_[0] & 0x07; }       // PID
  // §4.2: S=1 and PID=0 is the first packet of a frame; only it carries the payload header.
  [[nodiscard]] bool begins_frame() const noexcept { return start_of_partition() && partition_id() == 0; }

  [[nodiscard]] PictureIdWidth picture_id_width() const noexcept { return picture_id_width_; }
  [[nodiscard]] std::optional<std::uint16_t> picture_id() const noexcept;
  [[nodiscard]] std::optional<std::uint8_t> tl0_pic_idx() const noexcept;
  [[nodiscard]] std::optional<std::uint8_t> temporal_id() const noexcept;  // TID, when T
  [[nodiscard]] bool layer_sync() const noexcept;                          // Y, meaningful when T
  [[nodiscard]] std::optional<std::uint8_t> key_index() const noexcept;    // KEYIDX, when K

  // RFC 7741 §4.3 / RFC 6386 §9.1: the packet begins a key frame — it begins a frame, its payload
  // header's P bit (the inverted key-frame flag) is clear, and the key frame start code 9d 01 2a
  // is where §9.1 puts it. A P=0 header without the start code is a corrupt frame, not a keyframe.
  [[nodiscard]] bool is_keyframe() const noexcept { return keyframe_info().has_value(); }
  // The key frame's dimensions, when is_keyframe().
  [[nodiscard]] std::optional<Vp8KeyframeInfo> keyframe_info() const noexcept;

  // Where each optional field sits, from the payload's start (0 when absent): the rewriters use them.
  [[nodiscard]] std::size_t picture_id_offset() const noexcept { return picture_id_offset_; }
  [[nodiscard]] std::size_t tl0_pic_idx_offset() const noexcept { return tl0_pic_idx_offset_; }

 private:
  explicit Vp8Descriptor(std::span<const std::uint8_t> payload) noexcept : payload_(payload) {}

  std::span<const std::uint8_t> payload_;
  std::size_t size_ = kMinSize;
  std::size_t picture_id_offset_ = 0;
  std::size_t tl0_pic_idx_offset_ = 0;
  std::size_t tk_offset_ = 0;
  PictureIdWidth picture_id_width_ = PictureIdWidth::kNone;
  bool has_tid_ = false;
  bool has_key_index_ = false;
};

// In-place rewrites for the forwarding path. Each parses the descriptor at the start of
// `payload` and writes only its field's bits, keeping the field's width: a 7-bit PictureID
// receives picture_id mod 128, a 15-bit one picture_id mod 32768 (the M bit stays set). They
// return false, changing nothing, when the descriptor does not parse or lacks the field.
bool write_vp8_picture_id(std::span<std::uint8_t> payload, std::uint16_t picture_id) noexcept;
bool write_vp8_tl0_pic_idx(std::span<std::uint8_t> payload, std::uint8_t tl0_pic_idx) noexcept;

// What the video MCU's VP8 decoder may be given (issue 11): the descriptor parses, and a packet
// that begins a key frame (P bit clear, RFC 6386 §9.1) has the key frame start code and a picture
// of at most kMaxCameraWidth × kMaxCameraHeight (camera_limits.hpp): a 4K sender's frames are not
// decoded, and a "key frame" without its start code is a corrupt one.
[[nodiscard]] bool is_camera_vp8_payload(std::span<const std::uint8_t> payload) noexcept;

}  // namespace chorus::sfu
