#include "conference/ivr/keypad_controls.hpp"

namespace chorus::conference {

std::optional<KeypadCommand> KeypadControls::on_digit(char digit, std::chrono::steady_clock::time_point now) {
  if (digit == '*') {
    star_at_ = now;
    return std::nullopt;
  }
  const auto star_at = star_at_;
  star_at_.reset();
  // steady_clock never goes back, so `now` is not before the '*'; a value that is (a caller's
  // mistake) counts as in time rather than dropping the key.
  if (!star_at || now - *star_at > kCommandWindow) return std::nullopt;
  switch (digit) {
    case '6':
      return KeypadCommand::kToggleSelfMute;
    case '1':
      if (moderator_) return KeypadCommand::kToggleLock;
      return std::nullopt;
    case '2':
      if (moderator_) return KeypadCommand::kMuteAllGuests;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace chorus::conference
