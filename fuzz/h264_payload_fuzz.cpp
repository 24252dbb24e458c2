// libFuzzer target for H264Payload and parse_h264_sps (sfu/payload): the RFC 6184 payload walk
// (single NAL unit, STAP-A, FU-A) and the SPS reader the SFU runs on every H.264 packet.
//
//   make fuzz-build && build-fuzz/bin/h264_payload_fuzz -max_total_time=60 fuzz/seeds/h264_payload_fuzz
//
// Besides crashes and out-of-bounds reads it checks, for every payload that parses:
//   - the NAL units handed out lie inside the payload, in order, without overlap, each at least
//     its header byte, as many as nal_units().size(), and (for a STAP-A) exactly tiling it;
//   - is_keyframe and find_sps agree with the units' types; an FU-A has no whole unit;
//   - parse_h264_sps on every SPS found, and on the input read as an SPS, yields a size within
//     kMaxDimension or an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sfu/payload/h264_payload.hpp"
#include "sfu/payload/h264_sps.hpp"

namespace {

using namespace chorus::sfu;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_sps(std::span<const std::uint8_t> nal_unit) {
  const auto sps = parse_h264_sps(nal_unit);
  if (!sps) {
    check(!to_string(sps.error()).empty());
    return;
  }
  check(sps->width >= 1 && sps->width <= H264SpsInfo::kMaxDimension);
  check(sps->height >= 1 && sps->height <= H264SpsInfo::kMaxDimension);
  check(sps->sps_id <= 31 && sps->chroma_format_idc <= 3);
}

void check_units(const H264Payload& payload, std::span<const std::uint8_t> bytes) {
  const auto units = payload.nal_units();
  const std::uint8_t* cursor = bytes.data();
  std::size_t count = 0;
  std::size_t covered = 0;
  bool keyframe_unit = false;
  bool has_sps = false;
  for (const auto unit : units) {
    check(!unit.empty());
    check(unit.data() >= cursor && unit.data() + unit.size() <= bytes.data() + bytes.size());
    cursor = unit.data() + unit.size();
    covered += unit.size();
    const auto type = h264_nal_type(unit[0]);
    keyframe_unit = keyframe_unit || type == H264NalType::kIdr || type == H264NalType::kSps;
    if (type == H264NalType::kSps && !has_sps) {
      has_sps = true;
      check(payload.find_sps()->data() == unit.data());
      check_sps(unit);
    }
    ++count;
  }
  check(count == units.size() && has_sps == payload.find_sps().has_value());
  switch (payload.packetization()) {
    case H264Packetization::kSingleNalUnit:
      check(count == 1 && covered == bytes.size() && payload.is_keyframe() == keyframe_unit);
      break;
    case H264Packetization::kStapA:
      check(count >= 1 && covered + 1 + 2 * count == bytes.size() && payload.is_keyframe() == keyframe_unit);
      break;
    case H264Packetization::kFuA: {
      check(count == 0 && !(payload.fragment_start() && payload.fragment_end()));
      const auto type = payload.nal_type();
      check(payload.is_keyframe() ==
            (payload.fragment_start() && (type == H264NalType::kIdr || type == H264NalType::kSps)));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size heap copies: ASan then flags any read one byte past the payload.
  const std::vector<std::uint8_t> buffer(data, data + size);
  const auto payload = H264Payload::parse(buffer);
  if (payload) {
    check_units(*payload, buffer);
    (void)payload->nal_ref_idc();
  } else {
    check(!to_string(payload.error()).empty());
  }
  // The input read as an SPS body: the first byte becomes an SPS NAL unit header.
  if (!buffer.empty()) {
    std::vector<std::uint8_t> sps = buffer;
    sps[0] = 0x67;
    check_sps(sps);
  }
  return 0;
}
