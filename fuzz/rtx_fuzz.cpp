// libFuzzer target for RTX (sfu/rtx.hpp, RFC 4588 §4): unwrap_rtx_in_place runs on every packet
// a sender's RTX stream delivers, build_rtx_packet on every retransmission the SFU sends.
//
//   make fuzz-build && build-fuzz/bin/rtx_fuzz -max_total_time=60 fuzz/seeds/rtx_fuzz
//
// Besides crashes and out-of-bounds accesses it checks:
//   - unwrap either fails and leaves the buffer untouched, or yields the original at buffer[2..]
//     with the OSN as sequence number, the given payload type and SSRC, the RTX timestamp, marker,
//     CSRCs and extension elements, and the RTX payload after the OSN as payload;
//   - building an RTX packet from that original with the RTX packet's own SSRC, payload type and
//     sequence number gives back the received RTX packet byte for byte (without its padding);
//   - the build needs exactly its size: one byte less is kBufferTooSmall.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sfu/rtx.hpp"

namespace {

using namespace chorus;

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr sfu::RtxRepairParams kRepair{.media_ssrc = 0xC0FFEE01, .media_payload_type = 96};

void check_round_trip(const media::RtpPacket& rtx_before, const std::vector<std::uint8_t>& received,
                      const media::RtpPacket& original) {
  const auto rtx_payload = rtx_before.payload();
  check(original.sequence_number() == ((rtx_payload[0] << 8) | rtx_payload[1]));
  check(original.payload_type() == kRepair.media_payload_type && original.ssrc() == kRepair.media_ssrc);
  check(original.timestamp() == rtx_before.timestamp() && original.marker() == rtx_before.marker());
  check(original.csrc_count() == rtx_before.csrc_count() && original.header_size() == rtx_before.header_size());
  check(std::ranges::equal(original.payload(), rtx_payload.subspan(sfu::kRtxOsnSize)));
  for (int id = 1; id <= 255; ++id) {
    const auto a = original.extension(static_cast<std::uint8_t>(id));
    const auto b = rtx_before.extension(static_cast<std::uint8_t>(id));
    check(a.has_value() == b.has_value() && (!a || std::ranges::equal(*a, *b)));
  }

  const sfu::RtxSendParams params{.ssrc = rtx_before.ssrc(),
                                  .payload_type = rtx_before.payload_type(),
                                  .sequence_number = rtx_before.sequence_number()};
  const std::size_t expected_size = received.size() - rtx_before.padding_size();
  std::vector<std::uint8_t> out(expected_size);
  const auto rebuilt = sfu::build_rtx_packet(original, params, out);
  check(rebuilt.has_value() && rebuilt->size() == expected_size);
  check(out[0] == (received[0] & ~0x20));  // P cleared: padding is not copied
  check(std::equal(out.begin() + 1, out.end(), received.begin() + 1));
  std::vector<std::uint8_t> short_by_one(expected_size - 1);
  const auto refused = sfu::build_rtx_packet(original, params, short_by_one);
  check(!refused && refused.error() == sfu::RtxError::kBufferTooSmall);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size heap copies: ASan then flags any access one byte past the datagram.
  const std::vector<std::uint8_t> received(data, data + size);
  std::vector<std::uint8_t> buffer = received;
  std::vector<std::uint8_t> parsed_copy = received;
  const auto rtx_before = media::RtpPacket::parse(parsed_copy);
  const auto original = sfu::unwrap_rtx_in_place(buffer, kRepair);
  if (!original) {
    check(buffer == received);
    check(!sfu::to_string(original.error()).empty());
    if (rtx_before) check(original.error() != sfu::RtxError::kNotRtp);
    if (original.error() == sfu::RtxError::kPaddingOnly) check(sfu::is_padding_only(*rtx_before));
    return 0;
  }
  check(rtx_before.has_value() && !sfu::is_padding_only(*original));
  check(original->bytes().data() == buffer.data() + sfu::kRtxOsnSize);
  check(original->size() == size - sfu::kRtxOsnSize);
  check_round_trip(*rtx_before, received, *original);
  return 0;
}
