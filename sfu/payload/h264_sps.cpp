#include "sfu/payload/h264_sps.hpp"

#include <optional>

namespace chorus::sfu {

namespace {

// Reads RBSP bits MSB first, dropping each emulation_prevention_three_byte (§7.4.1: a 0x03 after
// two zero bytes) as it goes. Reads past the end yield nullopt and keep doing so.
class RbspBitReader {
 public:
  explicit RbspBitReader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  std::optional<std::uint32_t> bits(unsigned count) noexcept {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < count; ++i) {
      const auto bit = next_bit();
      if (!bit) return std::nullopt;
      value = (value << 1) | *bit;
    }
    return value;
  }

  std::optional<bool> flag() noexcept {
    const auto bit = next_bit();
    if (!bit) return std::nullopt;
    return *bit != 0;
  }

  // §9.1 ue(v): leading zeros, a one, then as many bits. 32 or more zeros exceed 32 bits.
  std::optional<std::uint32_t> ue() noexcept {
    unsigned zeros = 0;
    for (;;) {
      const auto bit = next_bit();
      if (!bit) return std::nullopt;
      if (*bit != 0) break;
      if (++zeros > kMaxLeadingZeros) {
        invalid_ = true;
        return std::nullopt;
      }
    }
    const auto suffix = bits(zeros);
    if (!suffix) return std::nullopt;
    return static_cast<std::uint32_t>((std::uint64_t{1} << zeros) - 1 + *suffix);
  }

  // §9.1.1 se(v): k → (−1)^(k+1) Ceil(k ÷ 2).
  std::optional<std::int64_t> se() noexcept {
    const auto k = ue();
    if (!k) return std::nullopt;
    const auto magnitude = static_cast<std::int64_t>((std::uint64_t{*k} + 1) / 2);
    return (*k % 2 == 1) ? magnitude : -magnitude;
  }

  [[nodiscard]] bool failed() const noexcept { return failed_; }  // ran out of bits
  [[nodiscard]] bool ok() const noexcept { return !failed_ && !invalid_; }

 private:
  static constexpr unsigned kMaxLeadingZeros = 31;

  std::optional<std::uint32_t> next_bit() noexcept {
    if (bit_ == 0) {
      if (!load_byte()) {
        failed_ = true;
        return std::nullopt;
      }
    }
    --bit_;
    return (current_ >> bit_) & 1U;
  }

  bool load_byte() noexcept {
    if (at_ < bytes_.size() && zeros_ >= 2 && bytes_[at_] == 0x03) {
      ++at_;
      zeros_ = 0;
    }
    if (at_ >= bytes_.size()) return false;
    current_ = bytes_[at_++];
    zeros_ = current_ == 0 ? zeros_ + 1 : 0;
    bit_ = 8;
    return true;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
  unsigned zeros_ = 0;
  std::uint8_t current_ = 0;
  unsigned bit_ = 0;
  bool failed_ = false;
  bool invalid_ = false;  // an Exp-Golomb code too long for 32 bits
};

// §7.3.2.1.1: profiles whose SPS carries chroma format, bit depths and scaling matrices.
bool has_chroma_fields(std::uint8_t profile_idc) {
  constexpr std::uint8_t kProfiles[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
  for (const std::uint8_t profile : kProfiles) {
    if (profile == profile_idc) return true;
  }
  return false;
}

// §7.3.2.1.1.1 scaling_list(): only walked, its values are not needed.
bool skip_scaling_list(RbspBitReader& reader, unsigned size) {
  std::int64_t last_scale = 8;
  std::int64_t next_scale = 8;
  for (unsigned j = 0; j < size; ++j) {
    if (next_scale != 0) {
      const auto delta = reader.se();
      if (!delta || *delta < -128 || *delta > 127) return false;
      next_scale = (last_scale + *delta + 256) % 256;
    }
    if (next_scale != 0) last_scale = next_scale;
  }
  return true;
}

// The chroma fields of the high profiles; false when truncated or out of range.
bool read_chroma_fields(RbspBitReader& reader, H264SpsInfo& info, bool& separate_colour_plane) {
  const auto chroma_format_idc = reader.ue();
  if (!chroma_format_idc || *chroma_format_idc > 3) return false;
  info.chroma_format_idc = static_cast<std::uint8_t>(*chroma_format_idc);
  if (info.chroma_format_idc == 3) {
    const auto separate = reader.flag();
    if (!separate) return false;
    separate_colour_plane = *separate;
  }
  const auto bit_depth_luma_minus8 = reader.ue();
  const auto bit_depth_chroma_minus8 = reader.ue();
  if (!bit_depth_luma_minus8 || *bit_depth_luma_minus8 > 6) return false;
  if (!bit_depth_chroma_minus8 || *bit_depth_chroma_minus8 > 6) return false;
  (void)reader.flag();  // qpprime_y_zero_transform_bypass_flag
  const auto scaling_matrix_present = reader.flag();
  if (!scaling_matrix_present) return false;
  if (*scaling_matrix_present) {
    const unsigned lists = info.chroma_format_idc != 3 ? 8 : 12;
    for (unsigned i = 0; i < lists; ++i) {
      const auto present = reader.flag();
      if (!present) return false;
      if (*present && !skip_scaling_list(reader, i < 6 ? 16 : 64)) return false;
    }
  }
  return true;
}

// §7.3.2.1.1 from log2_max_frame_num_minus4 to max_num_ref_frames' flag.
bool skip_frame_numbering(RbspBitReader& reader) {
  const auto log2_max_frame_num_minus4 = reader.ue();
  if (!log2_max_frame_num_minus4 || *log2_max_frame_num_minus4 > 12) return false;
  const auto pic_order_cnt_type = reader.ue();
  if (!pic_order_cnt_type || *pic_order_cnt_type > 2) return false;
  if (*pic_order_cnt_type == 0) {
    const auto log2_max_poc_lsb_minus4 = reader.ue();
    if (!log2_max_poc_lsb_minus4 || *log2_max_poc_lsb_minus4 > 12) return false;
  } else if (*pic_order_cnt_type == 1) {
    (void)reader.flag();  // delta_pic_order_always_zero_flag
    (void)reader.se();    // offset_for_non_ref_pic
    (void)reader.se();    // offset_for_top_to_bottom_field
    const auto cycle = reader.ue();
    if (!cycle || *cycle > 255) return false;
    for (std::uint32_t i = 0; i < *cycle; ++i) (void)reader.se();  // offset_for_ref_frame[i]
  }
  (void)reader.ue();    // max_num_ref_frames
  (void)reader.flag();  // gaps_in_frame_num_value_allowed_flag
  return reader.ok();
}

}  // namespace

std::expected<H264SpsInfo, H264Error> parse_h264_sps(std::span<const std::uint8_t> nal_unit) noexcept {
  if (nal_unit.empty() || h264_nal_type(nal_unit[0]) != H264NalType::kSps) return std::unexpected(H264Error::kNotSps);
  RbspBitReader reader{nal_unit.subspan(1)};
  H264SpsInfo info;
  const auto profile_idc = reader.bits(8);
  const auto constraint_flags = reader.bits(8);
  const auto level_idc = reader.bits(8);
  const auto sps_id = reader.ue();
  // Each failure is told apart by whether the reader ran out of bits or met an out-of-range value.
  const auto fail = [&reader] {
    return std::unexpected(reader.failed() ? H264Error::kTruncatedSps : H264Error::kInvalidSps);
  };
  if (!profile_idc || !constraint_flags || !level_idc || !sps_id) return fail();
  if (*sps_id > 31) return std::unexpected(H264Error::kInvalidSps);
  info.profile_idc = static_cast<std::uint8_t>(*profile_idc);
  info.constraint_flags = static_cast<std::uint8_t>(*constraint_flags);
  info.level_idc = static_cast<std::uint8_t>(*level_idc);
  info.sps_id = static_cast<std::uint8_t>(*sps_id);

  bool separate_colour_plane = false;
  if (has_chroma_fields(info.profile_idc) && !read_chroma_fields(reader, info, separate_colour_plane)) return fail();
  if (!skip_frame_numbering(reader)) return fail();

  const auto width_in_mbs_minus1 = reader.ue();
  const auto height_in_map_units_minus1 = reader.ue();
  const auto frame_mbs_only = reader.flag();
  if (!width_in_mbs_minus1 || !height_in_map_units_minus1 || !frame_mbs_only) return fail();
  if (!*frame_mbs_only) (void)reader.flag();  // mb_adaptive_frame_field_flag
  (void)reader.flag();                        // direct_8x8_inference_flag
  const auto cropping = reader.flag();
  if (!cropping || !reader.ok()) return fail();
  std::uint64_t crop[4] = {0, 0, 0, 0};  // left, right, top, bottom
  if (*cropping) {
    for (auto& offset : crop) {
      const auto value = reader.ue();
      if (!value) return fail();
      offset = *value;
    }
  }

  // §7.4.2.1.1: frame size in macroblocks, then the crop in units of CropUnitX/CropUnitY.
  const std::uint64_t field_factor = *frame_mbs_only ? 1 : 2;
  const std::uint64_t width = (std::uint64_t{*width_in_mbs_minus1} + 1) * 16;
  const std::uint64_t height = (std::uint64_t{*height_in_map_units_minus1} + 1) * 16 * field_factor;
  const unsigned chroma_array_type = separate_colour_plane ? 0 : info.chroma_format_idc;
  const std::uint64_t sub_width = (chroma_array_type == 1 || chroma_array_type == 2) ? 2 : 1;
  const std::uint64_t sub_height = chroma_array_type == 1 ? 2 : 1;
  const std::uint64_t crop_unit_x = chroma_array_type == 0 ? 1 : sub_width;
  const std::uint64_t crop_unit_y = (chroma_array_type == 0 ? 1 : sub_height) * field_factor;
  const std::uint64_t crop_x = (crop[0] + crop[1]) * crop_unit_x;
  const std::uint64_t crop_y = (crop[2] + crop[3]) * crop_unit_y;
  if (width > H264SpsInfo::kMaxDimension * 2 || height > H264SpsInfo::kMaxDimension * 2) {
    return std::unexpected(H264Error::kInvalidSps);
  }
  if (crop_x >= width || crop_y >= height) return std::unexpected(H264Error::kInvalidSps);
  info.width = static_cast<std::uint32_t>(width - crop_x);
  info.height = static_cast<std::uint32_t>(height - crop_y);
  if (info.width > H264SpsInfo::kMaxDimension || info.height > H264SpsInfo::kMaxDimension) {
    return std::unexpected(H264Error::kInvalidSps);
  }
  return info;
}

}  // namespace chorus::sfu
