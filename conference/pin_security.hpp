// PIN security around PinEntry (issue 12, "PINs"): the settings, the counters /metrics shows, and
// how a lockout is reported. The AudioBridge members that use them (begin_pin_entry, the entry
// timeout, the PinGuard checks) are in pin_security.cpp.
//
//   - PIN entry times out: a caller who has not been admitted `entry_timeout` after the answer hears
//     "goodbye" and gets BYE (a silent caller must not hold a call slot, ports and a mixer member
//     forever). A timeout is not a wrong PIN: nothing was guessed.
//   - Wrong PINs are counted across calls by a PinGuard (ivr/pin_guard.hpp), per source address and
//     per room. A source the guard refuses is told ("goodbye") and hung up without its digits being
//     checked, at the start of PIN entry and at every digit it types afterwards (calls answered
//     before the lockout are refused too).
//   - Each lockout publishes `security.pin_lockout` and writes one warn line for fail2ban:
//     `comp=security msg=pin_lockout room=1000 source=192.0.2.7 failures=5 until=<RFC 3339>
//     lockout_s=60`, or `msg=pin_room_guard` (no source) for a room; docs/security.md has the
//     exact format and a filter. PINs and typed digits are never logged.
// Threading: control loop; the counters are atomics read by /metrics on the REST thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "conference/events/event_log.hpp"
#include "conference/ivr/pin_guard.hpp"

namespace chorus::conference {

struct PinSecuritySettings {
  std::chrono::seconds entry_timeout{30};  // from the answer until the caller must be admitted
  PinGuardConfig guard;
};

struct PinCounters {
  std::atomic<std::uint64_t> failures{0};  // wrong PINs checked
  std::atomic<std::uint64_t> lockouts{0};  // source lockouts and room guards started
  std::atomic<std::uint64_t> refused{0};   // PIN calls hung up by the guard (source locked out, room guarded)
  std::atomic<std::uint64_t> timeouts{0};  // PIN calls hung up for not entering a PIN in time

  [[nodiscard]] std::array<PublishedCounter, 4> published() const {
    return {
        {{"chorus_pin_failures_total", "Wrong conference PINs entered", "pin_failures", &failures},
         {"chorus_pin_lockouts_total", "PIN lockouts started (per source, and room guards)", "pin_lockouts", &lockouts},
         {"chorus_pin_refused_total", "PIN callers hung up by the guard: source locked out or room guarded",
          "pin_refused", &refused},
         {"chorus_pin_timeouts_total", "PIN callers hung up for not entering the PIN in time", "pin_timeouts",
          &timeouts}}};
  }
};

// The lockout as the log line and the `security.pin_lockout` event (on `events` when not null).
// `steady_now` is the guard's clock at the failure; `wall_now` turns `until` into wall time.
void report_pin_lockout(EventLog* events, const PinLockout& lockout, TimePoint steady_now,
                        std::chrono::system_clock::time_point wall_now);

}  // namespace chorus::conference
