#include "media/rtcp/bye.hpp"

#include <algorithm>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {
constexpr std::size_t kMaxReasonLength = 255;
}

std::optional<Bye> Bye::parse(const RtcpHeader& header) {
  if (!header.is(PacketType::kBye)) return std::nullopt;
  const auto body = header.body();
  const std::size_t ssrc_bytes = std::size_t{header.count()} * 4;
  if (body.size() < ssrc_bytes) return std::nullopt;
  Bye bye;
  for (std::size_t i = 0; i < header.count(); ++i) bye.ssrcs.push_back(read_u32(body, i * 4));
  // RFC 3550 §6.6: an optional length octet and reason text follow the SSRC list; what remains
  // after that is null padding to the 32-bit boundary.
  if (body.size() > ssrc_bytes) {
    const std::size_t length = body[ssrc_bytes];
    if (body.size() - ssrc_bytes - 1 < length) return std::nullopt;
    bye.reason = std::string_view(reinterpret_cast<const char*>(body.data() + ssrc_bytes + 1), length);
  }
  return bye;
}

std::size_t Bye::size() const {
  std::size_t n = kHeaderSize + ssrcs.size() * 4;
  if (!reason.empty()) n += (1 + reason.size() + 3) & ~std::size_t{3};
  return n;
}

std::optional<std::size_t> Bye::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (ssrcs.size() > kMaxCount || reason.size() > kMaxReasonLength || out.size() < total) return std::nullopt;
  if (!write_header(out, static_cast<std::uint8_t>(ssrcs.size()), static_cast<std::uint8_t>(PacketType::kBye), total)) {
    return std::nullopt;
  }
  std::size_t pos = kHeaderSize;
  for (const auto ssrc : ssrcs) {
    write_u32(out, pos, ssrc);
    pos += 4;
  }
  if (!reason.empty()) {
    out[pos] = static_cast<std::uint8_t>(reason.size());
    std::copy(reason.begin(), reason.end(), out.begin() + static_cast<std::ptrdiff_t>(pos + 1));
    pos += 1 + reason.size();
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(pos), out.begin() + static_cast<std::ptrdiff_t>(total), 0);
  }
  return total;
}

}  // namespace chorus::media::rtcp
