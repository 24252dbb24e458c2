#include "mixer/audio/frame_encoder.hpp"

#include <opus.h>

#include <stdexcept>
#include <string>

namespace chorus::mixer {
namespace {

// Opus for voice at a rate every softphone decodes well (RFC 7587 §3.1.1: 24 kbit/s for
// fullband speech); complexity 5 is the cost the capacity targets assume.
constexpr opus_int32 kOpusBitrate = 32'000;
constexpr int kOpusComplexity = 5;
constexpr int kOpusExpectedLossPercent = 10;   // what makes libopus spend bits on in-band FEC
constexpr std::size_t kMaxOpusPacket = 1'275;  // RFC 6716 §3.2.1: one frame's most

OpusEncoder* make_opus_encoder() {
  int error = OPUS_OK;
  OpusEncoder* encoder = opus_encoder_create(kSampleRateHz, 1, OPUS_APPLICATION_VOIP, &error);
  if (error != OPUS_OK || encoder == nullptr)
    throw std::runtime_error(std::string("FrameEncoder: opus_encoder_create: ") + opus_strerror(error));
  opus_encoder_ctl(encoder, OPUS_SET_BITRATE(kOpusBitrate));
  opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(kOpusComplexity));
  opus_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(kOpusExpectedLossPercent));
  return encoder;
}

}  // namespace

void FrameEncoder::OpusDeleter::operator()(OpusEncoder* encoder) const noexcept {
  opus_encoder_destroy(encoder);
}

FrameEncoder::FrameEncoder(AudioCodec codec) : codec_(codec) {
  switch (codec) {
    case AudioCodec::kPcmu:
    case AudioCodec::kPcma:
      g711_.emplace(codec);
      break;
    case AudioCodec::kG722:
      g722_.emplace();
      break;
    case AudioCodec::kOpus:
      opus_.reset(make_opus_encoder());
      payload_.reserve(kMaxOpusPacket);
      break;
  }
}

std::span<const std::uint8_t> FrameEncoder::encode(FrameView pcm) {
  payload_.clear();
  if (pcm.size() != kFrameSamples) return {};
  ++frames_;
  if (g711_) {
    g711_->encode(pcm, payload_);
  } else if (g722_) {
    g722_->encode(pcm, payload_);
  } else if (opus_) {
    payload_.resize(kMaxOpusPacket);
    const opus_int32 length = opus_encode(opus_.get(), pcm.data(), static_cast<int>(pcm.size()), payload_.data(),
                                          static_cast<opus_int32>(payload_.size()));
    payload_.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
  }
  return payload_;
}

}  // namespace chorus::mixer
