#include "mixer/audio/g711.hpp"

#include <algorithm>
#include <stdexcept>

namespace chorus::mixer {
namespace {

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

// ITU-T G.711 §2 from the other side: the magnitude biased by 33 (0x84 scaled), its segment the
// position of its top bit, four mantissa bits below it; the octet sent inverted. Clipped at the
// largest magnitude μ-law carries (32,635 before the bias).
std::uint8_t compress_mu_law(Sample sample) noexcept {
  constexpr int kBias = 0x84;
  constexpr int kClip = 32'635;
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0;
  if (sign != 0) value = -value;
  value = std::min(value, kClip) + kBias;
  int exponent = 7;
  for (int mask = 0x4000; exponent > 0 && (value & mask) == 0; mask >>= 1) --exponent;
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

// ITU-T G.711 §3 from the other side, on the 13-bit value: segment by the top bit, four bits of
// step; the even bits inverted (0x55) and the sign bit set for positive values.
std::uint8_t compress_a_law(Sample sample) noexcept {
  // The magnitude, then its 13 bits (as GStreamer's alawenc: a negative sample is not floored first).
  int value = sample < 0 ? -static_cast<int>(sample) >> 3 : sample >> 3;
  const int mask = sample < 0 ? 0x55 : 0xD5;
  int segment = 0;
  while (segment < 8 && value > (0x20 << segment) - 1) ++segment;  // segment ends 0x1F, 0x3F, ... 0xFFF
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int step = segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F;
  return static_cast<std::uint8_t>(((segment << 4) | step) ^ mask);
}

}  // namespace

std::uint8_t linear_to_pcmu(Sample sample) noexcept {
  return compress_mu_law(sample);
}
std::uint8_t linear_to_pcma(Sample sample) noexcept {
  return compress_a_law(sample);
}

Sample pcmu_to_linear(std::uint8_t octet) noexcept {
  return expand_mu_law(octet);
}
Sample pcma_to_linear(std::uint8_t octet) noexcept {
  return expand_a_law(octet);
}

G711Decoder::G711Decoder(AudioCodec codec) {
  if (codec == AudioCodec::kPcmu)
    table_ = &mu_law_table();
  else if (codec == AudioCodec::kPcma)
    table_ = &a_law_table();
  else
    throw std::invalid_argument("G711Decoder: the codec is not G.711");
}

void G711Decoder::decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out) {
  linear_.resize(payload.size());
  decode_narrowband(payload, linear_);
  upsampler_.process(linear_, out);  // which takes it kMaxInput at a time
}

void G711Decoder::decode_narrowband(std::span<const std::uint8_t> payload, std::span<float> out) const {
  const std::size_t count = std::min(payload.size(), out.size());
  for (std::size_t i = 0; i < count; ++i) out[i] = (*table_)[payload[i]];
}

void G711Decoder::decode_silence(std::size_t samples_8k, std::vector<Sample>& out) {
  linear_.assign(samples_8k, 0.0F);
  upsampler_.process(linear_, out);
}

G711Encoder::G711Encoder(AudioCodec codec) {
  if (codec == AudioCodec::kPcmu)
    compress_ = &linear_to_pcmu;
  else if (codec == AudioCodec::kPcma)
    compress_ = &linear_to_pcma;
  else
    throw std::invalid_argument("G711Encoder: the codec is not G.711");
  narrow_.reserve(kFrameSamples);
}

void G711Encoder::encode(FrameView frame, std::vector<std::uint8_t>& out) {
  downsampler_.process(frame, narrow_);
  out.resize(narrow_.size());
  for (std::size_t i = 0; i < narrow_.size(); ++i) out[i] = compress_(narrow_[i]);
}

}  // namespace chorus::mixer
