// ReportBlock: one reception report block of an SR or RR (RFC 3550 §6.4.1), 24 octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace chorus::media::rtcp {

struct ReportBlock {
  static constexpr std::size_t kSize = 24;
  // RFC 3550 §6.4.1: cumulative number of packets lost is a 24-bit signed field.
  static constexpr std::int32_t kMaxCumulativeLost = 0x7FFFFF;
  static constexpr std::int32_t kMinCumulativeLost = -0x800000;

  std::uint32_t source_ssrc = 0;
  std::uint8_t fraction_lost = 0;  // fixed point, lost / expected * 256
  std::int32_t cumulative_lost = 0;
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;               // RTP timestamp units
  std::uint32_t last_sr = 0;              // LSR: middle 32 bits of the last SR's NTP timestamp
  std::uint32_t delay_since_last_sr = 0;  // DLSR: units of 1/65536 s

  // `data` must hold at least kSize octets.
  static ReportBlock parse(std::span<const std::uint8_t> data);
  // Writes kSize octets; false when `out` is shorter. The cumulative lost is clamped to 24 bits.
  bool write(std::span<std::uint8_t> out) const;

  bool operator==(const ReportBlock&) const = default;
};

// Parses `count` consecutive blocks at the front of `data`; nullopt when they do not fit.
std::optional<std::vector<ReportBlock>> parse_report_blocks(std::span<const std::uint8_t> data, std::size_t count);

}  // namespace chorus::media::rtcp
