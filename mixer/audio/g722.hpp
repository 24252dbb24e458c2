// G.722 on the media worker, without GStreamer: our own decoder (G722AdpcmDecoder, bit-exact with
// spandsp's but clipping an overload that spandsp wraps) and spandsp's encoder (the ITU-T G.722 reference's algorithm,
// 64 kbit/s, 16-bit linear at full scale, as FreeSWITCH and baresip use it) and the 16 kHz ↔ 48 kHz resampling to and
// from the mixing domain (mixer/audio/resampler.hpp).
//
// Why our own decoder: every G.722 member's packets are decoded every 20 ms, and at 400 members
// spandsp's g722_decode was 43% of the worker's busy time. G722AdpcmDecoder gives exactly its samples
// (g722_adpcm_decoder_test; an overload clipped, not wrapped) about 3.5 times faster: ~2.4-2.7 µs per 160-octet packet
// against ~8.5-9 µs (bench/micro/g722_decode.cpp). The encoder stays spandsp's: one per encode group, not one per
// member.
//
// Why not rtpg722depay ! avdec_g722 ! audioconvert ! audioresample: pushing each packet through four
// elements cost the worker pad pushes, a buffer allocation and caps checks per member per tick, the
// same overhead the G.711 and Opus paths shed before it (issue 13's G.722 target).
//
// Level: the decoder gives the reference's 16-bit samples (spandsp's, exactly), which avdec_g722
// matched within 0.01 dB (tests/unit/mixer/audio/g722_level_test.cpp keeps checking the level end to
// end); g722_test.cpp compares this decoder with avdec_g722 ! audioresample on the same stream.
//
// Threading: one G722Decoder is one member's state, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "mixer/audio/g722_adpcm_decoder.hpp"
#include "mixer/audio/resampler.hpp"
#include "mixer/audio_frame.hpp"

// spandsp's, opaque; its header stays out of ours.
struct g722_encode_state_s;  // NOLINT(readability-identifier-naming)

namespace chorus::mixer {

class G722Decoder {
 public:
  G722Decoder() = default;

  // An RTP payload (RFC 3551 §4.5.2: an octet per two 16 kHz samples): appends 6 samples per octet.
  void decode(std::span<const std::uint8_t> payload, std::vector<Sample>& out);
  // A lost packet of `samples_16k` samples: silence (G.722 has no concealment of its own), through
  // the same filter so that the last packet's tail rings out instead of stopping dead.
  void decode_silence(std::size_t samples_16k, std::vector<Sample>& out);
  // The payload at 16 kHz, two samples per octet written to `out` (the first out.size() of them
  // when it is shorter), for a caller that interpolates to 48 kHz itself (ParticipantDecoder: only
  // the frames that are mixed). The codec's state advances over the whole payload, as with
  // decode(); the interpolator's does not. Returns how many samples were written.
  std::size_t decode_wideband(std::span<const std::uint8_t> payload, std::span<float> out);

 private:
  G722AdpcmDecoder codec_;
  UpsamplerTo48k upsampler_{16'000};
  // Scratch of decode() and decode_silence(), grown on first use: the audio room decodes through
  // decode_wideband() (ParticipantDecoder keeps the stream and interpolates), so a member never pays
  // for it.
  std::vector<float> linear_;
};

// One G.722 encode group: 48 kHz mixing-domain frames through DownsamplerFrom48k to 16 kHz, then
// spandsp's encoder (64 kbit/s): 160 octets per 20 ms from the first frame on.
class G722Encoder {
 public:
  // Throws std::runtime_error when spandsp cannot allocate its state.
  G722Encoder();

  // Replaces `out` with the frame's octets (kFrameSamples / 6 of them).
  void encode(FrameView frame, std::vector<std::uint8_t>& out);

 private:
  struct StateDeleter {
    void operator()(g722_encode_state_s* state) const noexcept;
  };

  std::unique_ptr<g722_encode_state_s, StateDeleter> state_;
  DownsamplerFrom48k downsampler_{16'000};
  std::vector<std::int16_t> wide_;  // the frame at 16 kHz
};

}  // namespace chorus::mixer
