// KeypadControls: '*' plus one key within three seconds, who may use which command, and what
// clears a pending '*'.
#include "conference/ivr/keypad_controls.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace chorus::conference {
namespace keypad_controls_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point kStart = Clock::time_point{} + 1h;

TEST(KeypadControls, StarSixTogglesSelfMuteForEveryone) {
  KeypadControls guest(false);
  EXPECT_EQ(guest.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(guest.on_digit('6', kStart + 500ms), KeypadCommand::kToggleSelfMute);

  KeypadControls moderator(true);
  EXPECT_EQ(moderator.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(moderator.on_digit('6', kStart + 500ms), KeypadCommand::kToggleSelfMute);
}

TEST(KeypadControls, ModeratorLocksAndMutesGuests) {
  KeypadControls moderator(true);
  EXPECT_EQ(moderator.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(moderator.on_digit('1', kStart + 1s), KeypadCommand::kToggleLock);
  EXPECT_EQ(moderator.on_digit('*', kStart + 2s), std::nullopt);
  EXPECT_EQ(moderator.on_digit('2', kStart + 3s), KeypadCommand::kMuteAllGuests);
}

TEST(KeypadControls, GuestCannotLockOrMuteOthers) {
  KeypadControls guest(false);
  EXPECT_EQ(guest.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(guest.on_digit('1', kStart + 1s), std::nullopt);
  EXPECT_EQ(guest.on_digit('*', kStart + 2s), std::nullopt);
  EXPECT_EQ(guest.on_digit('2', kStart + 3s), std::nullopt);
}

TEST(KeypadControls, KeyWithoutStarDoesNothing) {
  KeypadControls moderator(true);
  for (char key : {'6', '1', '2', '#', '0', 'A'}) EXPECT_EQ(moderator.on_digit(key, kStart), std::nullopt) << key;
}

TEST(KeypadControls, CommandKeyAtThreeSecondsCountsAfterDoesNot) {
  KeypadControls controls(false);
  EXPECT_EQ(controls.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(controls.on_digit('6', kStart + KeypadControls::kCommandWindow), KeypadCommand::kToggleSelfMute);

  EXPECT_EQ(controls.on_digit('*', kStart + 10s), std::nullopt);
  EXPECT_EQ(controls.on_digit('6', kStart + 10s + KeypadControls::kCommandWindow + 1ms), std::nullopt);
  // The late key also cleared the '*': a further '6' is not a command either.
  EXPECT_EQ(controls.on_digit('6', kStart + 14s), std::nullopt);
}

TEST(KeypadControls, OtherKeyResets) {
  KeypadControls controls(true);
  EXPECT_EQ(controls.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(controls.on_digit('5', kStart + 100ms), std::nullopt);
  EXPECT_EQ(controls.on_digit('6', kStart + 200ms), std::nullopt);
  EXPECT_EQ(controls.on_digit('*', kStart + 300ms), std::nullopt);
  EXPECT_EQ(controls.on_digit('#', kStart + 400ms), std::nullopt);
  EXPECT_EQ(controls.on_digit('1', kStart + 500ms), std::nullopt);
}

TEST(KeypadControls, CommandNeedsAFreshStar) {
  KeypadControls controls(false);
  EXPECT_EQ(controls.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(controls.on_digit('6', kStart + 100ms), KeypadCommand::kToggleSelfMute);
  EXPECT_EQ(controls.on_digit('6', kStart + 200ms), std::nullopt);
}

TEST(KeypadControls, SecondStarRestartsTheWindow) {
  KeypadControls controls(false);
  EXPECT_EQ(controls.on_digit('*', kStart), std::nullopt);
  EXPECT_EQ(controls.on_digit('*', kStart + 2s), std::nullopt);
  EXPECT_EQ(controls.on_digit('6', kStart + 4s), KeypadCommand::kToggleSelfMute);
}

TEST(KeypadControls, GuestPromotedToModeratorGainsCommands) {
  KeypadControls controls(false);
  EXPECT_FALSE(controls.moderator());
  EXPECT_EQ(controls.on_digit('*', kStart), std::nullopt);
  controls.set_moderator(true);
  EXPECT_TRUE(controls.moderator());
  // The '*' pressed before the promotion is still pending.
  EXPECT_EQ(controls.on_digit('1', kStart + 1s), KeypadCommand::kToggleLock);

  controls.set_moderator(false);
  EXPECT_EQ(controls.on_digit('*', kStart + 2s), std::nullopt);
  EXPECT_EQ(controls.on_digit('2', kStart + 3s), std::nullopt);
}

}  // namespace keypad_controls_test
}  // namespace chorus::conference
