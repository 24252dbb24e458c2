// Payload-specific feedback (PSFB, PT 206): Pli (FMT 1, RFC 4585 §6.3.1), Fir (FMT 4,
// RFC 5104 §4.3.1) and Remb (FMT 15 "REMB", draft-alvestrand-rmcat-remb-03 §2.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/feedback.hpp"

namespace chorus::media::rtcp {

// Picture loss indication: no FCI.
struct Pli {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;

  static std::optional<Pli> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize; }
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Pli&) const = default;
};

// RFC 5104 §4.3.1.1: SSRC of the encoder asked for a decoder refresh, and a command sequence
// number that lets it ignore repeats; 24 reserved bits follow.
struct FirEntry {
  static constexpr std::size_t kSize = 8;
  std::uint32_t ssrc = 0;
  std::uint8_t sequence_number = 0;

  bool operator==(const FirEntry&) const = default;
};

// Full intra request. The media source SSRC is unused and written as 0 (RFC 5104 §4.3.1.2).
struct Fir {
  std::uint32_t sender_ssrc = 0;
  std::vector<FirEntry> entries;

  // nullopt unless the FCI holds at least one whole entry.
  static std::optional<Fir> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize + entries.size() * FirEntry::kSize; }
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Fir&) const = default;
};

// Receiver estimated maximum bitrate: "REMB", SSRC count (8 bits), exponent (6), mantissa (18),
// then the SSRCs the estimate applies to.
struct Remb {
  static constexpr unsigned kMantissaBits = 18;
  static constexpr std::size_t kMaxSsrcs = 255;

  std::uint32_t sender_ssrc = 0;
  std::uint64_t bitrate_bps = 0;  // written rounded down to what 18 bits of mantissa can hold
  std::vector<std::uint32_t> ssrcs;

  // nullopt unless the identifier is "REMB" and all announced SSRCs fit in the FCI.
  static std::optional<Remb> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kFeedbackHeaderSize + 8 + ssrcs.size() * 4; }
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Remb&) const = default;
};

}  // namespace chorus::media::rtcp
