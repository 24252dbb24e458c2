// FrameEncoder: turns one 20 ms frame of the mixing domain (48 kHz mono S16) into the payload of
// one codec, on the calling thread, with no GStreamer:
//
//   G.711 (PCMU, PCMA): DownsamplerFrom48k to 8 kHz → G.711 compression (mixer/audio/g711.hpp)
//   G.722: DownsamplerFrom48k to 16 kHz → spandsp's encoder (mixer/audio/g722.hpp)
//   Opus: libopus at 48 kHz mono, one 20 ms packet a frame: 32 kbit/s, complexity 5, the VoIP
//     application, in-band FEC on with a 10% expected loss (RFC 6716 §2.1.7: libopus adds FEC only
//     when told to expect loss; at 0% the receivers' FEC path had nothing to rebuild from)
//
// G.711 and G.722 are sample streams: every encode() returns exactly 20 ms (160 octets), the
// first one included (the resampler's delay is inside the signal, not held back). Opus: one
// packet per 20 ms frame.
// One encoder serves a whole encode group (the listeners sharing codec and ptime), so it is
// stateful per group and never shared between groups.
//
// It was audioconvert ! audioresample ! <encoder> pushed synchronously: a GStreamer chain built on
// the chain thread for every member that joined (its own encoder) and a pad push per encode
// (issue 13: joins per CPU-second into an audio room).
//
// Threading: one thread at a time (the room's media worker); built on any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/g722.hpp"
#include "mixer/audio_frame.hpp"

struct OpusEncoder;  // libopus's, opaque: its header stays out of ours

namespace chorus::mixer {

class FrameEncoder {
 public:
  // Throws std::runtime_error when the codec's encoder cannot be made (out of memory).
  explicit FrameEncoder(AudioCodec codec);

  // The payload for this frame; empty for a frame of the wrong length or a refused encode. Valid
  // until the next call.
  std::span<const std::uint8_t> encode(FrameView pcm);

  [[nodiscard]] AudioCodec codec() const { return codec_; }
  [[nodiscard]] std::uint64_t frames_encoded() const { return frames_; }

 private:
  struct OpusDeleter {
    void operator()(OpusEncoder* encoder) const noexcept;
  };

  AudioCodec codec_;
  // Exactly one of them, by codec_.
  std::optional<G711Encoder> g711_;
  std::optional<G722Encoder> g722_;
  std::unique_ptr<OpusEncoder, OpusDeleter> opus_;
  std::vector<std::uint8_t> payload_;  // what encode() returned last
  std::uint64_t frames_ = 0;
};

}  // namespace chorus::mixer
