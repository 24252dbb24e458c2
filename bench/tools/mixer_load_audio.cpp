#include "mixer_load_audio.hpp"

#include <opus.h>
extern "C" {
#include <spandsp.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numbers>

namespace chorus::bench {
namespace {

constexpr int kOpusRate = 48000;
constexpr int kPcmuRate = 8000;
constexpr int kG722Rate = 16000;              // ITU-T G.722 §1.2: 16 kHz audio, 8 kHz RTP clock (RFC 3551 §4.5.2)
constexpr int kG722BitRate = 64000;           // mode 1, what every G.722 phone sends
constexpr int kRtpSamplesPer20ms = 160;       // PCMU and G.722 both (8 kHz RTP clock)
constexpr int kFramesPerSecond = 50;          // 20 ms frames
constexpr int kOpusComplexity = 5;            // the brief's middle setting: realistic encoder output
constexpr int kOpusBitrate = 24000;           // wideband voice, what softphones send
constexpr std::size_t kMaxOpusPacket = 1275;  // RFC 6716 §3.2.1: one frame's maximum
constexpr std::size_t kDtxNotSent = 2;        // libopus: a packet of 2 octets or less need not be sent
constexpr int kWarmupFrames = 25;             // let the encoder settle (and enter DTX) before recording
constexpr int kDtxLoopFrames = 105;           // 2.1 s: libopus sends a DTX refresh every 21st frame
constexpr double kAmplitude = 0.25 * 32767;   // -12 dBFS

struct EncoderDeleter {
  void operator()(OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
};
using Encoder = std::unique_ptr<OpusEncoder, EncoderDeleter>;

std::expected<Encoder, std::string> make_encoder(bool dtx) {
  int error = OPUS_OK;
  Encoder encoder(opus_encoder_create(kOpusRate, 1, OPUS_APPLICATION_VOIP, &error));
  if (error != OPUS_OK || !encoder) return std::unexpected(std::string("opus_encoder_create: ") + opus_strerror(error));
  if (opus_encoder_ctl(encoder.get(), OPUS_SET_COMPLEXITY(kOpusComplexity)) != OPUS_OK ||
      opus_encoder_ctl(encoder.get(), OPUS_SET_BITRATE(kOpusBitrate)) != OPUS_OK ||
      opus_encoder_ctl(encoder.get(), OPUS_SET_DTX(dtx ? 1 : 0)) != OPUS_OK) {
    return std::unexpected(std::string("opus_encoder_ctl failed"));
  }
  return encoder;
}

// Encodes `frames` frames of samples(n) after kWarmupFrames unrecorded ones.
template <typename Samples>
std::expected<FrameLoop, std::string> encode_opus(bool dtx, int frames, Samples samples) {
  auto encoder = make_encoder(dtx);
  if (!encoder) return std::unexpected(encoder.error());
  constexpr int kSamples = kOpusRate / kFramesPerSecond;
  FrameLoop loop;
  loop.samples_per_frame = kSamples;
  std::array<opus_int16, kSamples> pcm{};
  std::array<unsigned char, kMaxOpusPacket> out{};
  long n = 0;
  for (int f = -kWarmupFrames; f < frames; ++f) {
    for (auto& s : pcm) s = samples(n++);
    const opus_int32 length = opus_encode(encoder->get(), pcm.data(), kSamples, out.data(), kMaxOpusPacket);
    if (length < 0) return std::unexpected(std::string("opus_encode: ") + opus_strerror(length));
    if (f < 0) continue;
    loop.levels.push_back(audio_level_of(pcm));
    if (dtx && static_cast<std::size_t>(length) <= kDtxNotSent) {
      loop.frames.emplace_back();
    } else {
      loop.frames.emplace_back(out.begin(), out.begin() + length);
      ++loop.transmitted_frames;
    }
  }
  return loop;
}

// One second of `samples(n)` at 16 kHz, G.722-encoded in 20 ms frames of 160 octets.
template <typename Samples>
std::expected<FrameLoop, std::string> encode_g722(Samples samples) {
  const std::unique_ptr<g722_encode_state_t, decltype(&g722_encode_free)> state(
      g722_encode_init(nullptr, kG722BitRate, 0), &g722_encode_free);
  if (!state) return std::unexpected(std::string("g722_encode_init failed"));
  constexpr int kSamples = kG722Rate / kFramesPerSecond;
  FrameLoop loop;
  loop.samples_per_frame = kRtpSamplesPer20ms;
  std::array<std::int16_t, kSamples> pcm{};
  long n = 0;
  for (int f = 0; f < kFramesPerSecond; ++f) {
    for (auto& sample : pcm) sample = samples(n++);
    loop.levels.push_back(audio_level_of(pcm));
    auto& frame = loop.frames.emplace_back(kSamples / 2);
    if (g722_encode(state.get(), frame.data(), pcm.data(), kSamples) != kSamples / 2)
      return std::unexpected(std::string("g722_encode gave a short frame"));
  }
  loop.transmitted_frames = loop.frames.size();
  return loop;
}

}  // namespace

int talker_frequency_hz(std::size_t talker_index) {
  return 250 + static_cast<int>((talker_index * 89) % 3200);  // 89 is prime to 3200: no repeats
}

std::uint8_t linear_to_ulaw(std::int16_t sample) {
  constexpr int kBias = 0x84;
  constexpr int kClip = 32635;
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0;
  if (sign) value = -value;
  value = std::min(value, kClip) + kBias;
  int exponent = 7;
  for (int mask = 0x4000; exponent > 0 && (value & mask) == 0; mask >>= 1) --exponent;
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

std::uint8_t audio_level_of(std::span<const std::int16_t> pcm) {
  std::int64_t sum_squares = 0;  // at most 960 · 2^30 for a 20 ms frame at 48 kHz
  for (const std::int16_t s : pcm) sum_squares += static_cast<std::int64_t>(s) * s;
  if (sum_squares == 0) return kSilentAudioLevel;
  constexpr double kOverloadSquared = 32768.0 * 32768.0;  // RFC 6464 §3: 0 dBov is a full-scale square wave
  const double mean_square = static_cast<double>(sum_squares) / static_cast<double>(pcm.size());
  const double magnitude = std::round(-10.0 * std::log10(mean_square / kOverloadSquared));
  return static_cast<std::uint8_t>(std::clamp(magnitude, 0.0, static_cast<double>(kSilentAudioLevel)));
}

std::uint8_t payload_type_of(LoadCodec codec) {
  switch (codec) {
    case LoadCodec::kOpus:
      return kOpusPayloadType;
    case LoadCodec::kG722:
      return kG722PayloadType;
    case LoadCodec::kPcmu:
      break;
  }
  return kPcmuPayloadType;
}

const char* codec_name(LoadCodec codec) {
  switch (codec) {
    case LoadCodec::kOpus:
      return "opus";
    case LoadCodec::kG722:
      return "g722";
    case LoadCodec::kPcmu:
      break;
  }
  return "pcmu";
}

std::expected<FrameLoop, std::string> make_tone_loop(LoadCodec codec, int frequency_hz) {
  const int rate = codec == LoadCodec::kOpus ? kOpusRate : (codec == LoadCodec::kG722 ? kG722Rate : kPcmuRate);
  auto tone = [rate, frequency_hz](long n) {
    const double phase = 2 * std::numbers::pi * frequency_hz * static_cast<double>(n % rate) / rate;
    return static_cast<std::int16_t>(std::lround(kAmplitude * std::sin(phase)));
  };
  if (codec == LoadCodec::kOpus) return encode_opus(false, kFramesPerSecond, tone);
  if (codec == LoadCodec::kG722) return encode_g722(tone);
  FrameLoop loop;
  loop.samples_per_frame = kRtpSamplesPer20ms;
  std::array<std::int16_t, kRtpSamplesPer20ms> pcm{};
  long n = 0;
  for (int f = 0; f < kFramesPerSecond; ++f) {
    for (auto& sample : pcm) sample = tone(n++);
    loop.levels.push_back(audio_level_of(pcm));
    auto& frame = loop.frames.emplace_back(pcm.size());
    std::ranges::transform(pcm, frame.begin(), linear_to_ulaw);
  }
  loop.transmitted_frames = loop.frames.size();
  return loop;
}

std::expected<FrameLoop, std::string> make_silence_loop(LoadCodec codec, SilenceMode mode) {
  if (codec == LoadCodec::kOpus) {
    const bool dtx = mode == SilenceMode::kDtx;
    auto loop = encode_opus(dtx, dtx ? kDtxLoopFrames : kFramesPerSecond, [](long) { return std::int16_t{0}; });
    if (loop && loop->transmitted_frames == 0) return std::unexpected(std::string("Opus DTX sent no frame at all"));
    return loop;
  }
  if (codec == LoadCodec::kG722) return encode_g722([](long) { return std::int16_t{0}; });
  FrameLoop loop;
  loop.samples_per_frame = kRtpSamplesPer20ms;
  const std::array<std::int16_t, kRtpSamplesPer20ms> zeros{};  // 0xFF is µ-law's digital zero: level 127
  loop.frames.assign(1, std::vector<std::uint8_t>(zeros.size(), linear_to_ulaw(0)));
  loop.levels.assign(1, audio_level_of(zeros));
  loop.transmitted_frames = 1;
  return loop;
}

}  // namespace chorus::bench
