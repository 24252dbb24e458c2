#include "mixer/audio/g722.hpp"

extern "C" {
#include <spandsp.h>
}

#include <algorithm>
#include <stdexcept>

namespace chorus::mixer {
namespace {

constexpr int kBitRate = 64'000;  // mode 1: 8 bits per sample pair, what RFC 3551's G722 carries

}  // namespace

void G722Decoder::decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out) {
  linear_.resize(2 * payload.size());
  linear_.resize(decode_wideband(payload, linear_));
  upsampler_.process(linear_, out);  // which takes it kMaxInput at a time
}

std::size_t G722Decoder::decode_wideband(std::span<const std::uint8_t> payload, std::span<float> out) {
  return codec_.decode(payload, out);
}

void G722Decoder::decode_silence(std::size_t samples_16k, std::vector<Sample>& out) {
  linear_.assign(samples_16k, 0.0F);
  upsampler_.process(linear_, out);
}

void G722Encoder::StateDeleter::operator()(g722_encode_state_s* state) const noexcept {
  g722_encode_free(state);
}

G722Encoder::G722Encoder() : state_(g722_encode_init(nullptr, kBitRate, 0)) {
  if (!state_) throw std::runtime_error("G722Encoder: spandsp could not allocate its state");
  wide_.reserve(kFrameSamples);
}

void G722Encoder::encode(FrameView frame, std::vector<std::uint8_t>& out) {
  downsampler_.process(frame, wide_);
  out.resize(wide_.size() / 2);
  const int octets = g722_encode(state_.get(), out.data(), wide_.data(), static_cast<int>(wide_.size()));
  out.resize(static_cast<std::size_t>(std::max(octets, 0)));
}

}  // namespace chorus::mixer
