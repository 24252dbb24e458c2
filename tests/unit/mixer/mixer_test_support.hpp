// Synthetic 20 ms frames for the mixer tests: constants, sines, and silence.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer::testing {

inline AudioFrame constant_frame(std::int16_t value) {
  AudioFrame frame;
  frame.fill(value);
  return frame;
}

// A sine of `hz` and `amplitude`, starting at `phase_samples` into the wave (so consecutive
// frames of the same participant can be continuous).
inline AudioFrame sine_frame(double hz, double amplitude, std::size_t phase_samples = 0) {
  AudioFrame frame;
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    const double t = static_cast<double>(phase_samples + i) / kSampleRateHz;
    frame[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * hz * t)));
  }
  return frame;
}

inline AudioFrame silence() {
  return constant_frame(0);
}

}  // namespace chorus::mixer::testing
