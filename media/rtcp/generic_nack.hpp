// GenericNack: RTPFB FMT 1 (RFC 4585 §6.2.1). Each FCI entry names a lost packet (PID) and a
// bitmask of the 16 following ones (BLP: bit i set means PID + i + 1 is lost too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/feedback.hpp"

namespace chorus::media::rtcp {

struct NackItem {
  std::uint16_t pid = 0;
  std::uint16_t blp = 0;

  bool operator==(const NackItem&) const = default;
};

struct GenericNack {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::vector<NackItem> items;

  // nullopt unless the FCI holds at least one whole PID/BLP pair (RFC 4585 §6.2.1: one or more).
  static std::optional<GenericNack> parse(const RtcpHeader& header);
  // Packs `lost` (in sending order, wrapping allowed) into as few PID/BLP pairs as it can.
  static GenericNack from_lost(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                               std::span<const std::uint16_t> lost);
  // Every sequence number the items name, in item order.
  [[nodiscard]] std::vector<std::uint16_t> lost_sequence_numbers() const;
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize + items.size() * 4; }
  // nullopt when `out` is too small or there are no items.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const GenericNack&) const = default;
};

}  // namespace chorus::media::rtcp
