// KeypadControls: the in-call DTMF commands of a conference participant. A command is '*' and one
// more key within kCommandWindow:
//   *6  toggle the caller's own mute           (everyone)
//   *1  toggle the room's lock                 (moderators)
//   *2  toggle the mute of every guest         (moderators)
// A guest's *1 or *2 does nothing. Any other key, a '*' command key pressed too late, or a key
// with no '*' before it, completes nothing and clears the pending '*'; a second '*' starts over.
// The class only recognises commands; the conference service applies them (and tracks what is
// toggled: the mute state, the lock, the guests' mute).
//
// Time comes from the caller (`now`), so tests need no clock. Nothing allocates.
// Threading: none of its own; it belongs to the thread that owns the call (the control loop).
#pragma once

#include <chrono>
#include <optional>

namespace chorus::conference {

enum class KeypadCommand { kToggleSelfMute, kToggleLock, kMuteAllGuests };

class KeypadControls {
 public:
  // How long after '*' the command key is accepted.
  static constexpr std::chrono::seconds kCommandWindow{3};

  explicit KeypadControls(bool moderator) : moderator_(moderator) {}

  // One DTMF key ('0'-'9', '*', '#', 'A'-'D'); the command it completes, if any.
  std::optional<KeypadCommand> on_digit(char digit, std::chrono::steady_clock::time_point now);

  // The participant became (or stopped being) a moderator; a pending '*' stays pending.
  void set_moderator(bool moderator) { moderator_ = moderator; }
  [[nodiscard]] bool moderator() const { return moderator_; }

 private:
  bool moderator_;
  std::optional<std::chrono::steady_clock::time_point> star_at_;  // when the pending '*' was pressed
};

}  // namespace chorus::conference
