// FrameEncoder: turns one 20 ms frame of the mixing domain (48 kHz mono S16) into the payload of
// one codec, with stock GStreamer elements driven synchronously on the calling thread:
//
//   [our src pad] → audioconvert → audioresample → audio/x-raw,rate=<codec rate> → <encoder> → [our sink pad]
//
// gst-launch equivalent: gst-launch-1.0 audiotestsrc ! audio/x-raw,rate=48000,channels=1
//   ! audioconvert ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! fakesink
//
// No element here has a thread of its own (no queue, no appsrc): gst_pad_push runs the resampler
// and the encoder in the caller's thread and our sink pad's chain function collects the output
// before encode() returns, so the mixing tick encodes without a thread hop.
// G.711 and G.722 are sample streams: what the encoder produced goes into a byte FIFO and each
// encode() returns exactly 20 ms (160 octets) once there is that much; the resampler's filter
// delay makes the first call return nothing. Opus: one packet per 20 ms frame (opusenc
// frame-size=20, complexity 5, in-band FEC on, the voice application), the most recent one.
// One encoder serves a whole encode group (the listeners sharing codec and ptime), so it is
// stateful per group and never shared between groups.
// Threading: one thread at a time (the room's media worker).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"

namespace chorus::mixer {

class FrameEncoder {
 public:
  // Throws std::runtime_error when the encoder's plugin is missing (control path).
  FrameEncoder(AudioCodec codec, std::string name);
  FrameEncoder(const FrameEncoder&) = delete;
  FrameEncoder& operator=(const FrameEncoder&) = delete;
  ~FrameEncoder();

  // The payload for this frame; empty while the codec's pipeline is still filling. Valid until
  // the next call.
  std::span<const std::uint8_t> encode(FrameView pcm);

  [[nodiscard]] AudioCodec codec() const { return codec_; }
  [[nodiscard]] std::uint64_t frames_encoded() const { return frames_; }

 private:
  static GstFlowReturn on_encoded(GstPad* pad, GstObject* parent, GstBuffer* buffer);

  AudioCodec codec_;
  gst::GstPtr<GstElement> bin_;
  gst::GstPtr<GstPad> src_pad_;
  gst::GstPtr<GstPad> sink_pad_;
  std::vector<std::uint8_t> pending_;  // what the encoder produced, not yet handed out
  std::vector<std::uint8_t> payload_;  // what encode() returned last
  std::uint64_t frames_ = 0;
};

}  // namespace chorus::mixer
