// Tmmbr and Tmmbn: temporary maximum media stream bit rate request and notification, RTPFB FMT 3
// and 4 (RFC 5104 §4.2.1, §4.2.2). The media source SSRC is unused and written as 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/feedback.hpp"

namespace chorus::media::rtcp {

// RFC 5104 §4.2.1.1: SSRC, then MxTBR exponent (6 bits), mantissa (17 bits), measured overhead (9 bits).
struct TmmbItem {
  static constexpr std::size_t kSize = 8;
  static constexpr unsigned kMantissaBits = 17;
  static constexpr std::uint16_t kMaxOverhead = 511;

  std::uint32_t ssrc = 0;
  std::uint64_t bitrate_bps = 0;  // written rounded down to what 17 bits of mantissa can hold
  std::uint16_t overhead = 0;     // octets per packet, 9 bits

  bool operator==(const TmmbItem&) const = default;
};

struct Tmmbr {
  std::uint32_t sender_ssrc = 0;
  std::vector<TmmbItem> items;

  // nullopt unless the FCI holds at least one whole entry with a bitrate that fits 64 bits.
  static std::optional<Tmmbr> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize + items.size() * TmmbItem::kSize; }
  // nullopt when `out` is too small, there are no items or an overhead exceeds 511.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Tmmbr&) const = default;
};

struct Tmmbn {
  std::uint32_t sender_ssrc = 0;
  std::vector<TmmbItem> items;  // RFC 5104 §4.2.2.2: may be empty (no bounding set)

  static std::optional<Tmmbn> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize + items.size() * TmmbItem::kSize; }
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Tmmbn&) const = default;
};

}  // namespace chorus::media::rtcp
