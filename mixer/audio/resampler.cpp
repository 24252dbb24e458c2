#include "mixer/audio/resampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>

namespace chorus::mixer {

// The polyphase filters, each reversed so that output sample n of phase p is the dot product of
// phase p's taps with input[n .. n + taps_per_phase): a forward loop the compiler vectorises.
struct UpsamplerTo48k::Design {
  std::size_t factor = 0;
  std::size_t taps_per_phase = 0;
  std::vector<float> taps;  // phase-major: taps[phase * taps_per_phase + j]
};

// The whole low-pass, reversed, summing to 1: kept output m is the dot product of the taps with
// input[F·m .. F·m + taps.size()).
struct DownsamplerFrom48k::Design {
  std::size_t factor = 0;
  std::vector<float> taps;
};

namespace {

constexpr double kKaiserBeta = 8.6;

// The zeroth-order modified Bessel function of the first kind, by its power series (it converges
// fast for the β of a Kaiser window: 30 terms are far past double precision at β = 8.6).
double bessel_i0(double x) {
  double sum = 1.0;
  double term = 1.0;
  for (int k = 1; k < 30; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
  }
  return sum;
}

// A Kaiser-windowed sinc at 48 kHz cut off at the lower rate's Nyquist frequency, `length` taps.
std::vector<double> prototype(std::size_t factor, std::size_t length) {
  const double cutoff_hz = static_cast<double>(kSampleRateHz) / static_cast<double>(factor) / 2.0;
  const double centre = static_cast<double>(length - 1) / 2.0;
  std::vector<double> taps(length);
  for (std::size_t m = 0; m < length; ++m) {
    const double t = static_cast<double>(m) - centre;
    const double x = 2.0 * cutoff_hz / kSampleRateHz * t;
    const double sinc = t == 0.0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    const double r = t / centre;
    taps[m] = sinc * bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(kKaiserBeta);
  }
  return taps;
}

// The prototype split into `factor` phases; each phase is normalised to a DC gain of 1 so that a
// constant input gives a constant output (no ripple at the input rate from unequal phase sums).
UpsamplerTo48k::Design design(std::size_t factor, std::size_t taps_per_phase) {
  const std::size_t length = factor * taps_per_phase;
  const std::vector<double> h = prototype(factor, length);
  UpsamplerTo48k::Design result{factor, taps_per_phase, std::vector<float>(length)};
  for (std::size_t phase = 0; phase < factor; ++phase) {
    double sum = 0.0;
    for (std::size_t k = 0; k < taps_per_phase; ++k) sum += h[k * factor + phase];
    // y[F·n + p] = Σ_k h[F·k + p] · x[n - k]; reversed: tap j multiplies x[n - (taps - 1) + j].
    for (std::size_t k = 0; k < taps_per_phase; ++k)
      result.taps[phase * taps_per_phase + taps_per_phase - 1 - k] = static_cast<float>(h[k * factor + phase] / sum);
  }
  return result;
}

// The filter `kMake` designs for 8 or 16 kHz (32 or 48 taps per phase), made once per rate and
// kind, thread-safely (a function-local static).
template <typename Design, Design (*kMake)(std::size_t, std::size_t)>
const Design& design_for_rate(std::uint32_t rate_hz, const char* who) {
  if (rate_hz == 8'000) {
    static const Design narrowband = kMake(kSampleRateHz / 8'000, 32);
    return narrowband;
  }
  if (rate_hz == 16'000) {
    static const Design wideband = kMake(kSampleRateHz / 16'000, 48);
    return wideband;
  }
  throw std::invalid_argument(std::string(who) + ": the rate is neither 8 nor 16 kHz");
}

// The FIR itself. Each phase's outputs are computed kBlock at a time: kChains registers of eight
// (GCC's vector extension; on the baseline x86-64 each becomes two SSE halves), independent, so
// the multiply-adds of one tap overlap instead of waiting on each other's latency. Each sum is
// rounded, clamped to 16 bits and stored at its interleaved place, factor·n + phase.
// Compiled twice on x86-64 (AVX2+FMA and the baseline) and picked at load time: the package runs on
// any x86-64, and a machine with AVX2 does a tap for eight outputs in one instruction.
using Lanes = float __attribute__((vector_size(32)));
using IntLanes = std::int32_t __attribute__((vector_size(32)));
constexpr std::size_t kLanes = sizeof(Lanes) / sizeof(float);
constexpr std::size_t kChains = 4;
constexpr std::size_t kBlock = kLanes * kChains;
static_assert(UpsamplerTo48k::kMaxInput % kBlock == 0, "whole blocks fit the window");
constexpr std::size_t kWindowPadding = kBlock - 1;  // the last block may read past the input

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void filter_phases(const UpsamplerTo48k::Design& design, const float* window, std::size_t count, Sample* out) {
  const std::size_t factor = design.factor;
  const std::size_t taps_per_phase = design.taps_per_phase;
  for (std::size_t phase = 0; phase < factor; ++phase) {
    const float* taps = design.taps.data() + phase * taps_per_phase;
    for (std::size_t block = 0; block < count; block += kBlock) {
      std::array<Lanes, kChains> sums{};
      for (std::size_t tap = 0; tap < taps_per_phase; ++tap) {
        const float coefficient = taps[tap];
        for (std::size_t chain = 0; chain < kChains; ++chain) {
          Lanes input;
          std::memcpy(&input, window + block + chain * kLanes + tap, sizeof input);
          sums[chain] += coefficient * input;
        }
      }
      for (std::size_t chain = 0; chain < kChains; ++chain) {
        Lanes rounded = sums[chain] + (sums[chain] >= 0.0F ? 0.5F : -0.5F);
        rounded = rounded > 32767.0F ? 32767.0F : rounded;
        rounded = rounded < -32768.0F ? -32768.0F : rounded;
        const IntLanes values = __builtin_convertvector(rounded, IntLanes);
        for (std::size_t lane = 0; lane < kLanes; ++lane) {
          const std::size_t n = block + chain * kLanes + lane;
          if (n < count) out[n * factor + phase] = static_cast<Sample>(values[lane]);
        }
      }
    }
  }
}

// The kept outputs of the low-pass: one dot product of all the taps each, eight taps to a vector
// and two vectors in flight. Compiled twice on x86-64 like filter_phases.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void decimate(const DownsamplerFrom48k::Design& design, const float* window, std::size_t count, std::int16_t* out) {
  const std::size_t chunks = design.taps.size() / kLanes;
  const float* taps = design.taps.data();
  for (std::size_t m = 0; m < count; ++m) {
    const float* input = window + m * design.factor;
    std::array<Lanes, 2> sums{};
    for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
      Lanes coefficients;
      Lanes samples;
      std::memcpy(&coefficients, taps + chunk * kLanes, sizeof coefficients);
      std::memcpy(&samples, input + chunk * kLanes, sizeof samples);
      sums[chunk % 2] += coefficients * samples;
    }
    const Lanes total = sums[0] + sums[1];
    float sum = 0.0F;
    for (std::size_t lane = 0; lane < kLanes; ++lane) sum += total[lane];
    const float rounded = std::round(sum);
    out[m] = static_cast<std::int16_t>(std::clamp(rounded, -32768.0F, 32767.0F));
  }
}

DownsamplerFrom48k::Design decimator(std::size_t factor, std::size_t taps_per_phase) {
  const std::size_t length = factor * taps_per_phase;
  const std::vector<double> h = prototype(factor, length);
  double sum = 0.0;
  for (const double tap : h) sum += tap;
  DownsamplerFrom48k::Design result{factor, std::vector<float>(length)};
  for (std::size_t k = 0; k < length; ++k) result.taps[length - 1 - k] = static_cast<float>(h[k] / sum);
  return result;
}

}  // namespace

UpsamplerTo48k::UpsamplerTo48k(std::uint32_t input_rate_hz)
    : design_(&design_for_rate<Design, &design>(input_rate_hz, "UpsamplerTo48k")) {
  history_.fill(0.0F);
}

std::size_t UpsamplerTo48k::factor() const noexcept {
  return design_->factor;
}

std::size_t UpsamplerTo48k::taps_per_phase() const noexcept {
  return design_->taps_per_phase;
}

void UpsamplerTo48k::process(std::span<const float> input, std::vector<Sample>& out) {
  while (!input.empty()) {
    const std::size_t count = std::min(input.size(), kMaxInput);
    process_block(input.first(count), out);
    input = input.subspan(count);
  }
}

namespace {

// What filter_phases reads: a window of history and input, then the padding its last block reads
// past the input. A stack array: no allocation on the worker's tick.
using PaddedWindow =
    std::array<float, UpsamplerTo48k::kMaxTapsPerPhase - 1 + UpsamplerTo48k::kMaxInput + kWindowPadding>;

// `head` then `tail` into the window, and only the padding after them zeroed (not all 4 KB).
void fill_window(PaddedWindow& window, std::span<const float> head, std::span<const float> tail) {
  auto end = std::copy(head.begin(), head.end(), window.begin());
  end = std::copy(tail.begin(), tail.end(), end);
  std::fill_n(end, kWindowPadding, 0.0F);
}

}  // namespace

void UpsamplerTo48k::process_block(std::span<const float> input, std::vector<Sample>& out) {
  // The window is the history followed by the new samples; each phase's output n reads
  // window[n .. n + taps_per_phase).
  const std::size_t kept = design_->taps_per_phase - 1;
  PaddedWindow window;  // filled below
  fill_window(window, std::span<const float>(history_).first(kept), input);
  const std::size_t start = out.size();
  out.resize(start + design_->factor * input.size());
  filter_phases(*design_, window.data(), input.size(), out.data() + start);
  std::copy_n(window.begin() + static_cast<std::ptrdiff_t>(input.size()), kept, history_.begin());
}

void UpsamplerTo48k::interpolate(std::span<const float> window, std::span<Sample> out) const {
  const std::size_t kept = design_->taps_per_phase - 1;
  const std::size_t count = std::min(window.size() - std::min(window.size(), kept), kMaxInput);
  if (out.size() < design_->factor * count) return;  // a caller's error: nothing written past `out`
  PaddedWindow padded;                               // filled below
  fill_window(padded, window.first(kept + count), {});
  filter_phases(*design_, padded.data(), count, out.data());
}

DownsamplerFrom48k::DownsamplerFrom48k(std::uint32_t output_rate_hz)
    : design_(&design_for_rate<Design, &decimator>(output_rate_hz, "DownsamplerFrom48k")) {
  static_assert(kMaxTaps % kLanes == 0 && (kMaxTaps / kLanes) % 2 == 0, "whole vector pairs of taps");
  history_.fill(0.0F);
}

std::size_t DownsamplerFrom48k::factor() const noexcept {
  return design_->factor;
}

void DownsamplerFrom48k::process(FrameView frame, std::vector<std::int16_t>& out) {
  frame = frame.first(std::min(frame.size(), kFrameSamples));  // the window holds one frame
  // The window is the history followed by the frame; kept output m reads window[F·m .. F·m + taps).
  const std::size_t kept = design_->taps.size() - 1;
  // Every sample the kept outputs read is written below: nothing to zero.
  std::array<float, kMaxTaps - 1 + kFrameSamples> window;  // filled below
  std::copy_n(history_.begin(), kept, window.begin());
  std::copy(frame.begin(), frame.end(), window.begin() + static_cast<std::ptrdiff_t>(kept));
  out.resize(frame.size() / design_->factor);
  decimate(*design_, window.data(), out.size(), out.data());
  std::copy_n(window.begin() + static_cast<std::ptrdiff_t>(frame.size()), kept, history_.begin());
}

}  // namespace chorus::mixer
