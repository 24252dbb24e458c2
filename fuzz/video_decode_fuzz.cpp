// libFuzzer target for the video MCU's decode chain (mixer/video/video_decode_chain.hpp): RTP
// packets as any sender could send them — corrupt or truncated VP8 frames, broken H.264 access
// units (STAP-A, FU-A, bad SPS/PPS), resolution changes, no key frame at all — pushed synchronously
// through the depayloader and decoder the MCU runs, exactly as configured there, into a fakesink.
//
//   make fuzz-build && build-fuzz/bin/video_decode_fuzz -max_total_time=60 fuzz/seeds/video_decode_fuzz
//
// Input: byte 0 picks the codec (bit 0: 0 VP8, 1 H.264), then packets, each a 2-byte big-endian
// length and that many bytes (at most kMaxPackets of at most kMaxPacketBytes; an RTP header is
// written over the first 12 bytes so every packet reaches the depayloader, with the fuzzer's
// marker bit and its sequence number's low byte). Each input starts from a flushed chain.
// Besides crashes and sanitizer reports it checks that every push returns a flow the MCU copes
// with (OK, or an error the decoder reports and the branch survives: never a hang).
#include <gst/gst.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mixer/audio/gst_elements.hpp"
#include "mixer/video/video_decode_chain.hpp"
#include "sfu/payload/h264_payload.hpp"
#include "sfu/payload/vp8_descriptor.hpp"

namespace {

using namespace chorus::mixer;

constexpr std::size_t kMaxPackets = 64;
constexpr std::size_t kMaxPacketBytes = 1500;
constexpr std::uint8_t kPayloadType = 96;

// One codec's chain in its own pipeline: [our src pad] → depayloader → decoder → fakesink.
struct Chain {
  GstElement* pipeline = nullptr;
  GstPad* src = nullptr;
  std::uint32_t timestamp = 0;
  std::uint16_t sequence = 0;

  explicit Chain(VideoCodec codec) {
    pipeline = gst_pipeline_new(nullptr);
    auto [depayloader, decoder] = make_video_decode_chain(codec, std::string(to_string(codec)));
    GstElement* sink = make_element("fakesink", "sink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    add_and_link(GST_BIN(pipeline), {depayloader, decoder, sink});
    src = link_src_pad(depayloader, "fuzz-src");
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstCaps* caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate", G_TYPE_INT,
                                        static_cast<int>(kVideoRtpClockRate), "encoding-name", G_TYPE_STRING,
                                        std::string(to_string(codec)).c_str(), "payload", G_TYPE_INT,
                                        static_cast<int>(kPayloadType), nullptr);
    start_stream(src, "video-decode-fuzz", caps);
    gst_caps_unref(caps);
  }

  // Forgets the previous input: flush, then a fresh segment.
  void flush() {
    gst_pad_push_event(src, gst_event_new_flush_start());
    gst_pad_push_event(src, gst_event_new_flush_stop(TRUE));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(src, gst_event_new_segment(&segment));
  }

  // What the MCU gives this codec's decoder (video_mcu_engine.cpp: the same check).
  bool (*accepts_payload)(std::span<const std::uint8_t>) noexcept = nullptr;

  void push(const std::uint8_t* data, std::size_t size, std::size_t index) {
    std::array<std::uint8_t, kMaxPacketBytes> packet{};
    std::copy(data, data + size, packet.begin());
    const std::size_t length = std::max<std::size_t>(size, 12);
    // RFC 3550 §5.1 header: version 2, the fuzzer's marker bit, our payload type, sequence and
    // timestamp moving on (a frame every 3 packets), one SSRC.
    const bool marker = size > 1 && (data[1] & 0x80) != 0;
    sequence = static_cast<std::uint16_t>(sequence + 1 + (size > 2 ? data[2] % 3 : 0));
    if (index % 3 == 0) timestamp += 3000;
    packet[0] = 0x80;
    packet[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | kPayloadType);
    packet[2] = static_cast<std::uint8_t>(sequence >> 8);
    packet[3] = static_cast<std::uint8_t>(sequence);
    for (int i = 0; i < 4; ++i) packet[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    packet[8] = 0x12, packet[9] = 0x34, packet[10] = 0x56, packet[11] = 0x78;
    if (accepts_payload && !accepts_payload(std::span<const std::uint8_t>(packet.data() + 12, length - 12))) return;
    GstBuffer* buffer = gst_buffer_new_memdup(packet.data(), length);
    GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(timestamp) * GST_SECOND / kVideoRtpClockRate;
    const GstFlowReturn flow = gst_pad_push(src, buffer);
    // OK, or what a decoder that skipped a frame or a depayloader that dropped a packet returns.
    if (flow != GST_FLOW_OK && flow != GST_FLOW_ERROR && flow != GST_FLOW_NOT_NEGOTIATED) std::abort();
  }
};

Chain* chains[2] = {nullptr, nullptr};

}  // namespace

// GLib's first quark table, allocated by its library constructor and never freed (lock-free readers
// may hold it), is the one allocation LeakSanitizer must not report: tests/lsan.supp's `_dl_init`
// entry, which needs the full unwinder to see that frame. clang's symbolizer names no function in
// the dynamic loader, so the pattern here is the loader itself: only allocations made while it runs
// a library's constructor (once per process) have it on their stack.
extern "C" const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}
extern "C" const char* __lsan_default_suppressions() {
  return "leak:ld-linux-x86-64.so.2\n";
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  gst_init(argc, argv);
  chains[0] = new Chain(VideoCodec::kVp8);
  chains[1] = new Chain(VideoCodec::kH264);
  chains[0]->accepts_payload = chorus::sfu::is_camera_vp8_payload;
  chains[1]->accepts_payload = chorus::sfu::is_camera_h264_payload;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Chain& chain = *chains[data[0] & 1];
  chain.flush();
  std::size_t at = 1;
  for (std::size_t index = 0; index < kMaxPackets && at + 2 <= size; ++index) {
    const std::size_t length = std::min<std::size_t>((std::size_t{data[at]} << 8 | data[at + 1]), kMaxPacketBytes);
    at += 2;
    const std::size_t taken = std::min(length, size - at);
    chain.push(data + at, taken, index);
    at += taken;
  }
  return 0;
}
