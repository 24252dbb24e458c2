// PinEntry: the PIN prompt's decisions, key by key, for rooms with guest and moderator PINs, with
// only a moderator PIN, and the limits (attempts, digits, the inter-digit timer).
#include "conference/ivr/pin_entry.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace chorus::conference {
namespace pin_entry_test {

PinPolicy both_pins() {
  return PinPolicy{.guest_pin = "1234", .moderator_pin = "9876"};
}

// Types every key of `keys` and returns the outcome of the last one.
PinOutcome type(PinEntry& entry, std::string_view keys) {
  PinOutcome outcome = PinOutcome::kCollecting;
  for (char key : keys) outcome = entry.on_digit(key);
  return outcome;
}

TEST(PinEntry, DigitsBeforeHashAreCollecting) {
  PinEntry entry(both_pins());
  for (char key : std::string_view{"123"}) EXPECT_EQ(entry.on_digit(key), PinOutcome::kCollecting);
  EXPECT_EQ(entry.typed_digits(), 3u);
  EXPECT_EQ(entry.attempts_left(), 3);
}

TEST(PinEntry, GuestPinAdmitsAGuest) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "1234#"), PinOutcome::kGuest);
  EXPECT_TRUE(entry.finished());
}

TEST(PinEntry, ModeratorPinAdmitsAModerator) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "9876#"), PinOutcome::kModerator);
  EXPECT_TRUE(entry.finished());
}

TEST(PinEntry, WrongPinRetriesAndCountsDown) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "1111#"), PinOutcome::kRetry);
  EXPECT_EQ(entry.attempts_left(), 2);
  EXPECT_EQ(entry.typed_digits(), 0u);
  EXPECT_EQ(type(entry, "1234#"), PinOutcome::kGuest);
}

TEST(PinEntry, ThreeWrongPinsFail) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "0000#"), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "12345#"), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "123#"), PinOutcome::kFailed);
  EXPECT_EQ(entry.attempts_left(), 0);
  EXPECT_TRUE(entry.finished());
}

TEST(PinEntry, PrefixAndExtensionOfThePinAreWrong) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .moderator_pin = "9876", .max_attempts = 5});
  EXPECT_EQ(type(entry, "123#"), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "12340#"), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "98760#"), PinOutcome::kRetry);
  EXPECT_EQ(entry.attempts_left(), 2);
}

TEST(PinEntry, TerminalOutcomeSticks) {
  PinEntry guest(both_pins());
  ASSERT_EQ(type(guest, "1234#"), PinOutcome::kGuest);
  EXPECT_EQ(type(guest, "9876#"), PinOutcome::kGuest);
  EXPECT_EQ(guest.on_digit('*'), PinOutcome::kGuest);
  EXPECT_EQ(guest.on_timeout(), PinOutcome::kGuest);

  PinEntry moderator(both_pins());
  ASSERT_EQ(type(moderator, "9876#"), PinOutcome::kModerator);
  EXPECT_EQ(type(moderator, "0000#"), PinOutcome::kModerator);

  PinEntry failed(PinPolicy{.guest_pin = "1234", .max_attempts = 1});
  ASSERT_EQ(type(failed, "1#"), PinOutcome::kFailed);
  EXPECT_EQ(type(failed, "1234#"), PinOutcome::kFailed);
  EXPECT_EQ(failed.on_timeout(), PinOutcome::kFailed);
  EXPECT_EQ(failed.attempts_left(), 0);
}

TEST(PinEntry, StarClearsWhatWasTyped) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "99*"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.typed_digits(), 0u);
  EXPECT_EQ(entry.attempts_left(), 3);
  EXPECT_EQ(type(entry, "1234#"), PinOutcome::kGuest);
}

TEST(PinEntry, EmptySubmissionIsWrongWhenGuestsNeedAPin) {
  PinEntry entry(both_pins());
  EXPECT_EQ(entry.on_digit('#'), PinOutcome::kRetry);
  EXPECT_EQ(entry.attempts_left(), 2);
}

TEST(PinEntry, RoomWithOnlyAModeratorPinAdmitsGuestsWithHashAlone) {
  PinEntry guest(PinPolicy{.guest_pin = "", .moderator_pin = "9876"});
  EXPECT_EQ(guest.on_digit('#'), PinOutcome::kGuest);

  PinEntry moderator(PinPolicy{.guest_pin = "", .moderator_pin = "9876"});
  EXPECT_EQ(type(moderator, "9876#"), PinOutcome::kModerator);

  // Anything else typed was meant as the moderator PIN: wrong, and counted.
  PinEntry mistyped(PinPolicy{.guest_pin = "", .moderator_pin = "9876"});
  EXPECT_EQ(type(mistyped, "9875#"), PinOutcome::kRetry);
  EXPECT_EQ(mistyped.attempts_left(), 2);
  EXPECT_EQ(mistyped.on_digit('#'), PinOutcome::kGuest);
}

TEST(PinEntry, EmptyModeratorPinNeverMatches) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .moderator_pin = ""});
  EXPECT_EQ(entry.on_digit('#'), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "1234#"), PinOutcome::kGuest);
}

TEST(PinEntry, EqualPinsAdmitAsGuest) {
  PinEntry entry(PinPolicy{.guest_pin = "5555", .moderator_pin = "5555"});
  EXPECT_EQ(type(entry, "5555#"), PinOutcome::kGuest);
}

TEST(PinEntry, TypingPastMaxDigitsIsAWrongAttempt) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .moderator_pin = "9876", .max_digits = 6});
  EXPECT_EQ(type(entry, "123456"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_digit('7'), PinOutcome::kRetry);
  EXPECT_EQ(entry.attempts_left(), 2);
  EXPECT_EQ(entry.typed_digits(), 0u);
  // The overflowing key is discarded with the rest; the next try starts clean.
  EXPECT_EQ(type(entry, "1234#"), PinOutcome::kGuest);
}

TEST(PinEntry, EndlessTypingFailsAfterTheAttempts) {
  PinEntry entry(both_pins());
  PinOutcome outcome = PinOutcome::kCollecting;
  int keys = 0;
  for (; keys < 1000 && outcome != PinOutcome::kFailed; ++keys) outcome = entry.on_digit('7');
  EXPECT_EQ(outcome, PinOutcome::kFailed);
  EXPECT_EQ(keys, 3 * 17);  // 16 digits fit, the 17th is the wrong attempt, three times
}

TEST(PinEntry, TimeoutAfterDigitsIsAWrongAttempt) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "12"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_timeout(), PinOutcome::kRetry);
  EXPECT_EQ(entry.attempts_left(), 2);
  EXPECT_EQ(entry.typed_digits(), 0u);
}

TEST(PinEntry, TimeoutWithNothingTypedIsNotAnAttempt) {
  PinEntry entry(both_pins());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(entry.on_timeout(), PinOutcome::kCollecting);
  EXPECT_EQ(entry.attempts_left(), 3);
  EXPECT_EQ(type(entry, "12*"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_timeout(), PinOutcome::kCollecting);
}

TEST(PinEntry, LastTimeoutFails) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .max_attempts = 2});
  EXPECT_EQ(type(entry, "1"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_timeout(), PinOutcome::kRetry);
  EXPECT_EQ(type(entry, "1"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_timeout(), PinOutcome::kFailed);
}

TEST(PinEntry, NonKeyCharactersAreIgnored) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "1x2\n3\0"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.on_digit('\0'), PinOutcome::kCollecting);
  EXPECT_EQ(type(entry, "4#"), PinOutcome::kGuest);
}

TEST(PinEntry, LetterKeysAreTypedAndMakeThePinWrong) {
  PinEntry entry(both_pins());
  EXPECT_EQ(type(entry, "12A34"), PinOutcome::kCollecting);
  EXPECT_EQ(entry.typed_digits(), 5u);
  EXPECT_EQ(entry.on_digit('#'), PinOutcome::kRetry);
}

TEST(PinEntry, NonPositiveMaxAttemptsAllowsOne) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .max_attempts = 0});
  EXPECT_EQ(entry.attempts_left(), 1);
  EXPECT_EQ(type(entry, "1#"), PinOutcome::kFailed);
}

TEST(PinEntry, MaxDigitsIsClampedToTheComparableWidth) {
  PinEntry entry(PinPolicy{.guest_pin = "1234", .max_digits = 1000});
  for (std::size_t i = 0; i < kMaxPinDigits; ++i) ASSERT_EQ(entry.on_digit('5'), PinOutcome::kCollecting) << i;
  EXPECT_EQ(entry.on_digit('5'), PinOutcome::kRetry);

  PinEntry zero(PinPolicy{.guest_pin = "1", .max_digits = 0});
  EXPECT_EQ(type(zero, "1#"), PinOutcome::kGuest);
}

}  // namespace pin_entry_test
}  // namespace chorus::conference
