// AudioCodec: the voice codecs the audio MCU decodes and encodes, and what each one needs from
// GStreamer and from RTP: the RTP clock rate (RFC 3551 §4.5.2: G.722 says 8000 although it
// samples at 16 kHz; RFC 7587 §4.1: Opus always says 48000), the rate it samples at, the stock
// element that encodes it (FrameEncoder; decoding calls each codec directly, ParticipantDecoder),
// and whether its bitstream is a plain sequence of samples (G.711, G.722: any number of 20 ms
// frames concatenate into one packet, which is how ptime other than 20 ms is served) or
// self-delimited packets (Opus).
// Threading: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chorus::mixer {

enum class AudioCodec { kPcmu, kPcma, kG722, kOpus };

struct AudioCodecInfo {
  AudioCodec codec;
  std::string_view encoding_name;  // as in a=rtpmap and the RTP caps (RFC 4855 §3: case-insensitive)
  std::uint32_t rtp_clock_rate;
  std::uint32_t sample_rate;     // what the decoder produces and the encoder takes
  bool sample_stream;            // true: 20 ms frames concatenate (G.711, G.722)
  std::uint32_t bytes_per_20ms;  // for sample streams; 0 for Opus
  const char* encoder;
};

[[nodiscard]] const AudioCodecInfo& codec_info(AudioCodec codec);
// From an SDP encoding name ("PCMU", "opus", ...); nullopt for codecs the mixer does not carry.
[[nodiscard]] std::optional<AudioCodec> audio_codec_from_name(std::string_view encoding_name);

// RTP timestamp units in `duration` of this codec's stream.
[[nodiscard]] constexpr std::uint32_t rtp_ticks(const AudioCodecInfo& info, std::chrono::milliseconds duration) {
  return static_cast<std::uint32_t>(info.rtp_clock_rate / 1000 * duration.count());
}

}  // namespace chorus::mixer
