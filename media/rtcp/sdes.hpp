// Sdes: source description packet (SDES, PT 202), RFC 3550 §6.5.
// Items are views into the parsed buffer (or, when building, into the caller's strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"

namespace chorus::media::rtcp {

// RFC 3550 §12.2 SDES item types.
enum class SdesItemType : std::uint8_t {
  kEnd = 0,
  kCname = 1,
  kName = 2,
  kEmail = 3,
  kPhone = 4,
  kLoc = 5,
  kTool = 6,
  kNote = 7,
  kPriv = 8,
};

struct SdesItem {
  SdesItemType type = SdesItemType::kCname;
  std::string_view text;  // at most 255 octets (8-bit length)

  bool operator==(const SdesItem&) const = default;
};

struct SdesChunk {
  std::uint32_t ssrc = 0;
  std::vector<SdesItem> items;

  // RFC 3550 §6.5.1: the CNAME every compound must carry (absent in reduced-size RTCP).
  [[nodiscard]] std::optional<std::string_view> cname() const;
  // SSRC, items, the terminating null octet and padding to the next 32-bit boundary.
  [[nodiscard]] std::size_t size() const;

  bool operator==(const SdesChunk&) const = default;
};

struct Sdes {
  std::vector<SdesChunk> chunks;  // at most 31 (5-bit SC)

  // nullopt unless every one of the SC chunks has its items inside the body and is terminated.
  static std::optional<Sdes> parse(const RtcpHeader& header);
  [[nodiscard]] std::size_t size() const;
  // Octets written; nullopt when `out` is too small, an item is longer than 255 octets, an item
  // has type kEnd, or there are more than 31 chunks.
  std::optional<std::size_t> write(std::span<std::uint8_t> out) const;

  bool operator==(const Sdes&) const = default;
};

}  // namespace chorus::media::rtcp
