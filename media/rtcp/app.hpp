// App: application-defined packet (APP, PT 204), RFC 3550 §6.7. The data is a view into the buffer.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/rtcp/rtcp_header.hpp"

namespace chorus::media::rtcp {

struct App {
  std::uint8_t subtype = 0;  // 5 bits
  std::uint32_t ssrc = 0;
  std::array<char, 4> name{};          // four ASCII characters
  std::span<const std::uint8_t> data;  // a multiple of 32 bits

  // nullopt unless the body holds SSRC and name.
  static std::optional<App> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const { return kHeaderSize + 8 + data.size(); }
  // nullopt when `out` is too small, the subtype exceeds 31 or the data is not 32-bit aligned.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const App& other) const {
    return subtype == other.subtype && ssrc == other.ssrc && name == other.name && std::ranges::equal(data, other.data);
  }
};

}  // namespace chorus::media::rtcp
