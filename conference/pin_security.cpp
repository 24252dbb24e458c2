// AudioBridge: PIN security around PinEntry (pin_security.hpp) — the entry timeout, the PinGuard's
// checks and counts, lockout reports. Threading: control loop only.
#include "conference/pin_security.hpp"

#include "common/log.hpp"
#include "conference/audio_bridge.hpp"

namespace chorus::conference {

namespace {

std::string_view verdict_reason(PinVerdict verdict) {
  return verdict == PinVerdict::kRoomGuarded ? "room_guarded" : "source_locked_out";
}

bool same_limits(const PinGuardConfig& a, const PinGuardConfig& b) {
  return a.max_failures == b.max_failures && a.room_max_failures == b.room_max_failures && a.window == b.window &&
         a.first_lockout == b.first_lockout && a.max_lockout == b.max_lockout && a.max_sources == b.max_sources;
}

}  // namespace

void report_pin_lockout(EventLog* events, const PinLockout& lockout, TimePoint steady_now,
                        std::chrono::system_clock::time_point wall_now) {
  const auto until = format_rfc3339_utc(
      wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(lockout.until - steady_now));
  const bool room = lockout.scope == PinLockout::Scope::kRoom;
  // One line per lockout that fail2ban can match on `msg=pin_lockout ... source=<HOST>` (docs/security.md).
  if (room)
    CHORUS_LOG(kWarn, "security", "pin_room_guard", {"room", lockout.room}, {"failures", lockout.failures},
               {"until", until}, {"lockout_s", lockout.duration.count()});
  else
    CHORUS_LOG(kWarn, "security", "pin_lockout", {"room", lockout.room}, {"source", lockout.source},
               {"failures", lockout.failures}, {"until", until}, {"lockout_s", lockout.duration.count()});
  if (events == nullptr) return;
  nlohmann::json data{{"room_id", lockout.room},
                      {"scope", room ? "room" : "source"},
                      {"failures", lockout.failures},
                      {"until", until},
                      {"lockout_seconds", lockout.duration.count()}};
  data["source"] = room ? nlohmann::json(nullptr) : nlohmann::json(lockout.source);
  events->publish(event_type::kSecurityPinLockout, std::move(data));
}

void AudioBridge::set_pin_security(const PinSecuritySettings& settings) {
  if (!same_limits(settings.guard, pin_settings_.guard)) pin_guard_ = PinGuard(settings.guard);
  pin_settings_ = settings;
}

TimePoint AudioBridge::steady_now() const {
  return hooks_.timers != nullptr ? hooks_.timers->now() : SteadyClock::now();
}

void AudioBridge::begin_pin_entry(Participant& participant) {
  if (!participant.pin || participant.admitted) return;
  if (refuse_if_guarded(participant)) return;
  if (hooks_.timers == nullptr || pin_settings_.entry_timeout.count() <= 0) return;
  end_pin_entry(participant);
  participant.pin_timer = hooks_.timers->schedule(std::chrono::duration_cast<Millis>(pin_settings_.entry_timeout),
                                                  [this, alive = std::weak_ptr<bool>(alive_), id = participant.id] {
                                                    if (alive.lock()) on_pin_timeout(id);
                                                  });
}

void AudioBridge::end_pin_entry(Participant& participant) {
  if (participant.pin_timer == TimerQueue::kNoTimer) return;
  if (hooks_.timers != nullptr) hooks_.timers->cancel(participant.pin_timer);
  participant.pin_timer = TimerQueue::kNoTimer;
}

void AudioBridge::on_pin_timeout(std::uint64_t participant_id) {
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr) return;
  participant->pin_timer = TimerQueue::kNoTimer;
  if (participant->admitted || participant->waiting || participant->leaving) return;
  // Not a wrong PIN: a silent caller guessed nothing, but must not hold its slot any longer.
  bump(pin_counters_->timeouts);
  CHORUS_LOG(kInfo, "conference", "PIN entry timed out, hanging up", {"room", participant->room_id},
             {"call_id", participant->call_id}, {"source", participant->source_ip},
             {"timeout_s", pin_settings_.entry_timeout.count()});
  say_goodbye(*participant, kPinTimeoutToken);
}

bool AudioBridge::refuse_if_guarded(Participant& participant) {
  if (participant.leaving) return true;
  const PinVerdict verdict = pin_guard_.check(participant.source_ip, participant.room_id, steady_now());
  if (verdict == PinVerdict::kAllowed) return false;
  bump(pin_counters_->refused);
  CHORUS_LOG(kInfo, "conference", "PIN entry refused, hanging up", {"room", participant.room_id},
             {"call_id", participant.call_id}, {"source", participant.source_ip}, {"reason", verdict_reason(verdict)});
  say_goodbye(participant, kPinRefusedToken);
  return true;
}

void AudioBridge::count_wrong_pin(const Participant& participant) {
  bump(pin_counters_->failures);
  const TimePoint now = steady_now();
  const auto result = pin_guard_.record_failure(participant.source_ip, participant.room_id, now);
  const auto wall_now = std::chrono::system_clock::now();
  for (const auto* lockout : {&result.source_lockout, &result.room_lockout}) {
    if (!lockout->has_value()) continue;
    bump(pin_counters_->lockouts);
    report_pin_lockout(events_, **lockout, now, wall_now);
  }
}

void AudioBridge::say_goodbye(Participant& participant, std::uint64_t token) {
  participant.leaving = true;
  end_pin_entry(participant);
  if (participant.in_audio_room) {
    engine_.stop_prompts(participant.id);
    play(participant, "goodbye", token);
    return;
  }
  // No audio in the mixer to speak through: hang up at once (outside the caller's stack).
  if (hooks_.post_to_control)
    hooks_.post_to_control([this, alive = std::weak_ptr<bool>(alive_), id = participant.id, token] {
      if (alive.lock()) on_prompt_done(id, token);
    });
}

}  // namespace chorus::conference
