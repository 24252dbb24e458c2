// Between the 48 kHz mixing domain and the narrowband (8 kHz: G.711) or wideband (16 kHz: G.722)
// rates of the codecs, both ways.
//
// 48 kHz is an exact multiple of both rates (6 and 3), so each direction is a polyphase FIR: no
// fractional positions and no state but the input history. The prototype is a Kaiser-windowed sinc
// (β 8.6) cut off at the lower rate's Nyquist frequency.
// UpsamplerTo48k (decoding): one short filter per output phase, each normalised to a DC gain of 1
// so a constant stays that constant:
//   8 kHz:  6 phases × 32 taps: flat within 0.02 dB up to 3.4 kHz, images of tones up to 3.3 kHz
//           at least 89 dB down; delay 95.5 output samples (2 ms).
//   16 kHz: 3 phases × 48 taps: flat within 0.1 dB up to 7 kHz (G.722's band), images of tones up
//           to 6 kHz at least 80 dB down; delay 71.5 output samples (1.5 ms).
// DownsamplerFrom48k (encoding): the same prototype, normalised to a DC gain of 1, computed only at
// the kept outputs (one in 6 or 3): the voice band as flat, and what lies above the new Nyquist
// frequency (which would fold back into the band) as far down.
// tests/unit/mixer/audio/resampler_test.cpp checks these figures; g711_test.cpp and g722_test.cpp
// compare the codecs built on them with GStreamer's elements and audioresample.
//
// Why not audioresample: a member's decode is one FIR per 20 ms on the worker, where a GStreamer
// chain cost pad pushes, a buffer and caps checks per member per tick (issue 13); an encoder built
// of GStreamer elements cost each join a chain.
//
// Threading: one resampler is one stream's state, used by one thread at a time; the filters are
// designed once, thread-safely, on first use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

class UpsamplerTo48k {
 public:
  static constexpr std::size_t kMaxTapsPerPhase = 48;
  // One call's input is taken at most this many samples at a time (60 ms at 16 kHz, the longest
  // ptime a member's packet is cut into); longer input is processed in parts.
  static constexpr std::size_t kMaxInput = 960;

  // `input_rate_hz` is 8,000 or 16,000; anything else is a programming error (std::invalid_argument).
  explicit UpsamplerTo48k(std::uint32_t input_rate_hz);

  // 48 kHz / input rate: the output samples per input sample.
  [[nodiscard]] std::size_t factor() const noexcept;
  [[nodiscard]] std::size_t taps_per_phase() const noexcept;

  // Appends factor() × input.size() samples to `out`.
  void process(std::span<const float> input, std::vector<Sample>& out);

  // The same filter without this object's history, for a caller that keeps the input stream
  // itself and interpolates only some of its frames (ParticipantDecoder: only the frames that are
  // mixed). `window` is the taps_per_phase() - 1 input samples before the part to interpolate, then
  // that part (at most kMaxInput samples); `out` gets factor() output samples per sample of the
  // part, exactly what process() would have given for it. Uses neither this object's history nor
  // changes it.
  void interpolate(std::span<const float> window, std::span<Sample> out) const;

  struct Design;  // the phases' taps for one input rate (resampler.cpp)

 private:
  void process_block(std::span<const float> input, std::vector<Sample>& out);

  const Design* design_;
  // The last taps_per_phase() - 1 input samples, oldest first: the filter's state across packets.
  std::array<float, kMaxTapsPerPhase - 1> history_{};
};

class DownsamplerFrom48k {
 public:
  static constexpr std::size_t kMaxTaps = 192;  // 6 × 32 (to 8 kHz); 3 × 48 (to 16 kHz) is 144

  // `output_rate_hz` is 8,000 or 16,000; anything else is a programming error (std::invalid_argument).
  explicit DownsamplerFrom48k(std::uint32_t output_rate_hz);

  // 48 kHz / output rate: the input samples per output sample.
  [[nodiscard]] std::size_t factor() const noexcept;

  // One 20 ms frame at 48 kHz in, kFrameSamples / factor() samples out (replacing `out`'s content),
  // rounded and clamped to 16 bits.
  void process(FrameView frame, std::vector<std::int16_t>& out);

  struct Design;  // the taps for one output rate (resampler.cpp)

 private:
  const Design* design_;
  // The last taps - 1 input samples, oldest first: the filter's state across frames.
  std::array<float, kMaxTaps - 1> history_{};
};

}  // namespace chorus::mixer
