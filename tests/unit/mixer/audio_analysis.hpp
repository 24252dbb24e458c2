// Measurements for the prompt and tone tests: the Goertzel power of one frequency, the dominant one
// among candidates, peak level, and a 16-bit PCM WAV writer for files the tests feed GStreamer.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace chorus::mixer::testing {

// Goertzel: the power of `hz` in `samples` taken at `rate_hz` (one DFT bin, any frequency).
inline double goertzel_power(std::span<const std::int16_t> samples, double hz, double rate_hz) {
  const double coefficient = 2.0 * std::cos(2.0 * std::numbers::pi * hz / rate_hz);
  double s1 = 0.0;
  double s2 = 0.0;
  for (const std::int16_t x : samples) {
    const double s0 = static_cast<double>(x) + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

// The candidate with the most power in `samples`.
inline double dominant_frequency(std::span<const std::int16_t> samples, std::span<const double> candidates,
                                 double rate_hz) {
  double best_hz = 0.0;
  double best_power = -1.0;
  for (const double hz : candidates) {
    const double power = goertzel_power(samples, hz, rate_hz);
    if (power > best_power) {
      best_power = power;
      best_hz = hz;
    }
  }
  return best_hz;
}

// 50 Hz steps from 200 to 2000 Hz: coarse enough to be unambiguous, fine enough to tell notes apart.
inline std::vector<double> candidate_frequencies() {
  std::vector<double> result;
  for (int hz = 200; hz <= 2000; hz += 50) result.push_back(hz);
  return result;
}

inline int peak_of(std::span<const std::int16_t> samples) {
  int peak = 0;
  for (const std::int16_t s : samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  return peak;
}

// A canonical 44-byte-header PCM WAV (RIFF/WAVE, fmt chunk format 1, 16-bit), interleaved samples.
inline std::string wav_bytes(std::span<const std::int16_t> interleaved, std::uint32_t rate_hz, std::uint16_t channels) {
  std::string out;
  auto u32 = [&out](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto u16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  };
  const auto data_bytes = static_cast<std::uint32_t>(interleaved.size() * 2);
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(channels);
  u32(rate_hz);
  u32(rate_hz * channels * 2);                    // byte rate
  u16(static_cast<std::uint16_t>(channels * 2));  // block align
  u16(16);
  out += "data";
  u32(data_bytes);
  for (const std::int16_t s : interleaved) u16(static_cast<std::uint16_t>(s));
  return out;
}

// `seconds` of a `hz` sine at `amplitude`, at `rate_hz`, the same in each of `channels`.
inline std::vector<std::int16_t> sine_interleaved(double hz, double amplitude, double seconds, std::uint32_t rate_hz,
                                                  std::uint16_t channels) {
  const auto frames = static_cast<std::size_t>(seconds * rate_hz);
  std::vector<std::int16_t> out;
  out.reserve(frames * channels);
  for (std::size_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    const auto s = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * hz * t)));
    for (std::uint16_t c = 0; c < channels; ++c) out.push_back(s);
  }
  return out;
}

}  // namespace chorus::mixer::testing
