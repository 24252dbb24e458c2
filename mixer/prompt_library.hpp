// PromptLibrary: the IVR's spoken prompts ("Please enter the conference PIN ..."), loaded once from
// a folder into the mixer's domain (48 kHz mono int16, audio_frame.hpp), then looked up by name.
//
// The build speaks mixer/prompts/prompts.tsv into <build>/prompts/<name>.wav with espeak-ng
// (mixer/prompts/prompts.cmake); default_prompts_dir() is that folder. An operator replaces a
// prompt by putting a recording named <name>.wav (or .flac, .ogg, .oga, .opus) in the folder: any
// rate and channel count, because every file goes through GStreamer's decodebin, audioconvert and
// audioresample (gst/audio_file_decoder.hpp). Leading and trailing silence below -50 dBFS is
// trimmed (espeak-ng pads its output), keeping 10 ms either side so no onset is clipped.
//
// Limits: at most `max_files` audio files in the folder, each at most 60 s of audio and decoded
// within 10 s. Every failure is an error that names the file (or the missing prompts); nothing is
// half-loaded.
//
// Threading: load() is synchronous and blocks on GStreamer; call it on the control path at start-up
// (or an operator's reload) and hand the immutable result to the rooms. A loaded library is
// read-only, so any number of threads may find() in it; the Prompt pointers live as long as it does.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "mixer/gst/audio_file_decoder.hpp"

namespace chorus::mixer {

struct Prompt {
  std::string name;                   // the file's stem: "enter_pin"
  std::vector<std::int16_t> samples;  // kSampleRateHz, mono, never empty
  std::filesystem::path source;       // the file it was decoded from

  [[nodiscard]] std::chrono::milliseconds duration() const {
    return std::chrono::milliseconds(samples.size() * 1000 / kSampleRateHz);
  }
};

// The prompts mixer/prompts/prompts.tsv must provide, which the IVR requires at start-up.
inline constexpr std::array<std::string_view, 14> kStandardPrompts = {
    "enter_pin",
    "wrong_pin",
    "goodbye",
    "waiting_for_moderator",
    "first_participant",
    "meeting_not_started",
    "muted",
    "unmuted",
    "locked",
    "unlocked",
    "guests_muted",
    "guests_unmuted",
    "conference_locked",
    "recording_started",
};

struct PromptLoadLimits {
  std::size_t max_files = 256;  // audio files in the folder
  gst::DecodeLimits decode;     // per file: 60 s of audio, 10 s to decode
};

// -50 dBFS of full scale (32768 · 10^(-50/20) ≈ 103.6): quieter samples at either end are silence.
inline constexpr std::int16_t kTrimThreshold = 104;
inline constexpr std::size_t kTrimMarginSamples = kSampleRateHz / 100;  // 10 ms kept either side

// The samples without their leading and trailing silence (below kTrimThreshold), keeping
// kTrimMarginSamples of it on each side. All-silent input is returned as it is.
[[nodiscard]] std::vector<std::int16_t> trim_silence(std::vector<std::int16_t> samples);

class PromptLibrary {
 public:
  // Decodes every audio file in `dir`; an error when the folder cannot be read, a file fails to
  // decode or is too long (the message names it), two files share a name, or any of `required`
  // is absent (the message lists them all).
  [[nodiscard]] static std::expected<PromptLibrary, std::string> load(const std::filesystem::path& dir,
                                                                      std::span<const std::string_view> required,
                                                                      const PromptLoadLimits& limits = {});

  // The folder the build generated (CHORUS_PROMPTS_DIR), same as default_prompts_dir().
  [[nodiscard]] static std::filesystem::path default_dir();

  // The prompt called `name`, or nullptr.
  [[nodiscard]] const Prompt* find(std::string_view name) const;
  [[nodiscard]] std::size_t size() const { return prompts_.size(); }
  [[nodiscard]] std::vector<std::string_view> names() const;  // sorted

 private:
  std::map<std::string, Prompt, std::less<>> prompts_;
};

// <build>/prompts: where mixer/prompts/prompts.cmake has espeak-ng write the prompts.
[[nodiscard]] std::filesystem::path default_prompts_dir();

}  // namespace chorus::mixer
