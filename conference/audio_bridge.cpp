#include "conference/audio_bridge.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "conference/participant_events.hpp"
#include "conference/room_lock.hpp"

namespace chorus::conference {
namespace {

constexpr std::uint64_t kRepromptToken = 2;  // on_prompt_done: ask for the PIN again
constexpr std::uint64_t kWaitingToken = 4;   // on_prompt_done: still no moderator, say it again

std::string_view tone_name(mixer::Tone tone) {
  switch (tone) {
    case mixer::Tone::kJoin:
      return "tone:join";
    case mixer::Tone::kLeave:
      return "tone:leave";
    case mixer::Tone::kMuted:
      return "tone:muted";
    case mixer::Tone::kUnmuted:
      return "tone:unmuted";
  }
  return "tone";
}

}  // namespace

AudioBridge::AudioBridge(ParticipantTable& participants, RoomDirectory& rooms)
    : participants_(participants), rooms_(rooms), engine_(PostToControl{}, *this) {}

void AudioBridge::set_hooks(Hooks hooks) {
  hooks_ = std::move(hooks);
  engine_.set_post_to_control(hooks_.post_to_control);
}

bool AudioBridge::effectively_muted(const Participant& participant) const {
  return participant.muted || (!participant.moderator && guests_muted(participant.room_id));
}

bool AudioBridge::guests_muted(std::string_view room_id) const {
  return guests_muted_rooms_.contains(room_id);
}

void AudioBridge::conference_ended(std::string_view room_id) {
  if (auto it = guests_muted_rooms_.find(room_id); it != guests_muted_rooms_.end()) guests_muted_rooms_.erase(it);
}

bool AudioBridge::can_speak(std::string_view prompt) const {
  return hooks_.prompts != nullptr && hooks_.prompts->find(prompt) != nullptr;
}

media::SinkFactory AudioBridge::attach(Participant& participant, const EngineStream& stream) {
  if (participant.in_audio_room || stream.negotiated.media != "audio") return {};
  auto sink = engine_.attach(engine_member(participant, effectively_muted(participant)), stream);
  if (sink) participant.in_audio_room = true;
  return sink;
}

void AudioBridge::start(Participant& participant) {
  if (!participant.in_audio_room) return;
  if (participant.early) {  // held in early media (meeting_not_started.cpp)
    play(participant, "meeting_not_started", kNotStartedToken);
    return;
  }
  if (!participant.admitted) {
    play(participant, "enter_pin");
    return;
  }
  admit(participant);
}

void AudioBridge::leave(Participant& participant) {
  if (!participant.in_audio_room) return;
  participant.in_audio_room = false;
  if (participant.admitted && engine_.members_in(participant.room_id) > 1)
    announce(participant.room_id, mixer::Tone::kLeave);
  engine_.detach(participant.id);
}

bool AudioBridge::must_wait_for_moderator(const Participant& participant) const {
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  if (participant.moderator || room == nullptr || !room->wait_for_moderator || room->moderator_pin.empty())
    return false;
  return !participants_.any_in_room(participant.room_id, [](const Participant& other) {
    return other.moderator && other.admitted && other.in_audio_room;
  });
}

void AudioBridge::release_waiting_guests(std::string_view room_id) {
  for (Participant* participant : participants_.in_room(room_id)) {
    if (!participant->waiting) continue;
    participant->waiting = false;
    admit(*participant);
  }
}

void AudioBridge::admit(Participant& participant) {
  participant.pin.reset();
  end_pin_entry(participant);
  if (must_wait_for_moderator(participant)) {
    participant.waiting = true;
    engine_.stop_prompts(participant.id);
    play(participant, "waiting_for_moderator", kWaitingToken);
    if (hooks_.admission_changed) hooks_.admission_changed(participant.id);
    return;
  }
  const bool was_admitted = participant.admitted;
  participant.admitted = true;
  participant.keypad.set_moderator(participant.moderator);
  engine_.stop_prompts(participant.id);
  engine_.set_muted(participant.id, effectively_muted(participant));
  engine_.set_admitted(participant.id, true);
  const bool others = participants_.any_in_room(participant.room_id, [&](const Participant& other) {
    return other.id != participant.id && other.in_audio_room && other.admitted;
  });
  if (!others)
    play(participant, "first_participant");
  else
    announce(participant.room_id, mixer::Tone::kJoin);
  if (participant.moderator) release_waiting_guests(participant.room_id);
  if (!was_admitted && hooks_.admission_changed) hooks_.admission_changed(participant.id);
}

mixer::Clip AudioBridge::prompt_clip(std::string_view name) {
  if (auto it = clips_.find(name); it != clips_.end()) return it->second;
  mixer::Clip clip;
  if (hooks_.prompts != nullptr)
    if (const auto* prompt = hooks_.prompts->find(name))
      clip = std::make_shared<const std::vector<mixer::Sample>>(prompt->samples);
  if (!clip) CHORUS_LOG(kWarn, "conference", "prompt missing", {"prompt", name});
  clips_.emplace(std::string(name), clip);
  return clip;
}

mixer::Clip AudioBridge::tone_clip(mixer::Tone tone) {
  auto& clip = clips_[std::string(tone_name(tone))];
  if (!clip) clip = std::make_shared<const std::vector<mixer::Sample>>(mixer::make_tone(tone));
  return clip;
}

void AudioBridge::play(const Participant& participant, std::string_view prompt, std::uint64_t token) {
  auto clip = prompt_clip(prompt);
  if (!clip) {  // no recording: act as if it had played (later, outside the caller's stack)
    if (token != 0 && hooks_.post_to_control)
      hooks_.post_to_control([this, alive = std::weak_ptr<bool>(alive_), id = participant.id, token] {
        if (alive.lock()) on_prompt_done(id, token);
      });
    return;
  }
  engine_.play(participant.id, std::move(clip), token);
}

void AudioBridge::play_tone(const Participant& participant, mixer::Tone tone) {
  engine_.play(participant.id, tone_clip(tone), 0);
}

void AudioBridge::announce(std::string_view room_id, mixer::Tone tone) {
  engine_.announce(room_id, tone_clip(tone));
}

void AudioBridge::announce_prompt(std::string_view room_id, std::string_view prompt) {
  if (auto clip = prompt_clip(prompt)) engine_.announce(room_id, std::move(clip));
}

void AudioBridge::apply_mute(const Participant& participant) {
  engine_.set_muted(participant.id, effectively_muted(participant));
}

bool AudioBridge::set_participant_muted(std::uint64_t participant_id, bool muted) {
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr) return false;
  if (participant->muted == muted) return true;
  participant->muted = muted;
  apply_mute(*participant);
  publish_participant_event(events_, muted ? event_type::kParticipantMuted : event_type::kParticipantUnmuted,
                            *participant);
  return true;
}

bool AudioBridge::set_participant_gain(std::uint64_t participant_id, double gain_db) {
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr) return false;
  participant->gain_db = std::clamp(gain_db, mixer::kMinGainDb, mixer::kMaxGainDb);
  engine_.set_gain(participant->id, participant->gain_db);
  return true;
}

bool AudioBridge::set_guests_muted(std::string_view room_id, bool muted) {
  if (participants_.count_in(room_id) == 0) return false;  // a live conference's setting, gone when it ends
  if (muted)
    guests_muted_rooms_.emplace(room_id);
  else
    conference_ended(room_id);
  for (const Participant* participant : participants_.in_room(room_id))
    if (!participant->moderator) apply_mute(*participant);
  if (hooks_.room_changed) hooks_.room_changed(room_id);
  return true;
}

void AudioBridge::on_digit(Participant& participant, char digit) {
  if (participant.leaving) return;
  if (!participant.admitted) {
    handle_pin_digit(participant, digit);
    return;
  }
  if (auto command = participant.keypad.on_digit(digit, std::chrono::steady_clock::now()))
    handle_keypad(participant, *command);
}

void AudioBridge::handle_pin_digit(Participant& participant, char digit) {
  if (!participant.pin) return;
  // Calls answered before their source was locked out (parallel guessing) stop here too.
  if (refuse_if_guarded(participant)) return;
  const PinOutcome outcome = participant.pin->on_digit(digit);
  switch (outcome) {
    case PinOutcome::kCollecting:  // typing: the prompt need not finish
      engine_.stop_prompts(participant.id);
      return;
    case PinOutcome::kGuest:
    case PinOutcome::kModerator:
      participant.moderator = outcome == PinOutcome::kModerator;
      pin_guard_.record_success(participant.source_ip);
      CHORUS_LOG(kInfo, "conference", "PIN accepted", {"room", participant.room_id}, {"call_id", participant.call_id},
                 {"moderator", participant.moderator});
      admit(participant);
      return;
    case PinOutcome::kRetry:
      CHORUS_LOG(kInfo, "conference", "wrong PIN", {"room", participant.room_id}, {"call_id", participant.call_id},
                 {"source", participant.source_ip}, {"attempts_left", participant.pin->attempts_left()});
      count_wrong_pin(participant);
      if (refuse_if_guarded(participant)) return;  // that failure locked it out: no second try
      engine_.stop_prompts(participant.id);
      play(participant, "wrong_pin", kRepromptToken);
      return;
    case PinOutcome::kFailed:
      CHORUS_LOG(kInfo, "conference", "PIN failed, hanging up", {"room", participant.room_id},
                 {"call_id", participant.call_id}, {"source", participant.source_ip});
      count_wrong_pin(participant);
      say_goodbye(participant, kGoodbyeToken);
      return;
  }
}

void AudioBridge::handle_keypad(Participant& participant, KeypadCommand command) {
  switch (command) {
    case KeypadCommand::kToggleSelfMute:
      set_participant_muted(participant.id, !participant.muted);
      play_tone(participant, participant.muted ? mixer::Tone::kMuted : mixer::Tone::kUnmuted);
      return;
    case KeypadCommand::kToggleLock: {
      const Room* room = rooms_.find_by_dial_string(participant.room_id);
      if (room == nullptr || hooks_.store == nullptr) return;
      const bool lock = !room->locked;
      auto changed = set_room_locked(*hooks_.store, rooms_, events_, participant.room_id, lock);
      if (!changed) {
        CHORUS_LOG(kWarn, "conference", "keypad lock failed", {"room", participant.room_id},
                   {"error", changed.error()});
        return;
      }
      play(participant, lock ? "locked" : "unlocked");
      return;
    }
    case KeypadCommand::kMuteAllGuests: {
      const bool mute = !guests_muted(participant.room_id);
      set_guests_muted(participant.room_id, mute);
      play(participant, mute ? "guests_muted" : "guests_unmuted");
      return;
    }
  }
}

void AudioBridge::on_dtmf(std::uint64_t participant_id, char digit) {
  if (Participant* participant = participants_.find_by_id(participant_id)) {
    // Never the digit: while the caller is in PIN entry it is a digit of the PIN (DESIGN §7).
    CHORUS_LOG(kDebug, "conference", "dtmf (RFC 4733)", {"call_id", participant->call_id},
               {"pin_entry", !participant->admitted});
    on_digit(*participant, digit);
  }
}

void AudioBridge::on_talking(std::uint64_t participant_id, bool talking) {
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr || participant->talking == talking) return;
  participant->talking = talking;
  publish_participant_event(
      events_, talking ? event_type::kParticipantTalkingStarted : event_type::kParticipantTalkingStopped, *participant);
}

void AudioBridge::on_prompt_done(std::uint64_t participant_id, std::uint64_t token) {
  if (token == kNotStartedToken) {
    if (hooks_.not_started_played) hooks_.not_started_played(participant_id);
    return;
  }
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr) return;
  if (token == kGoodbyeToken && hooks_.hang_up) {
    hooks_.hang_up(participant->call, "PIN failed");
  } else if (token == kPinTimeoutToken && hooks_.hang_up) {
    hooks_.hang_up(participant->call, "PIN entry timed out");
  } else if (token == kPinRefusedToken && hooks_.hang_up) {
    hooks_.hang_up(participant->call, "PIN entry locked out");
  } else if (token == kRepromptToken && !participant->admitted && !participant->leaving) {
    play(*participant, "enter_pin");
  } else if (token == kWaitingToken && participant->waiting && prompt_clip("waiting_for_moderator")) {
    play(*participant, "waiting_for_moderator", kWaitingToken);
  }
}

}  // namespace chorus::conference
