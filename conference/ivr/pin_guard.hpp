// PinGuard: wrong PINs counted across calls, per source address and per room, so a guesser cannot
// multiply PinEntry's per-call attempt limit by dialling again or dialling many calls at once.
//
//   - Per source (all rooms): `max_failures` wrong PINs within `window` lock the source out of PIN
//     entry for `first_lockout`; each further lockout of the same source doubles it, up to
//     `max_lockout` (1 min → 2 → 4 … → 1 h, like Asterisk's/fail2ban's increasing bans). A source
//     quiet for `max_lockout` after its last failure or lockout is forgotten, back-off level included.
//   - Per room (all sources): `room_max_failures` within `window` guard the room for one `window`:
//     it refuses PIN attempts from every source that has failed before (any source still
//     remembered here). A source that has never failed — the legitimate caller — still gets in, so a
//     distributed guesser cannot lock the owners out of their own room.
// Windows are fixed, starting at the first failure counted in them (cheap, and bounded: one count
// and one start per source and per room). A right PIN forgets the source's counted failures, not
// its back-off level.
//
// Memory is bounded: at most `max_sources` sources and as many rooms are remembered; beyond that
// the entries that have expired are dropped, then the one quiet for longest (DESIGN §5: every
// ingress has a named limit).
//
// Pure logic: time is passed in (steady clock), nothing logs or publishes; the caller
// (AudioBridge) turns a PinLockout into the event, the log line and the counters.
// Threading: none of its own; it belongs to the control loop, like the calls it judges.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/timer_queue.hpp"

namespace chorus::conference {

struct PinGuardConfig {
  int max_failures = 5;                    // wrong PINs from one source within `window`; below 1 counts as 1
  int room_max_failures = 20;              // wrong PINs in one room from all sources within `window`
  std::chrono::seconds window{600};        // how long failures are counted together
  std::chrono::seconds first_lockout{60};  // the first lockout of a source; each next one doubles
  std::chrono::seconds max_lockout{3600};  // the longest lockout (and how long a quiet source is kept)
  std::size_t max_sources = 10000;         // sources (and rooms) remembered at once
};

enum class PinVerdict {
  kAllowed,          // check the digits
  kSourceLockedOut,  // this source is locked out: do not check its digits
  kRoomGuarded,      // the room is guarded and this source has failed before: do not check its digits
};

// A lockout that a failure just started (for the event, the log line and the metric).
struct PinLockout {
  enum class Scope { kSource, kRoom };
  Scope scope = Scope::kSource;
  std::string room;
  std::string source;  // the source address; empty for a room lockout
  int failures = 0;    // failures counted in the window that tripped it
  TimePoint until;     // steady clock
  std::chrono::seconds duration{0};
};

// What one failure caused: a source lockout, a room lockout, both or neither.
struct PinFailureResult {
  std::optional<PinLockout> source_lockout;
  std::optional<PinLockout> room_lockout;
};

class PinGuard {
 public:
  explicit PinGuard(PinGuardConfig config = {});

  // Whether a PIN attempt from `source` in `room` may be checked now.
  [[nodiscard]] PinVerdict check(std::string_view source, std::string_view room, TimePoint now) const;
  // A wrong PIN from `source` in `room`. A source that is locked out (or refused by a guarded room)
  // is not counted again: its digits were not checked.
  PinFailureResult record_failure(std::string_view source, std::string_view room, TimePoint now);
  // A right PIN from `source`: its counted failures are forgotten (its back-off level is not).
  void record_success(std::string_view source);

  // When the source's lockout ends, if it is locked out at `now`.
  [[nodiscard]] std::optional<TimePoint> locked_until(std::string_view source, TimePoint now) const;
  [[nodiscard]] std::size_t tracked_sources() const { return sources_.size(); }
  [[nodiscard]] std::size_t tracked_rooms() const { return rooms_.size(); }
  [[nodiscard]] const PinGuardConfig& config() const { return config_; }

 private:
  struct SourceState {
    int failures = 0;  // in the window that began at window_start
    TimePoint window_start;
    TimePoint last_failure;
    TimePoint locked_until;  // in the past when not locked out
    int lockouts = 0;        // back-off level: lockouts so far
  };
  struct RoomState {
    int failures = 0;
    TimePoint window_start;
    TimePoint guarded_until;
  };

  [[nodiscard]] std::chrono::seconds lockout_for(int level) const;
  [[nodiscard]] bool source_expired(const SourceState& state, TimePoint now) const;
  [[nodiscard]] bool room_expired(const RoomState& state, TimePoint now) const;
  SourceState& source_state(std::string_view source, TimePoint now);
  RoomState& room_state(std::string_view room, TimePoint now);
  std::optional<PinLockout> count_in_room(std::string_view room, TimePoint now);

  PinGuardConfig config_;
  std::unordered_map<std::string, SourceState> sources_;
  std::unordered_map<std::string, RoomState> rooms_;
};

}  // namespace chorus::conference
