// TalkerDetector: the RFC 6464 level of a frame, and speech with attack and hangover.
#include "mixer/talker_detector.hpp"

#include <gtest/gtest.h>

#include "tests/unit/mixer/mixer_test_support.hpp"

namespace chorus::mixer {
namespace talker_detector_test {

using testing::constant_frame;
using testing::sine_frame;

TEST(FrameLevelDbov, MeasuresRfc6464Levels) {
  EXPECT_EQ(frame_level_dbov(constant_frame(32767)), 0);  // full-scale square wave: the overload point
  EXPECT_EQ(frame_level_dbov(constant_frame(-32768)), 0);
  EXPECT_EQ(frame_level_dbov(sine_frame(1000.0, 32767.0)), 3);  // a full-scale sine is 3 dB below
  EXPECT_EQ(frame_level_dbov(constant_frame(3277)), 20);
  EXPECT_EQ(frame_level_dbov(constant_frame(1)), 90);
}

TEST(FrameLevelDbov, SilenceAndNothingAre127) {
  EXPECT_EQ(frame_level_dbov(testing::silence()), kSilenceLevelDbov);
  EXPECT_EQ(frame_level_dbov(FrameView{}), kSilenceLevelDbov);
}

TEST(TalkerDetector, NeedsTheAttackFramesToStartSpeaking) {
  TalkerDetector detector;  // attack 2, threshold 45
  EXPECT_FALSE(detector.update(20));
  EXPECT_TRUE(detector.update(20));
  TalkerDetector clicked;
  EXPECT_FALSE(clicked.update(20));
  EXPECT_FALSE(clicked.update(kSilenceLevelDbov));  // a click is not a talker
  EXPECT_FALSE(clicked.update(20));
  EXPECT_TRUE(clicked.update(20));
}

TEST(TalkerDetector, HangoverKeepsSpeechFor15FramesAfterTheLastVoicedOne) {
  TalkerDetector detector;
  detector.update(20);
  ASSERT_TRUE(detector.update(20));
  for (int frame = 1; frame <= 15; ++frame) EXPECT_TRUE(detector.update(kSilenceLevelDbov)) << "quiet frame " << frame;
  EXPECT_FALSE(detector.update(kSilenceLevelDbov));
}

TEST(TalkerDetector, AVoicedFrameInTheHangoverRestartsIt) {
  TalkerDetector detector;
  detector.update(20);
  detector.update(20);
  for (int frame = 0; frame < 10; ++frame) detector.update(kSilenceLevelDbov);
  EXPECT_TRUE(detector.update(25));
  for (int frame = 1; frame <= 15; ++frame) EXPECT_TRUE(detector.update(90));  // 90: below the threshold
  EXPECT_FALSE(detector.update(90));
}

TEST(TalkerDetector, ThresholdAppliesAfterTheInputGain) {
  TalkerDetector quiet;
  quiet.update(50);
  EXPECT_FALSE(quiet.update(50));  // -50 dBov is under the -45 threshold
  TalkerDetector boosted;
  boosted.update(50, 10.0);
  EXPECT_TRUE(boosted.update(50, 10.0));  // -40 after +10 dB
  EXPECT_DOUBLE_EQ(boosted.smoothed_level_db(), -40.0);
  TalkerDetector cut;
  cut.update(20, -30.0);
  EXPECT_FALSE(cut.update(20, -30.0));
}

TEST(TalkerDetector, SilenceIsNotMadeLoudByGain) {
  TalkerDetector detector;
  detector.update(kSilenceLevelDbov, 200.0);
  EXPECT_FALSE(detector.update(kSilenceLevelDbov, 200.0));
}

TEST(TalkerDetector, Rfc6464VoiceFlagOffIsNotSpeech) {
  TalkerDetector detector;
  detector.update(20, 0.0, false);
  EXPECT_FALSE(detector.update(20, 0.0, false));
  EXPECT_FALSE(detector.update(20, 0.0, true));  // the attack starts over with the first voiced frame
  EXPECT_TRUE(detector.update(20, 0.0, true));
}

TEST(TalkerDetector, SmoothedLevelAveragesVoicedFramesAndFadesInPauses) {
  TalkerDetector detector;  // smoothing 0.3, decay 1 dB per unvoiced frame
  detector.update(30);
  detector.update(30);
  EXPECT_DOUBLE_EQ(detector.smoothed_level_db(), -30.0);
  detector.update(20);
  EXPECT_DOUBLE_EQ(detector.smoothed_level_db(), -27.0);  // -30 + 0.3·10
  detector.update(kSilenceLevelDbov);
  detector.update(kSilenceLevelDbov);
  EXPECT_DOUBLE_EQ(detector.smoothed_level_db(), -29.0);
}

TEST(TalkerDetector, ResetForgetsSpeech) {
  TalkerDetector detector;
  detector.update(20);
  ASSERT_TRUE(detector.update(20));
  detector.reset();
  EXPECT_FALSE(detector.speaking());
  EXPECT_FALSE(detector.update(20));
}

}  // namespace talker_detector_test
}  // namespace chorus::mixer
