// mixer_load audio: the frames the capacity generator (bench/tools/mixer_load.cpp) sends, encoded
// once at start so the send loop only copies bytes.
//
// A FrameLoop is a sequence of 20 ms frames played round and round: a talker's tone (an integer
// frequency, so one second of it holds whole cycles and the loop has no click) or silence. An empty
// frame means "nothing sent this 20 ms" (Opus DTX, RFC 7587 §3.1.3), the timestamp still advances.
// Opus: 48 kHz mono (RFC 7587 §4.1: a receiver of opus/48000/2 without stereo=1 gets mono),
// libopus at complexity 5; PCMU: G.711 µ-law at 8 kHz (RFC 3551 §4.5.14); G.722: 64 kbit/s at
// 16 kHz, encoded by spandsp (the ITU-T reference's level, as baresip sends it), 160 octets a
// frame and an 8 kHz RTP clock (RFC 3551 §4.5.2). Each frame keeps the RFC 6464 level of the PCM
// it was encoded from, measured as libwebrtc's RmsLevel measures it, for --audio-level.
// Threading: built on the main thread before the send loop starts; read-only afterwards.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <vector>

namespace chorus::bench {

enum class LoadCodec { kOpus, kPcmu, kG722 };
enum class SilenceMode { kDtx, kFrames };

inline constexpr std::uint8_t kOpusPayloadType = 111;  // dynamic (RFC 3551 §6), as browsers use it
inline constexpr std::uint8_t kPcmuPayloadType = 0;    // static (RFC 3551 §6)
inline constexpr std::uint8_t kG722PayloadType = 9;    // static (RFC 3551 §6)

// The payload type mixer_load offers for `codec`, and its name on the command line and in the JSON.
[[nodiscard]] std::uint8_t payload_type_of(LoadCodec codec);
[[nodiscard]] const char* codec_name(LoadCodec codec);

struct FrameLoop {
  std::vector<std::vector<std::uint8_t>> frames;  // empty: DTX, no packet this 20 ms
  std::vector<std::uint8_t> levels;               // per frame (same index): audio_level_of its PCM
  std::uint32_t samples_per_frame = 0;            // RTP timestamp step (RFC 3550 §5.1)
  std::size_t transmitted_frames = 0;             // non-empty frames in one loop
};

// The i-th talker's tone frequency: distinct for i < 3200, 250..3449 Hz (under PCMU's Nyquist).
[[nodiscard]] int talker_frequency_hz(std::size_t talker_index);

// One second of a sine tone at `frequency_hz`, -12 dBFS.
[[nodiscard]] std::expected<FrameLoop, std::string> make_tone_loop(LoadCodec codec, int frequency_hz);

// Silence: for Opus with DTX on (mostly empty frames, a refresh every 400 ms) or encoded silent
// frames; for PCMU µ-law silence (0xFF) and for G.722 encoded silence, whatever `mode` says.
[[nodiscard]] std::expected<FrameLoop, std::string> make_silence_loop(LoadCodec codec, SilenceMode mode);

inline constexpr std::uint8_t kSilentAudioLevel = 127;  // RFC 6464 §3: -127 dBov or less
inline constexpr std::uint8_t kVoicedAudioLevel = 50;   // at or above -50 dBov the V flag is set

// RFC 6464 §3 level magnitude of one frame, as libwebrtc's RmsLevel computes what a browser sends:
// -10·log10(mean square / 32768²) rounded to a whole dB, clamped to 0..127; all zeros (or none) 127.
[[nodiscard]] std::uint8_t audio_level_of(std::span<const std::int16_t> pcm);

// The ssrc-audio-level element's data byte (RFC 6464 §3): V in the top bit, then the level. A
// browser takes V from its VAD; a tone and digital silence need no VAD, the level decides.
[[nodiscard]] constexpr std::uint8_t audio_level_octet(std::uint8_t level) {
  return static_cast<std::uint8_t>((level <= kVoicedAudioLevel ? 0x80 : 0x00) | (level & 0x7F));
}

// ITU-T G.711 µ-law of one linear sample (the BIAS/CLIP formulation).
[[nodiscard]] std::uint8_t linear_to_ulaw(std::int16_t sample);

}  // namespace chorus::bench
