// PromptLibrary: the espeak-ng prompts the build generated load into 48 kHz mono; an operator's
// recording of another rate and channel count is resampled; missing, corrupt and over-long files are
// errors that name what is wrong.
#include "mixer/prompt_library.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <ranges>
#include <string>
#include <string_view>

#include "tests/unit/mixer/audio_analysis.hpp"
#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::mixer {
namespace prompt_library_test {

using testing::dominant_frequency;
using testing::sine_interleaved;
using testing::wav_bytes;

// The 8 kHz stereo "operator recording": 1.5 s of 400 Hz at -12 dBFS in both channels.
constexpr double kRecordingSeconds = 1.5;
constexpr double kRecordingHz = 400.0;
constexpr double kRecordingAmplitude = 8'000.0;

std::string operator_recording() {
  return wav_bytes(sine_interleaved(kRecordingHz, kRecordingAmplitude, kRecordingSeconds, 8'000, 2), 8'000, 2);
}

TEST(PromptLibrary, LoadsEveryPromptTheBuildGenerated) {
  const auto dir = default_prompts_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " does not exist: build the chorus_prompts target";
  const auto library = PromptLibrary::load(dir, kStandardPrompts);
  ASSERT_TRUE(library.has_value()) << library.error();
  for (const std::string_view name : kStandardPrompts) {
    const Prompt* prompt = library->find(name);
    ASSERT_NE(prompt, nullptr) << name;
    EXPECT_EQ(prompt->name, name);
    ASSERT_FALSE(prompt->samples.empty()) << name;
    const double seconds = static_cast<double>(prompt->samples.size()) / kSampleRateHz;
    EXPECT_GE(seconds, 0.3) << name;
    EXPECT_LE(seconds, 12.0) << name;
    EXPECT_GT(testing::peak_of(prompt->samples), 1'000) << name << " is nearly silent";
  }
  EXPECT_EQ(library->find("no_such_prompt"), nullptr);
}

TEST(PromptLibrary, TrimsEspeakSilenceButKeepsAMargin) {
  const auto dir = default_prompts_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " does not exist: build the chorus_prompts target";
  const auto library = PromptLibrary::load(dir, std::array<std::string_view, 1>{"goodbye"});
  ASSERT_TRUE(library.has_value()) << library.error();
  const auto& samples = library->find("goodbye")->samples;
  const auto raw = gst::decode_audio_file(dir / "goodbye.wav");
  ASSERT_TRUE(raw.has_value()) << raw.error();
  EXPECT_LT(samples.size(), raw->size()) << "espeak-ng pads its output with silence; some should go";

  // Sound (at or above -50 dBFS) begins and ends within the 10 ms margin of either end.
  const auto loud = [](std::int16_t s) { return std::abs(static_cast<int>(s)) >= kTrimThreshold; };
  const auto first = static_cast<std::size_t>(std::ranges::find_if(samples, loud) - samples.begin());
  const auto after_last =
      static_cast<std::size_t>(std::ranges::find_if(samples | std::views::reverse, loud).base() - samples.begin());
  EXPECT_EQ(first, kTrimMarginSamples);
  EXPECT_EQ(samples.size() - after_last, kTrimMarginSamples);
}

TEST(PromptLibrary, ResamplesAnOperatorRecordingAt8kHzStereoTo48kHzMono) {
  const test::TempDir dir;
  (void)dir.file("goodbye.wav", operator_recording());
  const auto library = PromptLibrary::load(dir.path(), std::array<std::string_view, 1>{"goodbye"});
  ASSERT_TRUE(library.has_value()) << library.error();
  const Prompt* prompt = library->find("goodbye");
  ASSERT_NE(prompt, nullptr);
  EXPECT_EQ(prompt->source, dir.path() / "goodbye.wav");

  const double expected = kRecordingSeconds * kSampleRateHz;  // 72,000 samples
  EXPECT_NEAR(static_cast<double>(prompt->samples.size()), expected, expected * 0.02);
  // Mono at 48 kHz: the tone is still 400 Hz when read at 48 kHz, and both channels summed into one
  // keep the level (audioconvert averages), so the peak is the recording's, not twice it.
  const auto candidates = testing::candidate_frequencies();
  EXPECT_EQ(dominant_frequency(prompt->samples, candidates, kSampleRateHz), kRecordingHz);
  EXPECT_NEAR(testing::peak_of(prompt->samples), kRecordingAmplitude, kRecordingAmplitude * 0.05);
}

TEST(PromptLibrary, AMissingRequiredPromptIsAnErrorNamingIt) {
  const test::TempDir dir;
  (void)dir.file("goodbye.wav", operator_recording());
  const std::array<std::string_view, 3> required = {"goodbye", "enter_pin", "wrong_pin"};
  const auto library = PromptLibrary::load(dir.path(), required);
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find("enter_pin"), std::string::npos) << library.error();
  EXPECT_NE(library.error().find("wrong_pin"), std::string::npos) << library.error();
  EXPECT_EQ(library.error().find("goodbye"), std::string::npos) << library.error();
}

TEST(PromptLibrary, ACorruptWavIsAnErrorNamingTheFile) {
  const test::TempDir dir;
  (void)dir.file("goodbye.wav", operator_recording());
  (void)dir.file("broken.wav",
                 "RIFF\x10\0\0\0WAVEfmt this is not a format chunk, and no data follows" + std::string(64, '\xff'));
  const auto library = PromptLibrary::load(dir.path(), std::array<std::string_view, 1>{"goodbye"});
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find("broken.wav"), std::string::npos) << library.error();
}

TEST(PromptLibrary, AFileThatIsNotAudioAtAllIsAnErrorNamingIt) {
  const test::TempDir dir;
  (void)dir.file("muted.wav", "plain text, renamed to .wav by mistake\n");
  const auto library = PromptLibrary::load(dir.path(), {});
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find("muted.wav"), std::string::npos) << library.error();
}

TEST(PromptLibrary, AFileOverSixtySecondsIsRefusedByName) {
  const test::TempDir dir;
  // 61 s at 8 kHz mono: under 1 MB, but over the 60 s limit once at 48 kHz.
  (void)dir.file("waiting_for_moderator.wav", wav_bytes(sine_interleaved(300.0, 4'000.0, 61.0, 8'000, 1), 8'000, 1));
  const auto library = PromptLibrary::load(dir.path(), {});
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find("waiting_for_moderator.wav"), std::string::npos) << library.error();
  EXPECT_NE(library.error().find("60 s"), std::string::npos) << library.error();
}

TEST(PromptLibrary, AMissingFolderIsAnErrorNamingIt) {
  const test::TempDir dir;
  const auto missing = dir.missing("no-prompts-here");
  const auto library = PromptLibrary::load(missing, kStandardPrompts);
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find(missing), std::string::npos) << library.error();
}

TEST(PromptLibrary, TwoFilesForOnePromptAreAnError) {
  const test::TempDir dir;
  (void)dir.file("goodbye.wav", operator_recording());
  (void)dir.file("goodbye.WAV", operator_recording());
  const auto library = PromptLibrary::load(dir.path(), {});
  ASSERT_FALSE(library.has_value());
  EXPECT_NE(library.error().find("goodbye"), std::string::npos) << library.error();
}

TEST(PromptLibrary, IgnoresFilesThatAreNotAudio) {
  const test::TempDir dir;
  (void)dir.file("goodbye.wav", operator_recording());
  (void)dir.file("README.txt", "recordings for the IVR\n");
  const auto library = PromptLibrary::load(dir.path(), std::array<std::string_view, 1>{"goodbye"});
  ASSERT_TRUE(library.has_value()) << library.error();
  EXPECT_EQ(library->size(), 1u);
}

TEST(TrimSilence, CutsQuietEndsDownToTheMargin) {
  std::vector<std::int16_t> samples(48'000, 50);                     // 1 s below -50 dBFS
  for (std::size_t i = 20'000; i < 30'000; ++i) samples[i] = 5'000;  // 10,000 loud samples
  const auto trimmed = trim_silence(samples);
  EXPECT_EQ(trimmed.size(), 10'000 + 2 * kTrimMarginSamples);
  EXPECT_EQ(trimmed[kTrimMarginSamples], 5'000);
  EXPECT_EQ(trimmed[kTrimMarginSamples - 1], 50);
}

TEST(TrimSilence, LeavesAllSilentAudioAlone) {
  const std::vector<std::int16_t> samples(4'800, 3);
  EXPECT_EQ(trim_silence(samples), samples);
}

}  // namespace prompt_library_test
}  // namespace chorus::mixer
