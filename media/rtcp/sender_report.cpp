#include "media/rtcp/sender_report.hpp"

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {

// RFC 3550 §6.4.1: SSRC of sender, NTP timestamp (2 words), RTP timestamp, packet and octet counts.
constexpr std::size_t kSenderInfoSize = 24;

bool write_blocks(const std::vector<ReportBlock>& blocks, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!blocks[i].write(out.subspan(i * ReportBlock::kSize))) return false;
  }
  return true;
}

}  // namespace

std::optional<SenderReport> SenderReport::parse(const RtcpHeader& header) {
  if (!header.is(PacketType::kSr)) return std::nullopt;
  const auto body = header.body();
  if (body.size() < kSenderInfoSize) return std::nullopt;
  auto blocks = parse_report_blocks(body.subspan(kSenderInfoSize), header.count());
  if (!blocks) return std::nullopt;
  SenderReport sr;
  sr.sender_ssrc = read_u32(body, 0);
  sr.ntp_seconds = read_u32(body, 4);
  sr.ntp_fraction = read_u32(body, 8);
  sr.rtp_timestamp = read_u32(body, 12);
  sr.packet_count = read_u32(body, 16);
  sr.octet_count = read_u32(body, 20);
  sr.report_blocks = std::move(*blocks);
  return sr;
}

std::optional<std::size_t> SenderReport::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (report_blocks.size() > kMaxCount || out.size() < total) return std::nullopt;
  if (!write_header(out, static_cast<std::uint8_t>(report_blocks.size()), static_cast<std::uint8_t>(PacketType::kSr),
                    total)) {
    return std::nullopt;
  }
  write_u32(out, 4, sender_ssrc);
  write_u32(out, 8, ntp_seconds);
  write_u32(out, 12, ntp_fraction);
  write_u32(out, 16, rtp_timestamp);
  write_u32(out, 20, packet_count);
  write_u32(out, 24, octet_count);
  if (!write_blocks(report_blocks, out.subspan(kHeaderSize + kSenderInfoSize))) return std::nullopt;
  return total;
}

std::optional<ReceiverReport> ReceiverReport::parse(const RtcpHeader& header) {
  if (!header.is(PacketType::kRr)) return std::nullopt;
  const auto body = header.body();
  if (body.size() < 4) return std::nullopt;
  auto blocks = parse_report_blocks(body.subspan(4), header.count());
  if (!blocks) return std::nullopt;
  return ReceiverReport{read_u32(body, 0), std::move(*blocks)};
}

std::optional<std::size_t> ReceiverReport::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (report_blocks.size() > kMaxCount || out.size() < total) return std::nullopt;
  if (!write_header(out, static_cast<std::uint8_t>(report_blocks.size()), static_cast<std::uint8_t>(PacketType::kRr),
                    total)) {
    return std::nullopt;
  }
  write_u32(out, 4, sender_ssrc);
  if (!write_blocks(report_blocks, out.subspan(kHeaderSize + 4))) return std::nullopt;
  return total;
}

}  // namespace chorus::media::rtcp
