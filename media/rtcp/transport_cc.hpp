// TransportCc: transport-wide congestion control feedback, RTPFB FMT 15
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//
// Wire layout after the feedback header: base sequence number (16), packet status count (16),
// reference time (24, signed, 64 ms units), feedback packet count (8), packet chunks (16 bits
// each: run-length, or a status vector of 14 one-bit or 7 two-bit symbols), one receive delta per
// received packet (1 octet unsigned for "small", 2 octets signed for "large"; 250 µs units), and
// zero padding to 32 bits. Parsing expands the chunks into one entry per packet.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/feedback.hpp"

namespace chorus::media::rtcp {

// The packet status symbols of §3.1.1 (11 is reserved and rejected).
enum class TransportCcStatus : std::uint8_t {
  kNotReceived = 0,
  kReceivedSmallDelta = 1,  // delta 0 .. 63.75 ms
  kReceivedLargeDelta = 2,  // delta -8192 .. 8191.75 ms
};

struct TransportCcPacket {
  std::uint16_t sequence_number = 0;
  TransportCcStatus status = TransportCcStatus::kNotReceived;
  // Arrival time relative to the previous received packet (the first: to the reference time).
  std::chrono::microseconds receive_delta{0};

  [[nodiscard]] bool received() const { return status != TransportCcStatus::kNotReceived; }
  bool operator==(const TransportCcPacket&) const = default;
};

struct TransportCc {
  static constexpr std::chrono::microseconds kDeltaTick{250};
  static constexpr std::chrono::milliseconds kReferenceTimeTick{64};
  // §3.1: base sequence (16), status count (16), reference time (24), feedback packet count (8).
  static constexpr std::size_t kFixedFciSize = 8;

  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::uint16_t base_sequence = 0;
  std::int32_t reference_time = 0;  // 24-bit signed, units of kReferenceTimeTick
  std::uint8_t feedback_count = 0;
  // packets[i].sequence_number == base_sequence + i; the status count is packets.size().
  std::vector<TransportCcPacket> packets;

  // nullopt unless the status count is non-zero, the chunks cover it, no reserved symbol is used
  // for a counted packet and every received packet's delta is inside the FCI.
  static std::optional<TransportCc> parse(const RtcpHeader& header);
  // Octets written. nullopt when `out` is too small, there are no or more than 65535 packets,
  // a sequence number breaks the base + i rule, or a delta does not fit its status's field.
  // Deltas are truncated to 250 µs.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  [[nodiscard]] std::chrono::milliseconds reference_time_ms() const { return reference_time * kReferenceTimeTick; }

  bool operator==(const TransportCc&) const = default;
};

}  // namespace chorus::media::rtcp
