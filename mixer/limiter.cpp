#include "mixer/limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace chorus::mixer {
namespace {

constexpr double kFullScale = 32767.0;
constexpr double kUnitySnap = 0.999;  // release reaching this close to unity ends limiting

}  // namespace

Sample Limiter::shape(double value) const noexcept {
  const double threshold = static_cast<double>(config_.threshold);
  const double magnitude = std::abs(value);
  double shaped = magnitude;
  if (magnitude > threshold) {
    const double room = kFullScale - threshold;
    shaped = threshold + room * std::tanh((magnitude - threshold) / room);
  }
  shaped = std::min(std::round(shaped), kFullScale);
  return static_cast<Sample>(value < 0 ? -shaped : shaped);
}

std::size_t Limiter::process(std::span<const std::int32_t> in, std::span<Sample> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  std::int64_t peak = 0;
  for (std::size_t i = 0; i < n; ++i) peak = std::max<std::int64_t>(peak, std::abs(static_cast<std::int64_t>(in[i])));

  const double target =
      peak > config_.threshold ? static_cast<double>(config_.threshold) / static_cast<double>(peak) : 1.0;
  if (gain_ == 1.0 && target == 1.0) {  // transparent: |in| ≤ threshold ≤ 32767, exact copy
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Sample>(in[i]);
    return 2 * n;
  }

  const double start = gain_;
  std::size_t ramp = n;  // release: glide over the whole frame
  double end = std::min(target, start + (1.0 - start) * config_.release);
  if (target < start) {  // attack: reach the target within attack_samples
    end = target;
    ramp = std::clamp<std::size_t>(config_.attack_samples, 1, std::max<std::size_t>(n, 1));
  }
  if (end >= kUnitySnap) end = 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = i < ramp ? start + (end - start) * static_cast<double>(i + 1) / static_cast<double>(ramp) : end;
    out[i] = shape(static_cast<double>(in[i]) * g);
  }
  gain_ = end;
  return 2 * n;
}

}  // namespace chorus::mixer
