// Recorder: a meeting's recording, one file, muxed from media the room already has — the mix's
// 20 ms PCM frames (encoded here to Opus) and, optionally, the RTP of one of the video MCU's
// encodes (depayloaded, not re-encoded: DESIGN §7, "recording is one more consumer of encodes the
// room already makes").
//
// The pipeline, one per recording (VP8; H.264 puts rtph264depay ! h264parse ! avc caps in place of
// rtpvp8depay, and matroskamux in place of webmmux):
//
//   appsrc (S16LE 48 kHz mono, live, time) ! audioconvert ! opusenc ! queue ! webmmux name=mux
//   appsrc (application/x-rtp VP8) ! rtpvp8depay ! queue ! mux.
//   mux. ! filesink buffer-mode=unbuffered        (a byte-count probe on its sink pad)
//
// which behaves like this (one line; Ctrl-C finalizes the file):
//   gst-launch-1.0 -e audiotestsrc is-live=true ! audio/x-raw,format=S16LE,rate=48000,channels=1
//     ! audioconvert ! opusenc ! queue ! webmmux name=mux ! filesink location=r.webm buffer-mode=2
//     videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay ! rtpvp8depay ! queue ! mux.
//
// Crash safety: the muxer is not streamable, so a clean stop goes back and writes the duration and
// the cues (seekable), and the file sink is unbuffered, so a process killed mid-way (SIGKILL) leaves
// a file that still decodes up to the kill (checked: VP8 and Opus killed after 3 s decode to 2.95 s
// of both; filesink's default buffering lost up to 64 KiB, everything since the last cluster).
//
// Timing: every buffer is stamped with the pipeline's running time when it is pushed (audio: the
// first frame, then by sample count, re-anchored when the pusher fell > 100 ms behind the clock),
// so the audio stays in step with the video. The muxer (GstCollectPads in GStreamer 1.22) writes
// nothing until every track has data, so while nobody pushes audio the recorder's thread fills the
// audio track with silence, and video never waits for a quiet room.
//
// Limits: each appsrc holds at most about 2 s of input; a push beyond that (a stalled disk) is
// dropped and counted, never waited for. `max_bytes` ends the recording like stop() does (the file
// is finalized and playable) with RecorderEnd::kLimitReached.
//
// Threading: push_audio, push_video_rtp, stop, bytes_written and dropped from any thread, never
// blocking for long. Each recorder has one thread of its own that watches the pipeline's bus and
// calls Finished exactly once, after the file is finalized or has failed. Finished may run while
// ~Recorder waits for that thread; destroying the Recorder from inside Finished is allowed.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

namespace chorus::mixer {

enum class RecordingVideo { kNone, kVp8, kH264 };

struct RecorderSpec {
  std::filesystem::path path;  // the file written (created or truncated)
  RecordingVideo video = RecordingVideo::kNone;
  std::uint8_t video_payload_type = 96;  // of the RTP given to push_video_rtp
  std::uint64_t max_bytes = 0;           // 0: none; past it the recording ends with kLimitReached, finalized
};

enum class RecorderEnd { kStopped, kLimitReached, kFailed };

struct RecorderResult {
  RecorderEnd end = RecorderEnd::kStopped;
  std::string error;                      // kFailed: what went wrong (the element and its message)
  std::uint64_t bytes = 0;                // the file's size
  std::chrono::milliseconds duration{0};  // from the first to the last media the muxer took
};

class Recorder {
 public:
  using Finished = std::function<void(const RecorderResult&)>;  // exactly once, on the recorder's own thread

  // Builds and starts the pipeline; an error (a plugin missing, the file cannot be opened) comes back
  // here, and then Finished is never called.
  static std::expected<std::unique_ptr<Recorder>, std::string> start(RecorderSpec spec, Finished finished);

  // 48 kHz mono S16, normally 960 samples (20 ms).
  void push_audio(std::span<const std::int16_t> frame);
  // One RTP packet (plain, not SRTP) of the encoded video, in order; ignored when the spec has no video.
  void push_video_rtp(std::span<const std::uint8_t> rtp);
  // End of stream: Finished follows once the file is finalized. Idempotent; later pushes are dropped.
  void stop();
  [[nodiscard]] std::uint64_t bytes_written() const;
  // Pushes dropped because a queue was full (a stalled disk) or audio ran ahead of the clock.
  [[nodiscard]] std::uint64_t dropped() const;

  // Stops if needed and waits for the thread: it finalizes, or gives up after 5 s and tears down.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

 private:
  struct State;  // shared with the recorder's thread, which may outlive the Recorder (recorder.cpp)

  explicit Recorder(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace chorus::mixer
