#include "conference/ivr/pin_entry.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace chorus::conference {

namespace {

bool is_typed_key(char digit) {
  return (digit >= '0' && digit <= '9') || (digit >= 'A' && digit <= 'D');
}

// Both sides are copied into zero-padded buffers of the same fixed width and compared with
// CRYPTO_memcmp, so the time taken does not depend on where they differ or on their lengths.
// Padding cannot forge a match: the lengths must be equal too, and typed keys are never NUL.
bool pin_equals(std::string_view typed, std::string_view pin) {
  std::array<char, kMaxPinDigits> given{};
  std::array<char, kMaxPinDigits> expected{};
  std::copy_n(typed.begin(), std::min(typed.size(), kMaxPinDigits), given.begin());
  std::copy_n(pin.begin(), std::min(pin.size(), kMaxPinDigits), expected.begin());
  const bool same_bytes = CRYPTO_memcmp(given.data(), expected.data(), kMaxPinDigits) == 0;
  return same_bytes & (typed.size() == pin.size()) & (pin.size() <= kMaxPinDigits);
}

}  // namespace

PinEntry::PinEntry(PinPolicy policy)
    : policy_(std::move(policy)),
      attempts_left_(std::max(policy_.max_attempts, 1)),
      max_digits_(std::clamp<std::size_t>(policy_.max_digits, 1, kMaxPinDigits)) {}

bool PinEntry::finished() const {
  return outcome_ == PinOutcome::kGuest || outcome_ == PinOutcome::kModerator || outcome_ == PinOutcome::kFailed;
}

PinOutcome PinEntry::on_digit(char digit) {
  if (finished()) return outcome_;
  if (digit == '#') return outcome_ = submit();
  if (digit == '*') {
    typed_size_ = 0;
    return outcome_ = PinOutcome::kCollecting;
  }
  if (!is_typed_key(digit)) return outcome_ = PinOutcome::kCollecting;
  // One digit more than any PIN this room could accept: wrong, without waiting for '#'.
  if (typed_size_ == max_digits_) return outcome_ = wrong_attempt();
  typed_[typed_size_++] = digit;
  return outcome_ = PinOutcome::kCollecting;
}

PinOutcome PinEntry::on_timeout() {
  if (finished()) return outcome_;
  if (typed_size_ == 0) return outcome_ = PinOutcome::kCollecting;
  return outcome_ = wrong_attempt();
}

PinOutcome PinEntry::submit() {
  const std::string_view typed{typed_.data(), typed_size_};
  // Both comparisons always run, so timing does not tell which PIN (if any) matched.
  const bool guest = pin_equals(typed, policy_.guest_pin);
  const bool moderator = !policy_.moderator_pin.empty() && pin_equals(typed, policy_.moderator_pin);
  typed_size_ = 0;
  typed_.fill('\0');
  if (guest) return PinOutcome::kGuest;
  if (moderator) return PinOutcome::kModerator;
  return wrong_attempt();
}

PinOutcome PinEntry::wrong_attempt() {
  typed_size_ = 0;
  typed_.fill('\0');
  --attempts_left_;
  return attempts_left_ > 0 ? PinOutcome::kRetry : PinOutcome::kFailed;
}

}  // namespace chorus::conference
