// libFuzzer target for classify_packet, the RFC 7983 demultiplexer in front of every parser on a
// media port, and for its agreement with the RTP parser it hands packets to.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/demux_fuzz.cpp media/rtp/*.cpp
//   ./a.out -max_total_time=60 -max_len=1500
//
// Properties: each verdict matches the RFC 7983 §7 range of the first byte and the minimum size
// of that protocol's header; STUN has its magic cookie; a datagram RtpPacket accepts is never
// routed anywhere but RTP or (RFC 5761 §4 payload types 64..95 with marker) RTCP.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "media/rtp/packet_kind.hpp"
#include "media/rtp/rtp_packet.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_verdict(std::span<const std::uint8_t> datagram, PacketKind kind) {
  const int first = datagram.empty() ? -1 : datagram[0];
  switch (kind) {
    case PacketKind::kStun:
      check(first >= 0 && first <= 3 && datagram.size() >= kStunHeaderSize);
      check(datagram[4] == 0x21 && datagram[5] == 0x12 && datagram[6] == 0xA4 && datagram[7] == 0x42);
      break;
    case PacketKind::kDtls:
      check(first >= 20 && first <= 63 && datagram.size() >= kDtlsRecordHeaderSize);
      break;
    case PacketKind::kRtp:
      check(first >= 128 && first <= 191 && datagram.size() >= kRtpMinimumSize);
      check(datagram[1] < 192 || datagram[1] > 223);
      break;
    case PacketKind::kRtcp:
      check(first >= 128 && first <= 191 && datagram.size() >= kRtcpMinimumSize);
      check(datagram[1] >= 192 && datagram[1] <= 223);
      break;
    case PacketKind::kUnknown:
      break;
  }
  check(!to_string(kind).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: ASan then flags any read one byte past the datagram.
  std::vector<std::uint8_t> buffer(data, data + size);
  const auto kind = classify_packet(buffer);
  check_verdict(buffer, kind);
  if (RtpPacket::parse(buffer)) check(kind == PacketKind::kRtp || kind == PacketKind::kRtcp);
  // A datagram the demultiplexer calls RTP always holds at least the fixed header.
  if (kind == PacketKind::kRtp) check(buffer.size() >= RtpPacket::kFixedHeaderSize);
  return 0;
}
