// make_tone(): the short synthesized cues the conference plays to a participant, at 48 kHz mono
// (audio_frame.hpp), ready to mix like any other source.
//
//   kJoin     600 Hz then 900 Hz, 120 ms each, 20 ms apart   (rising: someone came in)
//   kLeave    900 Hz then 600 Hz, 120 ms each, 20 ms apart   (falling: someone left)
//   kMuted    one 400 Hz beep of 200 ms                     (low: you are muted)
//   kUnmuted  two 1000 Hz beeps of 80 ms, 60 ms apart        (high: you may speak)
//
// Each note is a sine whose peak is -16 dBFS (32767 · 10^(-16/20) ≈ 5193), well under the
// limiter's threshold, so a tone mixed over speech does not pump it. Each note starts and ends with
// a 5 ms raised-cosine (Hann) ramp: a sine switched on or off abruptly clicks, a ramp that long
// spreads the step below audibility while keeping the note crisp.
//
// Threading: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace chorus::mixer {

enum class Tone { kJoin, kLeave, kMuted, kUnmuted };

// One note of a tone, followed by `gap_after` of silence (none after the last).
struct ToneNote {
  double frequency_hz;
  std::chrono::milliseconds duration;
  std::chrono::milliseconds gap_after;
};

inline constexpr double kTonePeakDbfs = -16.0;
inline constexpr std::chrono::milliseconds kToneRamp{5};

// The notes a tone is made of, in order (static storage).
[[nodiscard]] std::span<const ToneNote> tone_notes(Tone tone);

// The tone's samples at kSampleRateHz, mono.
[[nodiscard]] std::vector<std::int16_t> make_tone(Tone tone);

}  // namespace chorus::mixer
