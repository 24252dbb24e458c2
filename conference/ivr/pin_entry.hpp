// PinEntry: collects a caller's PIN from DTMF digits (RFC 4733 telephone-events or SIP INFO) and
// decides whether the caller joins as a guest or a moderator, may try again, or is turned away.
//
// The caller's IVR plays the prompts and runs the inter-digit timer; this class holds only the
// decision, so it can be tested without audio or time:
//   - digits '0'-'9' and 'A'-'D' are typed; '*' clears what was typed; '#' submits it;
//   - the guest PIN admits a guest (kGuest), the moderator PIN a moderator (kModerator);
//   - a wrong submission, typing more than max_digits, or the inter-digit timer firing after
//     something was typed, is a wrong attempt: kRetry while attempts remain, kFailed on the last;
//   - once kGuest, kModerator or kFailed is reached every later call returns it again.
//
// Rooms without a guest PIN: a room whose guest_pin is empty admits guests with just '#' (nothing
// typed), so callers of a room that has only a moderator PIN press '#' to join as guests and the
// moderator types the PIN. Typing anything else there is a wrong attempt (it was meant to be the
// moderator PIN), so the attempt limit still bounds guessing. An empty moderator_pin is never
// matched. With both empty, '#' admits a guest, although such a room needs no PIN prompt at all.
// An empty '#' in a room with a guest PIN is a wrong attempt, like any other wrong PIN.
// If both PINs are equal (the REST API refuses that) the caller is admitted as a guest, the lesser
// role. A PIN longer than max_digits, or than kMaxPinDigits, can never be typed.
//
// PINs are compared in constant time: every submission compares against both PINs over a fixed
// width with CRYPTO_memcmp, whatever was typed and whichever matches.
// Nothing allocates after construction. Threading: none of its own; it belongs to the thread that
// owns the call (the control loop), like the call itself.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace chorus::conference {

struct PinPolicy {
  std::string guest_pin;        // empty: guests join with '#' alone
  std::string moderator_pin;    // empty: no one joins as moderator by PIN
  int max_attempts = 3;         // wrong attempts before kFailed; values below 1 count as 1
  std::size_t max_digits = 16;  // typed digits before '#'; clamped to 1..kMaxPinDigits
};

enum class PinOutcome {
  kCollecting,  // keep collecting digits
  kGuest,       // admitted as a guest (terminal)
  kModerator,   // admitted as a moderator (terminal)
  kRetry,       // that was wrong; prompt again (attempts_left() > 0)
  kFailed,      // the last attempt was wrong; end the call (terminal)
};

// The widest PIN that can be typed (and compared): room PINs are 4..12 digits (rest-api).
inline constexpr std::size_t kMaxPinDigits = 32;

class PinEntry {
 public:
  explicit PinEntry(PinPolicy policy);

  // One DTMF key: '0'-'9', 'A'-'D' (typed), '*' (clear), '#' (submit). Any other character is not
  // a key and is ignored (kCollecting, or the terminal outcome).
  PinOutcome on_digit(char digit);
  // The caller's inter-digit timer fired: a wrong attempt when something was typed, else nothing.
  PinOutcome on_timeout();

  [[nodiscard]] int attempts_left() const { return attempts_left_; }
  // How many digits are typed and not yet submitted (for tests and logs; never the digits).
  [[nodiscard]] std::size_t typed_digits() const { return typed_size_; }
  [[nodiscard]] bool finished() const;

 private:
  PinOutcome submit();
  PinOutcome wrong_attempt();

  PinPolicy policy_;
  int attempts_left_;
  std::size_t max_digits_;
  std::array<char, kMaxPinDigits> typed_{};
  std::size_t typed_size_ = 0;
  PinOutcome outcome_ = PinOutcome::kCollecting;  // the last outcome; terminal ones stick
};

}  // namespace chorus::conference
