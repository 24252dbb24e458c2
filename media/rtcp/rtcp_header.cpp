#include "media/rtcp/rtcp_header.hpp"

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

std::optional<RtcpHeader> RtcpHeader::parse(std::span<const std::uint8_t> data) {
  if (data.size() < kHeaderSize) return std::nullopt;
  if ((data[0] >> 6) != kVersion) return std::nullopt;
  if (data[1] < kMinPacketType || data[1] > kMaxPacketType) return std::nullopt;
  // RFC 3550 §6.4.1: length is in 32-bit words minus one, so a packet is never shorter than its header.
  const std::size_t size = (std::size_t{read_u16(data, 2)} + 1) * 4;
  if (size > data.size()) return std::nullopt;
  const auto packet = data.first(size);
  std::size_t padding = 0;
  if ((data[0] & 0x20) != 0) {
    // RFC 3550 §6.4.1: the last padding octet counts the padding octets, itself included.
    padding = packet[size - 1];
    if (padding == 0 || padding > size - kHeaderSize) return std::nullopt;
  }
  return RtcpHeader(packet, padding);
}

bool write_header(std::span<std::uint8_t> out, std::uint8_t count, std::uint8_t type, std::size_t packet_size) {
  if (out.size() < kHeaderSize || count > kMaxCount) return false;
  if (packet_size < kHeaderSize || packet_size % 4 != 0 || packet_size / 4 > 0x10000) return false;
  out[0] = static_cast<std::uint8_t>((kVersion << 6) | count);
  out[1] = type;
  write_u16(out, 2, static_cast<std::uint16_t>(packet_size / 4 - 1));
  return true;
}

std::optional<CompoundView> CompoundView::parse(std::span<const std::uint8_t> datagram) {
  if (datagram.empty()) return std::nullopt;
  std::size_t count = 0;
  bool reduced = false;
  auto rest = datagram;
  while (!rest.empty()) {
    const auto header = RtcpHeader::parse(rest);
    if (!header) return std::nullopt;
    // RFC 3550 A.2: only the last packet of a compound may carry padding.
    if (header->has_padding() && header->size() != rest.size()) return std::nullopt;
    if (count == 0) reduced = !header->is(PacketType::kSr) && !header->is(PacketType::kRr);
    rest = rest.subspan(header->size());
    ++count;
  }
  return CompoundView(datagram, reduced, count);
}

}  // namespace chorus::media::rtcp
