// G.711 on the media worker, without GStreamer: the expansion of μ-law and A-law octets to linear
// PCM (ITU-T G.711 Tables 1a/2a) and the 8 kHz → 48 kHz interpolation into the mixing domain.
//
// Why not mulawdec/alawdec + audioresample: a G.711 member's whole decode is a table look-up per
// octet and one FIR per 20 ms, yet pushing each packet through a depayloader, a decoder, a
// converter and a resampler cost the worker pad pushes, a buffer allocation and caps checks per
// member per tick: the largest item of the G.711 participants-per-core figure (issue 13).
//
// Quality: the expansion is exact (the same 16-bit values as GStreamer's mulawdec/alawdec, ±32124
// and ±32256 full scale). The interpolator is UpsamplerTo48k's 8 kHz one (mixer/audio/resampler.hpp).
// tests/unit/mixer/audio/g711_test.cpp checks the expansion, and that on the same μ-law stream the
// images are no stronger than mulawdec ! audioresample's (GStreamer's default quality).
// What it saves per member is measured by bench/mixer_capacity.py (bench/RESULTS.md).
//
// Threading: G711Decoder is one member's state, used by one thread at a time; the tables are built
// once, thread-safely, on first use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/resampler.hpp"
#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

// ITU-T G.711: one octet to a 16-bit linear sample (the 14- or 13-bit value scaled by 4 or 8), and
// back: the segment and step the sample falls in (the same octets as GStreamer's mulawenc/alawenc).
[[nodiscard]] Sample pcmu_to_linear(std::uint8_t octet) noexcept;
[[nodiscard]] Sample pcma_to_linear(std::uint8_t octet) noexcept;
[[nodiscard]] std::uint8_t linear_to_pcmu(Sample sample) noexcept;
[[nodiscard]] std::uint8_t linear_to_pcma(Sample sample) noexcept;

// One G.711 member: payload octets in, 48 kHz mixing-domain samples out.
class G711Decoder {
 public:
  // `codec` is kPcmu or kPcma; anything else is a programming error (std::invalid_argument).
  explicit G711Decoder(AudioCodec codec);

  // An RTP payload (RFC 3551 §4.5.14: one octet per 8 kHz sample): appends 6 samples per octet.
  void decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out);
  // A lost packet of `samples_8k` samples: silence, through the same filter so that the last
  // packet's tail rings out instead of stopping dead.
  void decode_silence(std::size_t samples_8k, std::vector<Sample>& out);
  // The payload at 8 kHz, one linear sample per octet written to `out` (at least as long), for a
  // caller that interpolates to 48 kHz itself (ParticipantDecoder: only the frames that are mixed).
  // Touches neither this decoder's interpolator nor its history.
  void decode_narrowband(std::span<const std::uint8_t> payload, std::span<float> out) const;

 private:
  const std::array<float, 256>* table_;
  UpsamplerTo48k upsampler_{8'000};
  // Scratch of decode() and decode_silence(), grown on first use: the audio room decodes through
  // decode_narrowband() (ParticipantDecoder keeps the stream and interpolates), so a member never
  // pays for it.
  std::vector<float> linear_;
};

// One G.711 encode group: 48 kHz mixing-domain frames in, 160 octets per 20 ms out (through
// DownsamplerFrom48k: no GStreamer, nothing held back, so the first frame already gives 160).
class G711Encoder {
 public:
  // `codec` is kPcmu or kPcma; anything else is a programming error (std::invalid_argument).
  explicit G711Encoder(AudioCodec codec);

  // Replaces `out` with the frame's octets (kFrameSamples / 6 of them).
  void encode(FrameView frame, std::vector<std::uint8_t>& out);

 private:
  std::uint8_t (*compress_)(Sample) noexcept;
  DownsamplerFrom48k downsampler_{8'000};
  std::vector<std::int16_t> narrow_;  // the frame at 8 kHz
};

}  // namespace chorus::mixer
