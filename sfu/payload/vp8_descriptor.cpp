#include "sfu/payload/vp8_descriptor.hpp"

#include "sfu/payload/camera_limits.hpp"

namespace chorus::sfu {

namespace {

constexpr std::uint8_t kXBit = 0x80;  // required byte: extended control bits present
constexpr std::uint8_t kIBit = 0x80;  // X byte: PictureID present
constexpr std::uint8_t kLBit = 0x40;  // X byte: TL0PICIDX present
constexpr std::uint8_t kTBit = 0x20;  // X byte: TID and Y valid
constexpr std::uint8_t kKBit = 0x10;  // X byte: KEYIDX valid
constexpr std::uint8_t kMBit = 0x80;  // first PictureID byte: the id is 15 bits

// RFC 6386 §9.1: the 3-byte frame tag (P bit = inverted key-frame flag, bit 0 of byte 0), then on
// key frames the start code and two 16-bit little-endian size fields.
constexpr std::size_t kFrameTagSize = 3;
constexpr std::uint8_t kInterFrameBit = 0x01;
constexpr std::uint8_t kStartCode[] = {0x9D, 0x01, 0x2A};
constexpr std::size_t kKeyframeHeaderSize = kFrameTagSize + sizeof(kStartCode) + 4;

}  // namespace

std::string_view to_string(Vp8Error error) noexcept {
  switch (error) {
    case Vp8Error::kEmpty:
      return "empty VP8 payload";
    case Vp8Error::kTruncated:
      return "VP8 payload descriptor truncated";
    case Vp8Error::kNoPayload:
      return "VP8 payload descriptor without VP8 data";
  }
  return "unknown VP8 error";
}

std::expected<Vp8Descriptor, Vp8Error> Vp8Descriptor::parse(std::span<const std::uint8_t> payload) noexcept {
  if (payload.empty()) return std::unexpected(Vp8Error::kEmpty);
  Vp8Descriptor descriptor{payload};
  std::size_t at = 1;
  if ((payload[0] & kXBit) != 0) {
    if (at >= payload.size()) return std::unexpected(Vp8Error::kTruncated);
    const std::uint8_t flags = payload[at++];
    if ((flags & kIBit) != 0) {
      if (at >= payload.size()) return std::unexpected(Vp8Error::kTruncated);
      descriptor.picture_id_offset_ = at;
      const bool fifteen_bit = (payload[at] & kMBit) != 0;
      descriptor.picture_id_width_ = fifteen_bit ? PictureIdWidth::kFifteenBit : PictureIdWidth::kSevenBit;
      at += fifteen_bit ? 2 : 1;
    }
    if ((flags & kLBit) != 0) {
      if (at >= payload.size()) return std::unexpected(Vp8Error::kTruncated);
      descriptor.tl0_pic_idx_offset_ = at++;
    }
    // §4.2: one T/K byte carries TID/Y when T is set and KEYIDX when K is set.
    if ((flags & (kTBit | kKBit)) != 0) {
      if (at >= payload.size()) return std::unexpected(Vp8Error::kTruncated);
      descriptor.tk_offset_ = at++;
      descriptor.has_tid_ = (flags & kTBit) != 0;
      descriptor.has_key_index_ = (flags & kKBit) != 0;
    }
    // A 15-bit PictureID's second byte may be the one that overran.
    if (at > payload.size()) return std::unexpected(Vp8Error::kTruncated);
  }
  if (at >= payload.size()) return std::unexpected(Vp8Error::kNoPayload);
  descriptor.size_ = at;
  return descriptor;
}

std::optional<std::uint16_t> Vp8Descriptor::picture_id() const noexcept {
  switch (picture_id_width_) {
    case PictureIdWidth::kNone:
      return std::nullopt;
    case PictureIdWidth::kSevenBit:
      return static_cast<std::uint16_t>(payload_[picture_id_offset_] & kSevenBitPictureIdMask);
    case PictureIdWidth::kFifteenBit:
      return static_cast<std::uint16_t>(((payload_[picture_id_offset_] << 8) | payload_[picture_id_offset_ + 1]) &
                                        kFifteenBitPictureIdMask);
  }
  return std::nullopt;
}

std::optional<std::uint8_t> Vp8Descriptor::tl0_pic_idx() const noexcept {
  if (tl0_pic_idx_offset_ == 0) return std::nullopt;
  return payload_[tl0_pic_idx_offset_];
}

std::optional<std::uint8_t> Vp8Descriptor::temporal_id() const noexcept {
  if (!has_tid_) return std::nullopt;
  return static_cast<std::uint8_t>(payload_[tk_offset_] >> 6);
}

bool Vp8Descriptor::layer_sync() const noexcept {
  return has_tid_ && (payload_[tk_offset_] & 0x20) != 0;
}

std::optional<std::uint8_t> Vp8Descriptor::key_index() const noexcept {
  if (!has_key_index_) return std::nullopt;
  return static_cast<std::uint8_t>(payload_[tk_offset_] & 0x1F);
}

std::optional<Vp8KeyframeInfo> Vp8Descriptor::keyframe_info() const noexcept {
  if (!begins_frame()) return std::nullopt;
  const auto header = vp8_payload();
  if (header.size() < kKeyframeHeaderSize || (header[0] & kInterFrameBit) != 0) return std::nullopt;
  for (std::size_t i = 0; i < sizeof(kStartCode); ++i) {
    if (header[kFrameTagSize + i] != kStartCode[i]) return std::nullopt;
  }
  const std::size_t at = kFrameTagSize + sizeof(kStartCode);
  const auto horizontal = static_cast<std::uint16_t>(header[at] | (header[at + 1] << 8));
  const auto vertical = static_cast<std::uint16_t>(header[at + 2] | (header[at + 3] << 8));
  return Vp8KeyframeInfo{
      .width = static_cast<std::uint16_t>(horizontal & 0x3FFF),
      .height = static_cast<std::uint16_t>(vertical & 0x3FFF),
      .horizontal_scale = static_cast<std::uint8_t>(horizontal >> 14),
      .vertical_scale = static_cast<std::uint8_t>(vertical >> 14),
  };
}

bool write_vp8_picture_id(std::span<std::uint8_t> payload, std::uint16_t picture_id) noexcept {
  const auto descriptor = Vp8Descriptor::parse(payload);
  if (!descriptor) return false;
  const std::size_t at = descriptor->picture_id_offset();
  switch (descriptor->picture_id_width()) {
    case PictureIdWidth::kNone:
      return false;
    case PictureIdWidth::kSevenBit:
      // The M bit is clear for a 7-bit id; writing the low 7 bits keeps it so.
      payload[at] = static_cast<std::uint8_t>(picture_id & Vp8Descriptor::kSevenBitPictureIdMask);
      return true;
    case PictureIdWidth::kFifteenBit:
      payload[at] = static_cast<std::uint8_t>(kMBit | ((picture_id >> 8) & 0x7F));
      payload[at + 1] = static_cast<std::uint8_t>(picture_id);
      return true;
  }
  return false;
}

bool write_vp8_tl0_pic_idx(std::span<std::uint8_t> payload, std::uint8_t tl0_pic_idx) noexcept {
  const auto descriptor = Vp8Descriptor::parse(payload);
  if (!descriptor || descriptor->tl0_pic_idx_offset() == 0) return false;
  payload[descriptor->tl0_pic_idx_offset()] = tl0_pic_idx;
  return true;
}

bool is_camera_vp8_payload(std::span<const std::uint8_t> payload) noexcept {
  const auto descriptor = Vp8Descriptor::parse(payload);
  if (!descriptor) return false;
  const auto vp8 = descriptor->vp8_payload();
  const bool claims_keyframe = descriptor->begins_frame() && !vp8.empty() && (vp8[0] & 0x01) == 0;
  if (!claims_keyframe) return true;
  const auto keyframe = descriptor->keyframe_info();
  return keyframe && keyframe->width <= kMaxCameraWidth && keyframe->height <= kMaxCameraHeight;
}

}  // namespace chorus::sfu
