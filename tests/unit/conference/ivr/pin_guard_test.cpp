// PinGuard: wrong PINs across calls — the per-source lockout and its doubling back-off, the room
// guard that refuses known guessers but never a source that has not failed, windows, forgetting,
// and the bound on what is remembered. Time is a plain TimePoint moved by the test.
#include "conference/ivr/pin_guard.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::conference {
namespace pin_guard_test {

using namespace std::chrono_literals;

constexpr std::string_view kRoom = "1000";
constexpr std::string_view kGuesser = "192.0.2.7";
constexpr std::string_view kOwner = "198.51.100.20";

PinGuardConfig small_config() {
  PinGuardConfig config;
  config.max_failures = 3;
  config.room_max_failures = 5;
  config.window = 600s;
  config.first_lockout = 60s;
  config.max_lockout = 3600s;
  return config;
}

// The same, with a room limit never reached: for tests of one source's back-off alone.
PinGuardConfig without_room_limit() {
  PinGuardConfig config = small_config();
  config.room_max_failures = 1000;
  return config;
}

struct PinGuardTest : ::testing::Test {
  // `count` wrong PINs from `source`, 1 s apart; the result of the last one.
  PinFailureResult fail(std::string_view source, int count, std::string_view room = kRoom) {
    PinFailureResult last;
    for (int i = 0; i < count; ++i) {
      last = guard.record_failure(source, room, now);
      now += 1s;
    }
    return last;
  }

  PinGuard guard{small_config()};
  TimePoint now{std::chrono::hours(5)};
};

TEST_F(PinGuardTest, SourceIsAllowedUntilItsFailuresReachTheLimit) {
  EXPECT_EQ(guard.check(kGuesser, kRoom, now), PinVerdict::kAllowed);
  auto second = fail(kGuesser, 2);
  EXPECT_FALSE(second.source_lockout);
  EXPECT_EQ(guard.check(kGuesser, kRoom, now), PinVerdict::kAllowed);
  auto third = fail(kGuesser, 1);
  ASSERT_TRUE(third.source_lockout);
  EXPECT_EQ(third.source_lockout->scope, PinLockout::Scope::kSource);
  EXPECT_EQ(third.source_lockout->source, kGuesser);
  EXPECT_EQ(third.source_lockout->room, kRoom);
  EXPECT_EQ(third.source_lockout->failures, 3);
  EXPECT_EQ(third.source_lockout->duration, 60s);
  EXPECT_EQ(guard.check(kGuesser, kRoom, now), PinVerdict::kSourceLockedOut);
  EXPECT_EQ(guard.check(kGuesser, "2000", now), PinVerdict::kSourceLockedOut) << "a source is locked out everywhere";
  EXPECT_EQ(guard.check(kOwner, kRoom, now), PinVerdict::kAllowed) << "another source is not";
}

TEST_F(PinGuardTest, LockoutEndsAfterItsDuration) {
  auto locked = fail(kGuesser, 3);
  ASSERT_TRUE(locked.source_lockout);
  const TimePoint until = locked.source_lockout->until;
  EXPECT_EQ(guard.locked_until(kGuesser, until - 1s), until);
  EXPECT_EQ(guard.check(kGuesser, kRoom, until - 1s), PinVerdict::kSourceLockedOut);
  EXPECT_EQ(guard.check(kGuesser, kRoom, until), PinVerdict::kAllowed);
  EXPECT_FALSE(guard.locked_until(kGuesser, until));
}

TEST_F(PinGuardTest, EachFurtherLockoutDoublesUpToTheCap) {
  guard = PinGuard(without_room_limit());
  std::vector<std::chrono::seconds> durations;
  for (int round = 0; round < 9; ++round) {
    auto result = fail(kGuesser, 3);
    ASSERT_TRUE(result.source_lockout) << "round " << round;
    durations.push_back(result.source_lockout->duration);
    now = result.source_lockout->until;  // comes back the moment it may
  }
  const std::vector<std::chrono::seconds> expected{60s, 120s, 240s, 480s, 960s, 1920s, 3600s, 3600s, 3600s};
  EXPECT_EQ(durations, expected);
}

TEST_F(PinGuardTest, FailuresWhileLockedOutAreNotCountedAgain) {
  auto locked = fail(kGuesser, 3);
  ASSERT_TRUE(locked.source_lockout);
  auto refused = fail(kGuesser, 10);
  EXPECT_FALSE(refused.source_lockout);
  EXPECT_FALSE(refused.room_lockout) << "refused attempts never reach the room count";
  now = locked.source_lockout->until;
  EXPECT_FALSE(fail(kGuesser, 2).source_lockout) << "a fresh count after the lockout";
}

TEST_F(PinGuardTest, FailuresOutsideTheWindowStartANewCount) {
  fail(kGuesser, 2);
  now += 600s;
  EXPECT_FALSE(fail(kGuesser, 2).source_lockout);
  EXPECT_TRUE(fail(kGuesser, 1).source_lockout);
}

TEST_F(PinGuardTest, RightPinForgetsCountedFailuresButNotTheBackoffLevel) {
  guard = PinGuard(without_room_limit());
  auto first = fail(kGuesser, 3);
  ASSERT_TRUE(first.source_lockout);
  now = first.source_lockout->until;
  fail(kGuesser, 2);
  guard.record_success(kGuesser);
  EXPECT_FALSE(fail(kGuesser, 2).source_lockout) << "the two before the right PIN are forgotten";
  auto second = fail(kGuesser, 1);
  ASSERT_TRUE(second.source_lockout);
  EXPECT_EQ(second.source_lockout->duration, 120s) << "the back-off level stays";
}

TEST_F(PinGuardTest, QuietSourceIsForgottenWithItsBackoffLevel) {
  auto first = fail(kGuesser, 3);
  ASSERT_TRUE(first.source_lockout);
  now = first.source_lockout->until + 3600s;
  auto again = fail(kGuesser, 3);
  ASSERT_TRUE(again.source_lockout);
  EXPECT_EQ(again.source_lockout->duration, 60s);
}

TEST_F(PinGuardTest, RoomUnderAttackRefusesKnownGuessersButNotNewSources) {
  // Five sources fail once each: the room's fifth failure guards it; no source is locked out.
  PinFailureResult last;
  for (int i = 1; i <= 5; ++i) last = fail("203.0.113." + std::to_string(i), 1);
  ASSERT_TRUE(last.room_lockout);
  EXPECT_EQ(last.room_lockout->scope, PinLockout::Scope::kRoom);
  EXPECT_EQ(last.room_lockout->room, kRoom);
  EXPECT_TRUE(last.room_lockout->source.empty());
  EXPECT_EQ(last.room_lockout->failures, 5);
  EXPECT_EQ(last.room_lockout->duration, 600s);
  EXPECT_FALSE(last.source_lockout);
  EXPECT_EQ(guard.check("203.0.113.1", kRoom, now), PinVerdict::kRoomGuarded);
  EXPECT_EQ(guard.check("203.0.113.1", "2000", now), PinVerdict::kAllowed) << "only the guarded room refuses it";
  EXPECT_EQ(guard.check(kOwner, kRoom, now), PinVerdict::kAllowed) << "a source that never failed gets in";
  // After the guard's window the known sources may try again.
  now = last.room_lockout->until;
  EXPECT_EQ(guard.check("203.0.113.1", kRoom, now), PinVerdict::kAllowed);
}

TEST_F(PinGuardTest, SourceLockoutAndRoomGuardCanComeFromOneFailure) {
  fail("203.0.113.1", 1);
  fail("203.0.113.2", 1);
  auto both = fail(kGuesser, 3);
  EXPECT_TRUE(both.source_lockout);
  EXPECT_TRUE(both.room_lockout);
}

TEST_F(PinGuardTest, RememberedSourcesAreBounded) {
  PinGuardConfig config = small_config();
  config.max_sources = 4;
  config.room_max_failures = 1000;
  PinGuard bounded(config);
  for (int i = 0; i < 50; ++i) {
    bounded.record_failure("203.0.113." + std::to_string(i), kRoom, now);
    now += 1s;
  }
  EXPECT_LE(bounded.tracked_sources(), 4u);
  EXPECT_EQ(bounded.tracked_rooms(), 1u);
}

TEST_F(PinGuardTest, FullTableForgetsExpiredSourcesBeforeLiveOnes) {
  PinGuardConfig config = small_config();
  config.max_sources = 2;
  PinGuard bounded(config);
  bounded.record_failure("203.0.113.1", kRoom, now);  // will expire
  now += 1s;
  for (int i = 0; i < 3; ++i) bounded.record_failure(kGuesser, kRoom, now);  // locked out for 60 s
  now += 3600s + 1s;                                                         // .1 has expired, the guesser not yet
  bounded.record_failure("203.0.113.9", kRoom, now);
  EXPECT_EQ(bounded.tracked_sources(), 2u);
  PinFailureResult again;
  for (int i = 0; i < 3; ++i) again = bounded.record_failure(kGuesser, "2000", now);
  ASSERT_TRUE(again.source_lockout);
  EXPECT_EQ(again.source_lockout->duration, 120s) << "the guesser was kept, with its back-off level";
}

TEST(PinGuard, ConfigBelowOneIsClampedToOne) {
  PinGuardConfig config;
  config.max_failures = 0;
  PinGuard guard(config);
  const TimePoint now{std::chrono::hours(1)};
  EXPECT_TRUE(guard.record_failure(kGuesser, kRoom, now).source_lockout);
}

}  // namespace pin_guard_test
}  // namespace chorus::conference
