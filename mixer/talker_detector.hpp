// TalkerDetector: is this participant speaking? One per participant, fed once per 20 ms frame.
//
// The input is a level on the RFC 6464 scale (0..127, the magnitude of dBov; 127 is silence),
// either measured here from the decoded frame (frame_level_dbov) or taken from the sender's
// ssrc-audio-level header extension when the call negotiated it. A frame is voiced when its level,
// after the participant's input gain, is at least as loud as the threshold (and, when the sender
// supplies the RFC 6464 V flag, that flag is set). Speech starts after `attack_frames` voiced
// frames in a row (a click is not a talker) and lasts `hangover_frames` frames past the last voiced
// one (the gaps between words do not drop a talker).
//
// The smoothed level, which TalkerSelector ranks talkers by, follows the input directly while the
// participant is silent, is an exponential average of the voiced frames while speaking, and fades
// by `hangover_decay_db` per frame through the pauses, so a new talker starts at its real loudness,
// a talker's loudness does not flicker between syllables, and a pause slowly yields the floor.
//
// Threading: plain value; owned by the mixer of one room.
#pragma once

#include <cstdint>
#include <optional>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

struct TalkerDetectorConfig {
  std::uint8_t threshold_dbov = 45;  // voiced when at least as loud as -45 dBov
  int attack_frames = 2;             // 40 ms of voice before a participant counts as speaking
  int hangover_frames = 15;          // 300 ms of speech kept after the last voiced frame
  double smoothing = 0.3;            // weight of the newest voiced frame in the smoothed level, (0, 1]
  double hangover_decay_db = 1.0;    // the smoothed level fades this much per unvoiced frame in a spurt
};

// RFC 6464 §3 level of one frame: -10·log10(mean square / 32768²) rounded to a whole dB and
// clamped to 0..127 (the scale libwebrtc's RmsLevel sends). An all-zero or empty frame is 127.
[[nodiscard]] std::uint8_t frame_level_dbov(FrameView frame) noexcept;
// The same for samples at any rate held as floats on the 16-bit scale (a narrowband decoder's
// frame before its interpolation to 48 kHz: the level of a band-limited signal is the same at
// either rate).
[[nodiscard]] std::uint8_t frame_level_dbov(std::span<const float> samples) noexcept;

class TalkerDetector {
 public:
  explicit TalkerDetector(const TalkerDetectorConfig& config = {}) noexcept : config_(config) {}

  // One frame: `level_dbov` is this frame's RFC 6464 level (127 when nothing arrived), `gain_db`
  // the participant's input gain, `voice_activity` the RFC 6464 V flag when the call negotiated
  // vad=on (RFC 6464 §4), otherwise nullopt. Returns speaking().
  bool update(std::uint8_t level_dbov, double gain_db = 0.0, std::optional<bool> voice_activity = {}) noexcept;

  // Back to silence, e.g. when the participant is muted: it must earn the attack again.
  void reset() noexcept;

  [[nodiscard]] bool speaking() const noexcept { return speaking_; }
  // Loudness in dB relative to overload (0 is full scale, -127 silence; above 0 after a gain).
  [[nodiscard]] double smoothed_level_db() const noexcept { return smoothed_db_; }

 private:
  TalkerDetectorConfig config_;
  bool speaking_ = false;
  int voiced_run_ = 0;    // consecutive voiced frames
  int since_voiced_ = 0;  // frames since the last voiced frame while speaking
  double smoothed_db_ = -static_cast<double>(kSilenceLevelDbov);
};

}  // namespace chorus::mixer
