// libFuzzer target for Vp8Descriptor (sfu/payload), the VP8 payload descriptor (RFC 7741 §4.2)
// the SFU reads and rewrites on every forwarded VP8 packet.
//
//   make fuzz-build && build-fuzz/bin/vp8_descriptor_fuzz -max_total_time=60 fuzz/seeds/vp8_descriptor_fuzz
//
// Besides crashes and out-of-bounds reads or writes it checks, for every payload that parses:
//   - the layout adds up: 1 <= size <= kMaxSize, at least one VP8 byte after it, each optional
//     field's offset inside the descriptor, and keyframe_info only on a frame's first packet;
//   - the in-place rewrites change only their own field's bytes (and keep the M bit), read back
//     as written mod the field's width, and leave a descriptor of the same layout;
//   - Vp8PictureIdRewriter, switched or not, keeps the layout and changes at most those bytes;
//   - a payload that does not parse is refused by the rewriters without a change.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sfu/payload/vp8_descriptor.hpp"
#include "sfu/payload/vp8_picture_id_rewriter.hpp"

namespace {

using namespace chorus::sfu;

void check(bool condition) {
  if (!condition) std::abort();
}

// The bytes a rewrite of the picture id and TL0PICIDX may touch.
bool rewritable(const Vp8Descriptor& descriptor, std::size_t i) {
  const std::size_t picture_id = descriptor.picture_id_offset();
  if (descriptor.picture_id_width() != PictureIdWidth::kNone && i == picture_id) return true;
  if (descriptor.picture_id_width() == PictureIdWidth::kFifteenBit && i == picture_id + 1) return true;
  return descriptor.tl0_pic_idx_offset() != 0 && i == descriptor.tl0_pic_idx_offset();
}

void check_same_layout(const Vp8Descriptor& before, std::span<const std::uint8_t> bytes) {
  const auto after = Vp8Descriptor::parse(bytes);
  check(after.has_value());
  check(after->size() == before.size() && after->picture_id_width() == before.picture_id_width());
  check(after->picture_id_offset() == before.picture_id_offset());
  check(after->tl0_pic_idx_offset() == before.tl0_pic_idx_offset());
  check(after->temporal_id() == before.temporal_id() && after->key_index() == before.key_index());
  check(after->is_keyframe() == before.is_keyframe());
}

void check_only_fields_changed(const Vp8Descriptor& descriptor, const std::vector<std::uint8_t>& before,
                               const std::vector<std::uint8_t>& after) {
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (!rewritable(descriptor, i)) check(before[i] == after[i]);
  }
}

void check_layout(const Vp8Descriptor& descriptor, std::span<const std::uint8_t> payload) {
  check(descriptor.size() >= Vp8Descriptor::kMinSize && descriptor.size() <= Vp8Descriptor::kMaxSize);
  check(descriptor.size() < payload.size());
  check(descriptor.vp8_payload().size() == payload.size() - descriptor.size());
  check(descriptor.picture_id_offset() < descriptor.size() && descriptor.tl0_pic_idx_offset() < descriptor.size());
  if (const auto info = descriptor.keyframe_info()) {
    check(descriptor.begins_frame() && descriptor.vp8_payload().size() >= 10);
    check(info->width <= 0x3FFF && info->height <= 0x3FFF && info->horizontal_scale <= 3);
  }
  if (const auto id = descriptor.picture_id()) {
    check(*id <= (descriptor.picture_id_width() == PictureIdWidth::kSevenBit ? 0x7F : 0x7FFF));
  }
  check(descriptor.partition_id() <= 7);
  if (const auto tid = descriptor.temporal_id()) check(*tid <= 3);
  if (const auto key_index = descriptor.key_index()) check(*key_index <= 31);
}

void check_rewrites(std::vector<std::uint8_t>& buffer, const Vp8Descriptor& descriptor, std::uint16_t value) {
  const std::vector<std::uint8_t> before = buffer;
  const bool wrote_id = write_vp8_picture_id(buffer, value);
  check(wrote_id == (descriptor.picture_id_width() != PictureIdWidth::kNone));
  const bool wrote_tl0 = write_vp8_tl0_pic_idx(buffer, static_cast<std::uint8_t>(value >> 3));
  check(wrote_tl0 == (descriptor.tl0_pic_idx_offset() != 0));
  check_only_fields_changed(descriptor, before, buffer);
  check_same_layout(descriptor, buffer);
  const auto after = Vp8Descriptor::parse(buffer);
  if (wrote_id) {
    const std::uint16_t mask = descriptor.picture_id_width() == PictureIdWidth::kSevenBit ? 0x7F : 0x7FFF;
    check(after->picture_id() == (value & mask));
  }
  if (wrote_tl0) check(after->tl0_pic_idx() == static_cast<std::uint8_t>(value >> 3));

  // The continuity rewriter on the same packet twice: a first source, then a switch.
  Vp8PictureIdRewriter rewriter;
  check(rewriter.rewrite(buffer, false).has_value());
  check(rewriter.rewrite(buffer, true).has_value());
  check_only_fields_changed(descriptor, before, buffer);
  check_same_layout(descriptor, buffer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: ASan then flags any access one byte past the payload.
  std::vector<std::uint8_t> buffer(data, data + size);
  const auto descriptor = Vp8Descriptor::parse(buffer);
  if (!descriptor) {
    const std::vector<std::uint8_t> before = buffer;
    check(!write_vp8_picture_id(buffer, 1) && !write_vp8_tl0_pic_idx(buffer, 1));
    Vp8PictureIdRewriter rewriter;
    check(!rewriter.rewrite(buffer, true).has_value());
    check(buffer == before);
    check(!to_string(descriptor.error()).empty());
    return 0;
  }
  check_layout(*descriptor, buffer);
  const std::uint16_t value = size >= 2 ? static_cast<std::uint16_t>((data[size - 1] << 8) | data[size - 2]) : 0;
  // The view refers to `buffer`; rewrites go to a copy so `descriptor` keeps describing the input.
  std::vector<std::uint8_t> copy = buffer;
  check_rewrites(copy, *descriptor, value);
  return 0;
}
