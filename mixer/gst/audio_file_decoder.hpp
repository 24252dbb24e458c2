// decode_audio_file(): any audio file GStreamer can read (WAV, FLAC, Ogg Vorbis/Opus, ...) at any
// rate and channel count, decoded into the mixer's domain, 48 kHz mono int16 (audio_frame.hpp).
//
// The pipeline is stock elements only (DESIGN §5), the same as
//   gst-launch-1.0 filesrc location=prompt.wav ! decodebin ! audioconvert ! audioresample
//     ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! filesink location=prompt.s16
// (one line)
// with an appsink at the end that this thread pulls until EOS. Bounded on every axis: at most
// `max_duration` of audio (a longer file is refused as soon as it passes the limit, not after
// decoding all of it), the appsink holds at most a few buffers (the decoder waits for us), and the
// whole decode must finish within `timeout` of wall-clock time.
//
// Threading: synchronous. The calling thread blocks while GStreamer's streaming threads decode;
// call it on the control path (start-up, an operator's reload), never on a media worker.
#pragma once

#include <chrono>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer::gst {

struct DecodeLimits {
  std::chrono::seconds max_duration{60};  // more audio than this is an error
  std::chrono::seconds timeout{10};       // wall-clock bound on one file
};

// The file's audio at kSampleRateHz, mono (channels mixed down by audioconvert). Every error
// message starts with the file's path.
[[nodiscard]] std::expected<std::vector<Sample>, std::string> decode_audio_file(const std::filesystem::path& path,
                                                                                const DecodeLimits& limits = {});

}  // namespace chorus::mixer::gst
