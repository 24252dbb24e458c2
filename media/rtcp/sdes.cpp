#include "media/rtcp/sdes.hpp"

#include <algorithm>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {

constexpr std::size_t kMaxItemLength = 255;

std::size_t round_up4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// Parses the chunk starting at `pos` (32-bit aligned within the body) and advances `pos` past
// its terminator and padding.
std::optional<SdesChunk> parse_chunk(std::span<const std::uint8_t> body, std::size_t& pos) {
  if (body.size() - pos < 4) return std::nullopt;
  SdesChunk chunk;
  chunk.ssrc = read_u32(body, pos);
  pos += 4;
  while (true) {
    if (pos >= body.size()) return std::nullopt;  // RFC 3550 §6.5: items end with a null octet
    const std::uint8_t type = body[pos];
    if (type == static_cast<std::uint8_t>(SdesItemType::kEnd)) {
      pos = round_up4(pos + 1);
      if (pos > body.size()) return std::nullopt;
      return chunk;
    }
    if (body.size() - pos < 2) return std::nullopt;
    const std::size_t length = body[pos + 1];
    if (body.size() - pos - 2 < length) return std::nullopt;
    const auto* text = reinterpret_cast<const char*>(body.data() + pos + 2);
    chunk.items.push_back(SdesItem{static_cast<SdesItemType>(type), std::string_view(text, length)});
    pos += 2 + length;
  }
}

}  // namespace

std::optional<std::string_view> SdesChunk::cname() const {
  for (const auto& item : items) {
    if (item.type == SdesItemType::kCname) return item.text;
  }
  return std::nullopt;
}

std::size_t SdesChunk::size() const {
  std::size_t n = 4;
  for (const auto& item : items) n += 2 + item.text.size();
  return round_up4(n + 1);
}

std::optional<Sdes> Sdes::parse(const RtcpHeader& header) {
  if (!header.is(PacketType::kSdes)) return std::nullopt;
  const auto body = header.body();
  Sdes sdes;
  std::size_t pos = 0;
  for (std::uint8_t i = 0; i < header.count(); ++i) {
    auto chunk = parse_chunk(body, pos);
    if (!chunk) return std::nullopt;
    sdes.chunks.push_back(std::move(*chunk));
  }
  return sdes;
}

std::size_t Sdes::size() const {
  std::size_t n = kHeaderSize;
  for (const auto& chunk : chunks) n += chunk.size();
  return n;
}

std::optional<std::size_t> Sdes::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (chunks.size() > kMaxCount || out.size() < total) return std::nullopt;
  for (const auto& chunk : chunks) {
    for (const auto& item : chunk.items) {
      if (item.text.size() > kMaxItemLength || item.type == SdesItemType::kEnd) return std::nullopt;
    }
  }
  if (!write_header(out, static_cast<std::uint8_t>(chunks.size()), static_cast<std::uint8_t>(PacketType::kSdes),
                    total)) {
    return std::nullopt;
  }
  std::size_t pos = kHeaderSize;
  for (const auto& chunk : chunks) {
    const std::size_t end = pos + chunk.size();
    write_u32(out, pos, chunk.ssrc);
    pos += 4;
    for (const auto& item : chunk.items) {
      out[pos] = static_cast<std::uint8_t>(item.type);
      out[pos + 1] = static_cast<std::uint8_t>(item.text.size());
      std::copy(item.text.begin(), item.text.end(), out.begin() + static_cast<std::ptrdiff_t>(pos + 2));
      pos += 2 + item.text.size();
    }
    // RFC 3550 §6.5: a null item type ends the list, more null octets pad to 32 bits.
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(pos), out.begin() + static_cast<std::ptrdiff_t>(end), 0);
    pos = end;
  }
  return total;
}

}  // namespace chorus::media::rtcp
