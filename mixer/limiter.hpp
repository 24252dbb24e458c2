// Limiter: turns an int32 mix into int16 without ever wrapping, and without touching quiet audio.
//
// Two stages, both deterministic (no clock, no randomness; the same input gives the same output):
// 1. A gain reducer with look-ahead of one frame: the frame's peak sets a target gain that brings
//    it down to `threshold`; the gain falls to it over `attack_samples` (1 ms) and recovers towards
//    unity by `release` of the remaining distance per frame (a 200 ms time constant), ramped
//    linearly across the frame so the gain never steps.
// 2. A soft knee for what the attack ramp lets through: identity up to `threshold`, above it
//    threshold + (32767 − threshold)·tanh(excess / (32767 − threshold)), which meets the identity
//    with slope 1 and never exceeds full scale. Then a clamp, so nothing can wrap.
// While the gain is unity and the frame's peak is at or below the threshold, the output equals the
// input sample for sample (the fast path), which is what keeps N−1 exact for ordinary speech.
//
// Threading: plain value; one per distinct mixer output (the shared mix, and each talker's own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

struct LimiterConfig {
  std::int32_t threshold = 24'576;  // -2.5 dBFS: below it the limiter is transparent
  std::size_t attack_samples = 48;  // 1 ms at 48 kHz
  double release = 0.1;             // fraction of the way back to unity per 20 ms frame
};

class Limiter {
 public:
  explicit Limiter(const LimiterConfig& config = {}) noexcept : config_(config) {}

  // `in` and `out` are kFrameSamples long. Returns the number of sample operations done (for the
  // mixer's cost counter): one pass for the peak, one for the output.
  std::size_t process(std::span<const std::int32_t> in, std::span<Sample> out) noexcept;

  // The gain at the end of the last frame, 1.0 when not limiting.
  [[nodiscard]] double gain() const noexcept { return gain_; }

 private:
  [[nodiscard]] Sample shape(double value) const noexcept;

  LimiterConfig config_;
  double gain_ = 1.0;
};

}  // namespace chorus::mixer
