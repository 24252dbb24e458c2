#include "mixer/audio/opus_packet_decoder.hpp"

#include <opus/opus.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace chorus::mixer {
void OpusPacketDecoder::Destroy::operator()(::OpusDecoder* decoder) const noexcept {
  opus_decoder_destroy(decoder);
}

OpusPacketDecoder::OpusPacketDecoder() {
  int error = OPUS_OK;
  decoder_.reset(opus_decoder_create(static_cast<opus_int32>(kSampleRateHz), 1, &error));
  if (error != OPUS_OK || !decoder_)
    throw std::runtime_error(std::string("libopus cannot make a decoder: ") + opus_strerror(error));
}

OpusPacketDecoder::~OpusPacketDecoder() = default;

std::optional<std::span<const Sample>> OpusPacketDecoder::decode(std::span<const std::uint8_t> payload) {
  // An empty payload would be libopus's "lost" (PLC) call, not a packet: the playout buffer never
  // hands one out, and one that came in is refused like any other malformed packet.
  if (payload.empty()) return std::nullopt;
  const int decoded = opus_decode(decoder_.get(), payload.data(), static_cast<opus_int32>(payload.size()), pcm_.data(),
                                  static_cast<int>(pcm_.size()), 0);
  if (decoded < 0) return std::nullopt;
  return std::span<const Sample>(pcm_).first(static_cast<std::size_t>(decoded));
}

std::span<const Sample> OpusPacketDecoder::conceal(std::size_t samples, std::span<const std::uint8_t> next) {
  samples = std::min(samples, kMaxPacketSamples) / kConcealStepSamples * kConcealStepSamples;
  if (samples == 0) return {};
  const int frame_size = static_cast<int>(samples);
  int decoded = -1;
  // decode_fec = 1 with the next packet: its LBRR data for the lost one when it has some; libopus
  // itself falls back to concealment when it has none (a CELT-only packet, FEC off at the sender).
  if (!next.empty())
    decoded =
        opus_decode(decoder_.get(), next.data(), static_cast<opus_int32>(next.size()), pcm_.data(), frame_size, 1);
  if (decoded < 0) decoded = opus_decode(decoder_.get(), nullptr, 0, pcm_.data(), frame_size, 0);
  if (decoded <= 0) return {};
  return std::span<const Sample>(pcm_).first(static_cast<std::size_t>(decoded));
}

void OpusPacketDecoder::reset() noexcept {
  opus_decoder_ctl(decoder_.get(), OPUS_RESET_STATE);
}

}  // namespace chorus::mixer
