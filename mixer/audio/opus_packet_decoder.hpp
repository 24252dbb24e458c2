// Opus on the media worker, without GStreamer: one member's libopus decoder state, RTP payloads in,
// 48 kHz mono mixing-domain samples out.
//
// Why not rtpopusdepay ! opusdec ! audioconvert ! audioresample: the decode itself is libopus's in
// both cases (opusdec wraps the same library), but each packet also paid for a GstBuffer, pad
// pushes through four elements and their caps checks, on the worker, per member per tick. That
// overhead was most of an Opus member's cost beside the decode (issue 13's Opus-per-core target),
// as it was for G.711 (mixer/audio/g711.hpp).
//
// What it keeps of opusdec plc=true use-inband-fec=true:
// - the decoder runs at 48 kHz, one channel (RFC 7587 §4.1: the RTP clock is 48 kHz whatever the
//   bandwidth; libopus downmixes a stereo stream itself), so no resampler is needed;
// - a lost packet is rebuilt from the next packet's in-band FEC (RFC 6716 §2.1.7, the LBRR frames
//   SILK and hybrid packets carry when the sender enables it) when that packet is already queued,
//   and otherwise concealed by libopus's PLC; either way libopus is told exactly how much audio is
//   missing, so its state stays right for the next packet (opus_decode(3), frame_size);
// - a packet libopus refuses (corrupt, or not Opus) adds nothing and is reported, and the stream
//   goes on with the next one.
//
// Threading: one member's state, used by one thread at a time (the room's media worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "mixer/audio_frame.hpp"

struct OpusDecoder;  // libopus's opaque decoder state (<opus/opus.h>)

namespace chorus::mixer {

class OpusPacketDecoder {
 public:
  // RFC 6716 §3.2.5: no Opus packet holds more than 120 ms.
  static constexpr std::size_t kMaxPacketSamples = kSampleRateHz * 120 / 1000;
  // libopus decodes, conceals and rebuilds in steps of 2.5 ms (opus_decode(3)).
  static constexpr std::size_t kConcealStepSamples = kSampleRateHz * 25 / 10'000;

  // Throws std::runtime_error when libopus cannot make a decoder (out of memory).
  OpusPacketDecoder();
  OpusPacketDecoder(const OpusPacketDecoder&) = delete;
  OpusPacketDecoder& operator=(const OpusPacketDecoder&) = delete;
  ~OpusPacketDecoder();

  // What decode and conceal return view this decoder's own buffer, valid until its next call: the
  // caller copies them once, into its FIFO.
  // One RTP payload (RFC 7587 §4.2: one Opus packet): its samples; nullopt when libopus refuses it.
  std::optional<std::span<const Sample>> decode(std::span<const std::uint8_t> payload);
  // A lost packet of `samples` (48 kHz; rounded down to whole 2.5 ms steps, at most 120 ms):
  // rebuilt from `next`'s in-band FEC when `next` (the packet after the lost one, empty when it
  // has not come) carries it, else concealed. Empty when there is nothing to make.
  std::span<const Sample> conceal(std::size_t samples, std::span<const std::uint8_t> next);
  // Back to a fresh decoder's state (OPUS_RESET_STATE), as if no packet had been decoded.
  void reset() noexcept;

 private:
  struct Destroy {
    void operator()(::OpusDecoder* decoder) const noexcept;
  };

  std::unique_ptr<::OpusDecoder, Destroy> decoder_;
  std::array<Sample, kMaxPacketSamples> pcm_{};  // one call's output, what decode and conceal view
};

}  // namespace chorus::mixer
