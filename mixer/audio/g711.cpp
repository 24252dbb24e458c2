#include "mixer/audio/g711.hpp"

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

}  // namespace

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
