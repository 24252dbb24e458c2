#include "mixer/audio/g711.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>

namespace chorus::mixer {
namespace {

constexpr std::size_t kFilterLength = Upsampler8kTo48k::kFactor * Upsampler8kTo48k::kTapsPerPhase;
constexpr double kCutoffHz = 4'000.0;  // the 8 kHz stream's Nyquist frequency
constexpr double kKaiserBeta = 8.6;

// ITU-T G.711 §2 (μ-law): the octet is sent inverted; 3 exponent bits, 4 mantissa bits, biased by
// 33 (0x84 once scaled by 4).
constexpr Sample expand_mu_law(std::uint8_t octet) {
  const int inverted = static_cast<std::uint8_t>(~octet);
  const int exponent = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<Sample>((inverted & 0x80) != 0 ? -magnitude : magnitude);
}

// ITU-T G.711 §3 (A-law): even bits inverted (0x55); the sign bit set means positive.
constexpr Sample expand_a_law(std::uint8_t octet) {
  const int toggled = octet ^ 0x55;
  const int exponent = (toggled >> 4) & 0x07;
  int magnitude = ((toggled & 0x0F) << 4) + 8;
  if (exponent != 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return static_cast<Sample>((toggled & 0x80) != 0 ? magnitude : -magnitude);
}

template <Sample (*kExpand)(std::uint8_t)>
std::array<float, 256> float_table() {
  std::array<float, 256> table{};
  for (std::size_t octet = 0; octet < table.size(); ++octet)
    table[octet] = static_cast<float>(kExpand(static_cast<std::uint8_t>(octet)));
  return table;
}

const std::array<float, 256>& mu_law_table() {
  static const auto table = float_table<expand_mu_law>();
  return table;
}

const std::array<float, 256>& a_law_table() {
  static const auto table = float_table<expand_a_law>();
  return table;
}

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

// The polyphase filters, each reversed so that output sample n of phase p is the dot product of
// phase p's taps with input[n .. n + kTapsPerPhase): a forward loop the compiler vectorises.
// The prototype is a Kaiser-windowed sinc at 48 kHz; each phase is normalised to a DC gain of 1 so
// that a constant input gives a constant output (no 8 kHz ripple from unequal phase sums).
using PhaseTaps = std::array<std::array<float, Upsampler8kTo48k::kTapsPerPhase>, Upsampler8kTo48k::kFactor>;

PhaseTaps design_phases() {
  constexpr double kRate = kSampleRateHz;
  constexpr double kCentre = (kFilterLength - 1) / 2.0;
  std::array<double, kFilterLength> prototype{};
  for (std::size_t m = 0; m < kFilterLength; ++m) {
    const double t = static_cast<double>(m) - kCentre;
    const double x = 2.0 * kCutoffHz / kRate * t;
    const double sinc = t == 0.0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    const double r = t / kCentre;
    prototype[m] = sinc * bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(kKaiserBeta);
  }
  PhaseTaps phases{};
  constexpr std::size_t kTaps = Upsampler8kTo48k::kTapsPerPhase;
  for (std::size_t phase = 0; phase < Upsampler8kTo48k::kFactor; ++phase) {
    double sum = 0.0;
    for (std::size_t k = 0; k < kTaps; ++k) sum += prototype[k * Upsampler8kTo48k::kFactor + phase];
    // y[6n + p] = Σ_k h[6k + p] · x[n - k]; reversed: tap j multiplies x[n - (kTaps - 1) + j].
    for (std::size_t k = 0; k < kTaps; ++k)
      phases[phase][kTaps - 1 - k] = static_cast<float>(prototype[k * Upsampler8kTo48k::kFactor + phase] / sum);
  }
  return phases;
}

const PhaseTaps& phase_taps() {
  static const PhaseTaps taps = design_phases();
  return taps;
}

// The FIR itself. Each phase's outputs are computed kBlock at a time: kChains registers of eight
// (GCC's vector extension; on the baseline x86-64 each becomes two SSE halves), independent, so
// the multiply-adds of one tap overlap instead of waiting on each other's latency. Each sum is
// rounded, clamped to 16 bits and stored at its interleaved place, 6n + phase.
// Compiled twice on x86-64 (AVX2+FMA and the baseline) and picked at load time: the package runs on
// any x86-64, and a machine with AVX2 does a tap for eight outputs in one instruction.
using Lanes = float __attribute__((vector_size(32)));
using IntLanes = std::int32_t __attribute__((vector_size(32)));
constexpr std::size_t kLanes = sizeof(Lanes) / sizeof(float);
constexpr std::size_t kChains = 4;
constexpr std::size_t kBlock = kLanes * kChains;
static_assert(Upsampler8kTo48k::kMaxInput % kBlock == 0, "whole blocks fit the scratch rows");
constexpr std::size_t kWindowPadding = kBlock - 1;  // the last block may read past the input

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void filter_phases(const PhaseTaps& taps, const float* window, std::size_t count, Sample* out) {
  constexpr std::size_t kFactor = Upsampler8kTo48k::kFactor;
  for (std::size_t phase = 0; phase < kFactor; ++phase) {
    for (std::size_t block = 0; block < count; block += kBlock) {
      std::array<Lanes, kChains> sums{};
      for (std::size_t tap = 0; tap < Upsampler8kTo48k::kTapsPerPhase; ++tap) {
        const float coefficient = taps[phase][tap];
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
          if (n < count) out[n * kFactor + phase] = static_cast<Sample>(values[lane]);
        }
      }
    }
  }
}

}  // namespace

Sample pcmu_to_linear(std::uint8_t octet) noexcept {
  return expand_mu_law(octet);
}
Sample pcma_to_linear(std::uint8_t octet) noexcept {
  return expand_a_law(octet);
}

void Upsampler8kTo48k::process(std::span<const float> input, std::vector<Sample>& out) {
  while (!input.empty()) {
    const std::size_t count = std::min(input.size(), kMaxInput);
    process_block(input.first(count), out);
    input = input.subspan(count);
  }
}

void Upsampler8kTo48k::process_block(std::span<const float> input, std::vector<Sample>& out) {
  // The window is the history followed by the new samples; each phase's output n reads
  // window[n .. n + kTapsPerPhase). A stack array: no allocation on the worker's tick.
  std::array<float, kTapsPerPhase - 1 + kMaxInput + kWindowPadding> window{};
  std::copy(history_.begin(), history_.end(), window.begin());
  std::copy(input.begin(), input.end(), window.begin() + history_.size());
  const std::size_t start = out.size();
  out.resize(start + kFactor * input.size());
  filter_phases(phase_taps(), window.data(), input.size(), out.data() + start);
  std::copy_n(window.begin() + static_cast<std::ptrdiff_t>(input.size()), history_.size(), history_.begin());
}

G711Decoder::G711Decoder(AudioCodec codec) {
  if (codec == AudioCodec::kPcmu)
    table_ = &mu_law_table();
  else if (codec == AudioCodec::kPcma)
    table_ = &a_law_table();
  else
    throw std::invalid_argument("G711Decoder: the codec is not G.711");
  linear_.reserve(kLargestPayload);
}

void G711Decoder::decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out) {
  linear_.resize(payload.size());
  for (std::size_t i = 0; i < payload.size(); ++i) linear_[i] = (*table_)[payload[i]];
  upsampler_.process(linear_, out);  // which takes it kMaxInput at a time
}

void G711Decoder::decode_silence(std::size_t samples_8k, std::vector<Sample>& out) {
  linear_.assign(samples_8k, 0.0F);
  upsampler_.process(linear_, out);
}

}  // namespace chorus::mixer
