// MixerCounters: what the audio MCU has done, over every room of the process. Bumped on the media
// workers (relaxed atomics), read by the server for /metrics and the status line (published()).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "common/published_counter.hpp"

namespace chorus::mixer {

struct MixerCounters {
  std::atomic<std::uint64_t> frames{0};       // 20 ms frames sent to listeners
  std::atomic<std::uint64_t> frames_late{0};  // of those, sent more than kLateFrameMargin after their tick was due
  // Members' RTP the playout buffers (mixer/playout_buffer.hpp) did not decode: late, duplicate,
  // oversized, or skipped to keep the delay and the buffer bounded.
  std::atomic<std::uint64_t> input_packets_dropped{0};
  std::atomic<std::uint64_t> input_packets_concealed{0};  // never came in time: PLC or silence instead
  // Opus packets whose sender marked them quiet (RFC 6464) and whose frames nobody mixed, let go
  // without being decoded (mixer/audio/lazy_opus_stream.hpp): the decoding the MCU saved.
  std::atomic<std::uint64_t> input_packets_never_decoded{0};

  [[nodiscard]] std::array<PublishedCounter, 5> published() const {
    return {{{"chorus_mixer_frames_total", "20 ms audio frames the MCU sent to listeners", "mixer_frames", &frames},
             {"chorus_mixer_late_frames_total", "MCU frames sent more than 10 ms after their 20 ms tick was due",
              "mixer_frames_late", &frames_late},
             {"chorus_mixer_input_packets_dropped_total",
              "members' RTP packets not decoded: late, duplicate, oversized, or over the playout buffer's bounds",
              "mixer_input_dropped", &input_packets_dropped},
             {"chorus_mixer_input_packets_concealed_total", "members' RTP packets lost and concealed",
              "mixer_input_concealed", &input_packets_concealed},
             {"chorus_mixer_input_packets_never_decoded_total",
              "members' Opus packets marked quiet by their sender (RFC 6464) whose frames were not mixed: not decoded",
              "mixer_input_never_decoded", &input_packets_never_decoded}}};
  }
};

}  // namespace chorus::mixer
