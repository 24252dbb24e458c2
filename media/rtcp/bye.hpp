// Bye: goodbye packet (BYE, PT 203), RFC 3550 §6.6. The reason is a view into the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"

namespace chorus::media::rtcp {

struct Bye {
  std::vector<std::uint32_t> ssrcs;  // at most 31 (5-bit SC)
  std::string_view reason;           // optional; at most 255 octets

  // nullopt unless the SC SSRCs and, if present, the whole reason fit in the body.
  static std::optional<Bye> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const;
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Bye&) const = default;
};

}  // namespace chorus::media::rtcp
