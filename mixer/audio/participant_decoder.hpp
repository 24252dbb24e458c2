// ParticipantDecoder: one participant's way from RTP to the mixing domain (DESIGN §3 Audio MCU),
// composed of stock GStreamer elements inside the room's pipeline:
//
//   [our src pad] → rtpjitterbuffer → <depayloader> → <decoder> → audioconvert → audioresample
//                 → audio/x-raw,format=S16LE,rate=48000,channels=1 → appsink → ring → pull_frame()
//
// gst-launch equivalent (what one branch does, fed from a UDP port instead of the media worker):
//   gst-launch-1.0 udpsrc port=5004
//   caps="application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111"
//     ! rtpjitterbuffer latency=60 do-lost=true ! rtpopusdepay ! opusdec plc=true use-inband-fec=true
//     ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! autoaudiosink
//
// The jitter buffer holds at most `latency` (default 60 ms), reorders, and tells the decoder of
// each lost packet (do-lost), which conceals it (Opus PLC, or in-band FEC from the next packet,
// RFC 6716 §2.1.7). Opus DTX sends nothing in silence and the decoder produces nothing: the mixer
// takes a missing frame as silence.
//
// The media worker pushes decrypted RTP straight into the jitter buffer's sink pad (our own
// unparented src pad, as GstHarness does: no appsrc queue and no extra thread per participant),
// stamped with its arrival time on the pipeline's clock. The jitter buffer's streaming thread
// takes it from there to the appsink, whose callback appends the decoded samples to a small ring.
// The room's mixing tick pulls one 20 ms frame from the ring: after an underrun it waits until
// 1.5 frames are buffered again (so a tick racing the decoder's output does not alternate between
// starving and doubling); past kMaxBufferedFrames the oldest audio is skipped (the sender's clock
// runs fast), both counted.
//
// Threading: constructed and destroyed on the chain thread (mixer/gst/chain_thread.hpp), fed
// (push_rtp) and pulled (pull_frame) on the room's media worker; the appsink callback runs on the
// jitter buffer's streaming thread and meets the worker only at the ring, a single-producer
// single-consumer ring without a lock. The destructor stops the branch (joining its streaming
// thread) and removes it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"

namespace chorus::mixer {

struct DecoderCounters {
  std::uint64_t packets_pushed = 0;
  std::uint64_t packets_refused = 0;  // the branch was not flowing (e.g. caps refused)
  std::uint64_t frames_pulled = 0;
  std::uint64_t underruns = 0;        // a tick found less than a frame
  std::uint64_t samples_dropped = 0;  // the ring was over kMaxBufferedFrames
};

class ParticipantDecoder {
 public:
  static constexpr std::chrono::milliseconds kDefaultLatency{60};
  static constexpr std::size_t kMaxBufferedFrames = 4;

  // Adds the branch to `pipeline` (which is PLAYING) and starts it. Throws std::runtime_error when
  // an element is missing (a plugin not installed): a control-path error.
  ParticipantDecoder(GstBin* pipeline, AudioCodec codec, std::uint8_t payload_type, std::string name,
                     std::chrono::milliseconds latency = kDefaultLatency);
  ParticipantDecoder(const ParticipantDecoder&) = delete;
  ParticipantDecoder& operator=(const ParticipantDecoder&) = delete;
  ~ParticipantDecoder();

  // One decrypted RTP packet, header included. False when the branch refused it.
  bool push_rtp(std::span<const std::uint8_t> packet);
  // Fills `frame` with the next 20 ms; false (frame untouched) when not enough was decoded.
  bool pull_frame(AudioFrame& frame);

  [[nodiscard]] DecoderCounters counters() const;
  [[nodiscard]] AudioCodec codec() const { return codec_; }

 private:
  static GstFlowReturn on_new_sample(GstAppSink* sink, gpointer self);
  void append_decoded(std::span<const Sample> samples);
  GstClockTime running_time() const;

  AudioCodec codec_;
  // Ours too: the decoder may be torn down on the chain thread after its room is gone.
  gst::GstPtr<GstElement> pipeline_;
  gst::GstPtr<GstElement> bin_;
  gst::GstPtr<GstPad> src_pad_;
  bool caps_sent_ = false;

  // One producer (the streaming thread's appsink callback) and one consumer (pull_frame on the
  // worker), without a lock: with a mutex, a streaming thread preempted while holding it (they run
  // at a lower priority than the worker) held the worker's tick up with it.
  static constexpr std::size_t kRingSamples = kFrameSamples * (kMaxBufferedFrames + 4);
  std::array<Sample, kRingSamples> ring_{};
  std::atomic<std::uint64_t> written_{0};          // samples ever appended; stored by the producer
  std::atomic<std::uint64_t> read_{0};             // samples ever pulled or skipped; stored by the worker
  std::atomic<std::uint64_t> samples_refused_{0};  // the producer found no room (worker far behind)
  std::uint64_t samples_skipped_ = 0;              // worker: past kMaxBufferedFrames, the oldest skipped
  bool primed_ = false;                            // worker only
  DecoderCounters counters_;                       // worker-owned fields
};

}  // namespace chorus::mixer
