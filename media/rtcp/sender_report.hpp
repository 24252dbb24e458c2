// SenderReport (SR, PT 200) and ReceiverReport (RR, PT 201): RFC 3550 §6.4.1 and §6.4.2.
// Parsed values are copies; profile-specific extensions after the report blocks are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/report_block.hpp"
#include "media/rtcp/rtcp_header.hpp"

namespace chorus::media::rtcp {

struct SenderReport {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t ntp_seconds = 0;   // NTP timestamp, most significant word
  std::uint32_t ntp_fraction = 0;  // NTP timestamp, least significant word
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31 (5-bit RC)

  // nullopt unless `header` is an SR whose body holds sender info and RC report blocks.
  static std::optional<SenderReport> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kHeaderSize + 24 + report_blocks.size() * ReportBlock::kSize; }
  // Octets written, or nullopt when `out` is too small or there are more than 31 blocks.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const SenderReport&) const = default;
};

struct ReceiverReport {
  std::uint32_t sender_ssrc = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31 (5-bit RC)

  static std::optional<ReceiverReport> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kHeaderSize + 4 + report_blocks.size() * ReportBlock::kSize; }
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const ReceiverReport&) const = default;
};

}  // namespace chorus::media::rtcp
