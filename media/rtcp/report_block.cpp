#include "media/rtcp/report_block.hpp"

#include <algorithm>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

ReportBlock ReportBlock::parse(std::span<const std::uint8_t> data) {
  ReportBlock block;
  block.source_ssrc = read_u32(data, 0);
  block.fraction_lost = data[4];
  block.cumulative_lost = sign_extend(read_u24(data, 5), 24);
  block.extended_highest_sequence = read_u32(data, 8);
  block.jitter = read_u32(data, 12);
  block.last_sr = read_u32(data, 16);
  block.delay_since_last_sr = read_u32(data, 20);
  return block;
}

bool ReportBlock::write(std::span<std::uint8_t> out) const {
  if (out.size() < kSize) return false;
  write_u32(out, 0, source_ssrc);
  out[4] = fraction_lost;
  const std::int32_t lost = std::clamp(cumulative_lost, kMinCumulativeLost, kMaxCumulativeLost);
  write_u24(out, 5, static_cast<std::uint32_t>(lost) & 0xFFFFFF);
  write_u32(out, 8, extended_highest_sequence);
  write_u32(out, 12, jitter);
  write_u32(out, 16, last_sr);
  write_u32(out, 20, delay_since_last_sr);
  return true;
}

std::optional<std::vector<ReportBlock>> parse_report_blocks(std::span<const std::uint8_t> data, std::size_t count) {
  if (data.size() / ReportBlock::kSize < count) return std::nullopt;
  std::vector<ReportBlock> blocks;
  blocks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) blocks.push_back(ReportBlock::parse(data.subspan(i * ReportBlock::kSize)));
  return blocks;
}

}  // namespace chorus::media::rtcp
