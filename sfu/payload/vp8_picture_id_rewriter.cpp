#include "sfu/payload/vp8_picture_id_rewriter.hpp"

namespace chorus::sfu {

namespace {

constexpr std::uint16_t kPictureIdMask = Vp8Descriptor::kFifteenBitPictureIdMask;

// Serial-number order (as media/rtp/sequence.hpp's is_newer) in the 15-bit PictureID space.
bool is_newer_picture_id(std::uint16_t a, std::uint16_t b) {
  constexpr std::uint16_t kHalf = (kPictureIdMask + 1) / 2;
  const auto forward = static_cast<std::uint16_t>((a - b) & kPictureIdMask);
  if (forward == kHalf) return a > b;
  return forward != 0 && forward < kHalf;
}

// The same for 8-bit TL0PICIDX.
bool is_newer_tl0(std::uint8_t a, std::uint8_t b) {
  const auto forward = static_cast<std::uint8_t>(a - b);
  if (forward == 0x80) return a > b;
  return forward != 0 && forward < 0x80;
}

}  // namespace

std::expected<void, Vp8Error> Vp8PictureIdRewriter::rewrite(std::span<std::uint8_t> payload, bool switched) noexcept {
  const auto descriptor = Vp8Descriptor::parse(payload);
  if (!descriptor) return std::unexpected(descriptor.error());
  if (switched) {
    source_has_picture_id_ = false;
    source_has_tl0_ = false;
  }
  if (const auto picture_id = descriptor->picture_id()) {
    (void)write_vp8_picture_id(payload, map_picture_id(*picture_id, descriptor->picture_id_width()));
  }
  if (const auto tl0 = descriptor->tl0_pic_idx()) {
    (void)write_vp8_tl0_pic_idx(payload, map_tl0_pic_idx(*tl0));
  }
  return {};
}

std::uint16_t Vp8PictureIdRewriter::map_picture_id(std::uint16_t picture_id, PictureIdWidth width) noexcept {
  if (!source_has_picture_id_) {
    // A new source: continue the outgoing ids at last + 1 (the first stream keeps its own ids).
    source_has_picture_id_ = true;
    source_last_extended_ = picture_id;
    const auto first =
        have_picture_id_ ? static_cast<std::uint16_t>((last_picture_id_ + 1) & kPictureIdMask) : picture_id;
    picture_id_offset_ = static_cast<std::uint16_t>((first - picture_id) & kPictureIdMask);
  }
  // Place the id nearest the newest one seen, in its own field's modulus (128 or 32768), so a
  // 7-bit source's wrap from 127 to 0 is a step of one and a reordered packet a step back.
  const std::int64_t modulus = width == PictureIdWidth::kSevenBit ? 128 : 32768;
  std::int64_t forward = (static_cast<std::int64_t>(picture_id) - source_last_extended_) % modulus;
  if (forward < 0) forward += modulus;
  const std::int64_t delta = forward < modulus / 2 ? forward : forward - modulus;
  const std::int64_t extended = source_last_extended_ + delta;
  if (delta > 0) source_last_extended_ = extended;

  const auto out = static_cast<std::uint16_t>((extended + picture_id_offset_) & kPictureIdMask);
  if (!have_picture_id_ || is_newer_picture_id(out, last_picture_id_)) last_picture_id_ = out;
  have_picture_id_ = true;
  return out;
}

std::uint8_t Vp8PictureIdRewriter::map_tl0_pic_idx(std::uint8_t tl0_pic_idx) noexcept {
  if (!source_has_tl0_) {
    // The switch point is a keyframe, which starts a new base-layer picture: last + 1.
    source_has_tl0_ = true;
    const auto first = have_tl0_ ? static_cast<std::uint8_t>(last_tl0_ + 1) : tl0_pic_idx;
    tl0_offset_ = static_cast<std::uint8_t>(first - tl0_pic_idx);
  }
  const auto out = static_cast<std::uint8_t>(tl0_pic_idx + tl0_offset_);
  if (!have_tl0_ || is_newer_tl0(out, last_tl0_)) last_tl0_ = out;
  have_tl0_ = true;
  return out;
}

std::optional<std::uint16_t> Vp8PictureIdRewriter::last_picture_id() const noexcept {
  if (!have_picture_id_) return std::nullopt;
  return last_picture_id_;
}

std::optional<std::uint8_t> Vp8PictureIdRewriter::last_tl0_pic_idx() const noexcept {
  if (!have_tl0_) return std::nullopt;
  return last_tl0_;
}

}  // namespace chorus::sfu
