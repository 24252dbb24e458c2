// libFuzzer target for what bench/tools/video_load reads off the network (video_load_packets.hpp):
// the forwarded VP8 payload (inspect_payload), the RTCP a publisher receives (scan_feedback) and
// the per-slot sequence counting (SequenceTracker), plus the synthetic stream it sends.
//
//   make fuzz-build && build-fuzz/bin/video_load_fuzz -max_total_time=60 fuzz/seeds/video_load_fuzz
//
// Besides crashes and out-of-bounds reads it checks:
//   - inspect_payload accepts only what Vp8Descriptor accepts, and then reads the stamp from its
//     fixed offset: a payload with room for it gives the bytes that are there;
//   - scan_feedback counts no more packets than the compound holds;
//   - SequenceTracker, fed the input as 16-bit sequence numbers: received <= expected, lost =
//     expected - received, and every number seen twice in a row is a duplicate;
//   - Vp8Packetizer with input-chosen settings writes packets that RtpPacket and Vp8Descriptor
//     parse, whose stamp reads back as written, key frame exactly at the first frame and after a
//     request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "bench/tools/video_load_packets.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "sfu/payload/vp8_descriptor.hpp"

namespace {

using namespace chorus::bench;

void check(bool condition) {
  if (!condition) std::abort();
}

std::uint32_t read32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void fuzz_inspect(std::span<const std::uint8_t> data) {
  const auto inspected = inspect_payload(data);
  const bool descriptor = chorus::sfu::Vp8Descriptor::parse(data).has_value();
  if (!descriptor) {
    check(!inspected && inspected.error() == PayloadError::kNotVp8);
    return;
  }
  if (data.size() < kStampOffset + kStampSize) {
    check(!inspected && inspected.error() == PayloadError::kTooShort);
    return;
  }
  check(inspected.has_value());
  std::uint64_t send_ns = 0;
  std::memcpy(&send_ns, data.data() + kStampOffset, sizeof(send_ns));
  check(inspected->stamp.send_ns == send_ns);
  check(inspected->stamp.publisher == read32(data.data() + kStampOffset + 8));
  check(inspected->stamp.index == read32(data.data() + kStampOffset + 12));
}

void fuzz_feedback(std::span<const std::uint8_t> data) {
  const std::uint32_t ssrc = data.size() >= 4 ? read32(data.data()) : 0;
  const auto seen = scan_feedback(data, ssrc);
  if (!seen) return;
  const auto view = chorus::media::rtcp::CompoundView::parse(data);
  check(view.has_value());
  std::size_t packets = 0;
  for (auto it = view->begin(); it != view->end(); ++it) ++packets;
  check(seen->pli + seen->fir + seen->nack + seen->reports + seen->other <= packets);
}

void fuzz_sequences(std::span<const std::uint8_t> data) {
  SequenceTracker tracker;
  std::optional<std::uint16_t> previous;
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
    const auto sequence = static_cast<std::uint16_t>((data[i] << 8) | data[i + 1]);
    const auto duplicates = tracker.duplicates();
    tracker.on_packet(sequence);
    if (previous == sequence) check(tracker.duplicates() == duplicates + 1);
    previous = sequence;
    check(tracker.received() <= tracker.expected());
    check(tracker.lost() == tracker.expected() - tracker.received());
  }
}

void fuzz_packetizer(std::span<const std::uint8_t> data) {
  if (data.size() < 8) return;
  Vp8StreamSettings settings;
  settings.ssrc = read32(data.data());
  settings.first_sequence = static_cast<std::uint16_t>((data[4] << 8) | data[5]);
  settings.first_picture_id = static_cast<std::uint16_t>(data[6] << 8 | data[7]);
  settings.packets_per_frame = 1 + data[4] % 5;
  settings.packet_size = kMinPacketSize + data[5] % 64;
  auto packetizer = Vp8Packetizer::create(settings);
  check(packetizer.has_value());
  std::vector<std::uint8_t> buffer(settings.packet_size);
  bool keyframe_due = true;  // the model: the first frame, and the frame after any request
  for (std::size_t i = 8; i < data.size() && i < 64; ++i) {
    if ((data[i] & 1) != 0) {
      packetizer->request_keyframe();
      keyframe_due = true;
    }
    const PayloadStamp stamp{data[i] * 0x0101010101010101ULL, data[i], static_cast<std::uint32_t>(i)};
    const auto frames = packetizer->frames();
    check(packetizer->next(buffer, stamp) == settings.packet_size);
    const bool frame_start = packetizer->frames() != frames;
    auto packet = chorus::media::RtpPacket::parse(buffer);
    check(packet.has_value() && packet->ssrc() == settings.ssrc);
    const auto descriptor = chorus::sfu::Vp8Descriptor::parse(packet->payload());
    check(descriptor.has_value() && descriptor->begins_frame() == frame_start);
    check(descriptor->is_keyframe() == (frame_start && keyframe_due));
    if (frame_start) keyframe_due = false;
    const auto inspected = inspect_payload(packet->payload());
    check(inspected.has_value() && inspected->stamp == stamp);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  fuzz_inspect(input);
  fuzz_feedback(input);
  fuzz_sequences(input);
  fuzz_packetizer(input);
  return 0;
}
