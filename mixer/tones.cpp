#include "mixer/tones.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {
namespace {

using std::chrono::milliseconds;

constexpr std::array kJoinNotes = {ToneNote{600.0, milliseconds(120), milliseconds(20)},
                                   ToneNote{900.0, milliseconds(120), milliseconds(0)}};
constexpr std::array kLeaveNotes = {ToneNote{900.0, milliseconds(120), milliseconds(20)},
                                    ToneNote{600.0, milliseconds(120), milliseconds(0)}};
constexpr std::array kMutedNotes = {ToneNote{400.0, milliseconds(200), milliseconds(0)}};
constexpr std::array kUnmutedNotes = {ToneNote{1000.0, milliseconds(80), milliseconds(60)},
                                      ToneNote{1000.0, milliseconds(80), milliseconds(0)}};

constexpr std::size_t samples_for(milliseconds duration) {
  return static_cast<std::size_t>(duration.count()) * kSampleRateHz / 1000;
}

void append_note(const ToneNote& note, std::vector<std::int16_t>& out) {
  const double peak = 32767.0 * std::pow(10.0, kTonePeakDbfs / 20.0);
  const std::size_t length = samples_for(note.duration);
  const std::size_t ramp = samples_for(kToneRamp);
  const double step = 2.0 * std::numbers::pi * note.frequency_hz / kSampleRateHz;
  for (std::size_t i = 0; i < length; ++i) {
    // Raised cosine over the ramp: 0 at the note's first and last sample, 1 after kToneRamp.
    const std::size_t from_edge = std::min(i, length - 1 - i);
    const double envelope =
        from_edge >= ramp ? 1.0 : 0.5 * (1.0 - std::cos(std::numbers::pi * static_cast<double>(from_edge) / ramp));
    out.push_back(static_cast<std::int16_t>(std::lround(peak * envelope * std::sin(step * static_cast<double>(i)))));
  }
  out.insert(out.end(), samples_for(note.gap_after), std::int16_t{0});
}

}  // namespace

std::span<const ToneNote> tone_notes(Tone tone) {
  switch (tone) {
    case Tone::kJoin:
      return kJoinNotes;
    case Tone::kLeave:
      return kLeaveNotes;
    case Tone::kMuted:
      return kMutedNotes;
    case Tone::kUnmuted:
      return kUnmutedNotes;
  }
  return {};
}

std::vector<std::int16_t> make_tone(Tone tone) {
  std::vector<std::int16_t> samples;
  for (const ToneNote& note : tone_notes(tone)) append_note(note, samples);
  return samples;
}

}  // namespace chorus::mixer
