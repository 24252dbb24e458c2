#include "mixer/audio/opus_packet_decoder.hpp"

#include <opus/opus.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace chorus::mixer {
namespace {

void append(std::span<const Sample> pcm, int decoded, std::vector<Sample>& out) {
  if (decoded <= 0) return;
  const auto count = std::min(static_cast<std::size_t>(decoded), pcm.size());
  out.insert(out.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(count));
}

}  // namespace

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

bool OpusPacketDecoder::decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out) {
  // An empty payload would be libopus's "lost" (PLC) call, not a packet: the playout buffer never
  // hands one out, and one that came in is refused like any other malformed packet.
  if (payload.empty()) return false;
  const int decoded = opus_decode(decoder_.get(), payload.data(), static_cast<opus_int32>(payload.size()), pcm_.data(),
                                  static_cast<int>(pcm_.size()), 0);
  if (decoded < 0) return false;
  append(pcm_, decoded, out);
  return true;
}

void OpusPacketDecoder::conceal(std::size_t samples, std::span<const std::uint8_t> next, std::vector<Sample>& out) {
  samples = std::min(samples, kMaxPacketSamples) / kConcealStepSamples * kConcealStepSamples;
  if (samples == 0) return;
  const int frame_size = static_cast<int>(samples);
  int decoded = -1;
  // decode_fec = 1 with the next packet: its LBRR data for the lost one when it has some; libopus
  // itself falls back to concealment when it has none (a CELT-only packet, FEC off at the sender).
  if (!next.empty())
    decoded =
        opus_decode(decoder_.get(), next.data(), static_cast<opus_int32>(next.size()), pcm_.data(), frame_size, 1);
  if (decoded < 0) decoded = opus_decode(decoder_.get(), nullptr, 0, pcm_.data(), frame_size, 0);
  append(pcm_, decoded, out);
}

}  // namespace chorus::mixer
