// ConferenceService, the audio MCU's side (DESIGN §3): which engine a participant's audio joins,
// PIN entry, in-call keypad controls, prompts and tones, server-side mute, and the mixer's events.
//
// Per room with audio, one mixer::AudioRoom runs on the room's media worker (RoomAudio). The
// control loop talks to it only by posting closures to that worker; the room talks back through
// AudioEventsBridge, which posts each event to the control loop, where it is matched to the
// participant by id (the participant may have left meanwhile: then the event is dropped).
//
// PIN entry (a room with a PIN or a moderator PIN): the caller is answered but held — it hears
// "enter the conference PIN" and nothing of the room, and nobody hears it — until PinEntry admits
// it as a guest or moderator; three wrong PINs play "goodbye" and end the call with BYE.
// Keypad (conference/ivr/keypad_controls): *6 self-mute (with a tone), *1 lock/unlock and *2 mute
// all guests for moderators. Joining plays "you are the first participant" to the first one and a
// join tone to the others; leaving plays a leave tone.
// Threading: control loop; the bridge's methods run on media workers and only post.
#include <algorithm>

#include "common/log.hpp"
#include "conference/conference_service.hpp"
#include "conference/room_lock.hpp"

namespace chorus::conference {
namespace {

// What the mixer is told about a participant, from its negotiated audio stream.
std::optional<mixer::AudioMemberSpec> member_spec(const Participant& participant, const sdp::NegotiatedStream& stream,
                                                  bool muted) {
  auto codec = mixer::audio_codec_from_name(stream.codec.name);
  if (!codec || stream.payload_type < 0 || stream.payload_type > 127) return std::nullopt;
  mixer::AudioMemberSpec spec;
  spec.id = static_cast<mixer::ParticipantId>(participant.id);
  spec.codec = *codec;
  spec.payload_type = static_cast<std::uint8_t>(stream.payload_type);
  if (stream.telephone_event_pt && *stream.telephone_event_pt >= 0 && *stream.telephone_event_pt <= 127)
    spec.telephone_event_payload_type = static_cast<std::uint8_t>(*stream.telephone_event_pt);
  spec.ptime = std::chrono::milliseconds(std::clamp(stream.ptime_ms, 10, 120) / 10 * 10);
  spec.admitted = participant.admitted;
  spec.muted = muted;
  spec.gain_db = participant.gain_db;
  return spec;
}

constexpr std::uint64_t kGoodbyeToken = 1;   // on_prompt_done: hang up now
constexpr std::uint64_t kRepromptToken = 2;  // on_prompt_done: ask for the PIN again
constexpr std::uint64_t kWaitingToken = 4;   // on_prompt_done: still no moderator, say it again
// on_prompt_done: the early call gets its 480 (meeting_not_started.cpp).
constexpr std::uint64_t kNotStartedToken = 3;

}  // namespace

// The rooms' events, posted from their media workers to the control loop.
class AudioEventsBridge final : public mixer::AudioRoomListener {
 public:
  AudioEventsBridge(ConferenceService& service, std::function<void(std::function<void()>)> post,
                    std::weak_ptr<bool> alive)
      : service_(service), post_(std::move(post)), alive_(std::move(alive)) {}
  void on_dtmf(mixer::ParticipantId member, char digit) override {
    deliver([member, digit](ConferenceService& s) { s.on_audio_dtmf(member, digit); });
  }
  void on_talking(mixer::ParticipantId member, bool talking) override {
    deliver([member, talking](ConferenceService& s) { s.on_audio_talking(member, talking); });
  }
  void on_prompt_done(mixer::ParticipantId member, std::uint64_t token) override {
    deliver([member, token](ConferenceService& s) { s.on_audio_prompt_done(member, token); });
  }

 private:
  template <typename Event>
  void deliver(Event event) {
    post_([service = &service_, alive = alive_, event] {
      if (alive.lock()) event(*service);  // the service is gone at shutdown: drop the event
    });
  }
  ConferenceService& service_;
  std::function<void(std::function<void()>)> post_;
  std::weak_ptr<bool> alive_;
};

void ConferenceService::set_audio_hooks(AudioHooks hooks) {
  audio_hooks_ = std::move(hooks);
  if (audio_hooks_.post_to_control)
    audio_events_ = std::make_shared<AudioEventsBridge>(*this, audio_hooks_.post_to_control, alive_);
}

bool ConferenceService::effectively_muted(const Participant& participant) const {
  return participant.muted || (!participant.moderator && guests_muted(participant.room_id));
}

bool ConferenceService::guests_muted(std::string_view room_id) const {
  return guests_muted_rooms_.contains(room_id);
}

Participant* ConferenceService::participant_by_id(std::uint64_t participant_id) {
  for (auto& [call, participant] : participants_)
    if (participant.id == participant_id) return &participant;
  return nullptr;
}

template <typename Work>
void ConferenceService::on_room_worker(const Participant& participant, Work&& work) {
  auto it = room_audio_.find(participant.room_id);
  if (!participant.in_audio_room || it == room_audio_.end()) return;
  it->second.worker->post([engine = it->second.engine, work = std::forward<Work>(work)] { work(*engine); });
}

media::SinkFactory ConferenceService::audio_sink(Participant& participant, const sdp::NegotiatedStream& stream) {
  if (participant.in_audio_room || !audio_events_ || stream.media != "audio") return {};
  auto spec = member_spec(participant, stream, effectively_muted(participant));
  if (!spec) return {};
  RoomAudio& audio = room_audio_[participant.room_id];
  if (!audio.engine) {
    audio.worker = participant.worker;
    audio.engine = std::make_shared<mixer::AudioRoom>(participant.room_id, audio_events_);
    CHORUS_LOG(kInfo, "conference", "audio engine started", {"room", participant.room_id},
               {"worker", audio.worker->index()});
  }
  ++audio.members;
  participant.in_audio_room = true;
  return [engine = audio.engine, spec = *spec] { return std::make_unique<mixer::AudioRoomSink>(engine, spec); };
}

void ConferenceService::start_audio(Participant& participant) {
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

bool ConferenceService::must_wait_for_moderator(const Participant& participant) const {
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  if (participant.moderator || room == nullptr || !room->wait_for_moderator || room->moderator_pin.empty())
    return false;
  return std::ranges::none_of(participants_, [&](const auto& entry) {
    const Participant& other = entry.second;
    return other.room_id == participant.room_id && other.moderator && other.admitted && other.in_audio_room;
  });
}

void ConferenceService::release_waiting_guests(std::string_view room_id) {
  for (auto& [call, participant] : participants_) {
    if (participant.room_id != room_id || !participant.waiting) continue;
    participant.waiting = false;
    admit(participant);
  }
}

void ConferenceService::admit(Participant& participant) {
  participant.pin.reset();
  if (must_wait_for_moderator(participant)) {
    participant.waiting = true;
    const auto id = static_cast<mixer::ParticipantId>(participant.id);
    on_room_worker(participant, [id](mixer::AudioRoom& room) { room.stop_prompts(id); });
    play(participant, "waiting_for_moderator", kWaitingToken);
    return;
  }
  participant.admitted = true;
  participant.keypad.set_moderator(participant.moderator);
  const bool muted = effectively_muted(participant);
  on_room_worker(participant, [id = static_cast<mixer::ParticipantId>(participant.id), muted](mixer::AudioRoom& room) {
    room.stop_prompts(id);
    room.set_muted(id, muted);
    room.set_admitted(id, true);
  });
  std::size_t others = 0;
  for (const auto& [call, other] : participants_)
    if (other.room_id == participant.room_id && other.id != participant.id && other.in_audio_room && other.admitted)
      ++others;
  if (others == 0)
    play(participant, "first_participant");
  else
    announce(participant.room_id, mixer::Tone::kJoin);
  if (participant.moderator) release_waiting_guests(participant.room_id);
}

void ConferenceService::leave_audio(Participant& participant) {
  if (!participant.in_audio_room) return;
  participant.in_audio_room = false;
  auto it = room_audio_.find(participant.room_id);
  if (it == room_audio_.end()) return;
  if (participant.admitted && it->second.members > 1) announce(participant.room_id, mixer::Tone::kLeave);
  if (--it->second.members == 0) {
    // The last reference the control loop holds goes to the worker with this closure, so the
    // room and its GStreamer pipeline are destroyed there, after the sessions that used them.
    it->second.worker->post([engine = std::move(it->second.engine)]() mutable { engine.reset(); });
    CHORUS_LOG(kInfo, "conference", "audio engine stopped", {"room", participant.room_id});
    room_audio_.erase(it);
  }
}

mixer::Clip ConferenceService::prompt_clip(std::string_view name) {
  if (auto it = clips_.find(name); it != clips_.end()) return it->second;
  mixer::Clip clip;
  if (audio_hooks_.prompts != nullptr)
    if (const auto* prompt = audio_hooks_.prompts->find(name))
      clip = std::make_shared<const std::vector<mixer::Sample>>(prompt->samples);
  if (!clip) CHORUS_LOG(kWarn, "conference", "prompt missing", {"prompt", name});
  clips_.emplace(std::string(name), clip);
  return clip;
}

void ConferenceService::play(const Participant& participant, std::string_view prompt, std::uint64_t token) {
  auto clip = prompt_clip(prompt);
  if (!clip) {  // no recording: act as if it had played (later, outside the caller's stack)
    if (token != 0 && audio_events_)
      audio_events_->on_prompt_done(static_cast<mixer::ParticipantId>(participant.id), token);
    return;
  }
  on_room_worker(participant, [id = static_cast<mixer::ParticipantId>(participant.id), clip,
                               token](mixer::AudioRoom& room) { room.play(id, clip, token); });
}

namespace {
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

void ConferenceService::play_tone(const Participant& participant, mixer::Tone tone) {
  auto& clip = clips_[std::string(tone_name(tone))];
  if (!clip) clip = std::make_shared<const std::vector<mixer::Sample>>(mixer::make_tone(tone));
  on_room_worker(participant, [id = static_cast<mixer::ParticipantId>(participant.id), clip](mixer::AudioRoom& room) {
    room.play(id, clip, 0);
  });
}

void ConferenceService::announce(std::string_view room_id, mixer::Tone tone) {
  auto it = room_audio_.find(room_id);
  if (it == room_audio_.end()) return;
  auto& clip = clips_[std::string(tone_name(tone))];
  if (!clip) clip = std::make_shared<const std::vector<mixer::Sample>>(mixer::make_tone(tone));
  it->second.worker->post([engine = it->second.engine, clip] { engine->announce(clip); });
}

void ConferenceService::apply_mute(const Participant& participant) {
  const bool muted = effectively_muted(participant);
  on_room_worker(participant, [id = static_cast<mixer::ParticipantId>(participant.id), muted](mixer::AudioRoom& room) {
    room.set_muted(id, muted);
  });
}

bool ConferenceService::set_participant_muted(std::uint64_t participant_id, bool muted) {
  Participant* participant = participant_by_id(participant_id);
  if (participant == nullptr) return false;
  if (participant->muted == muted) return true;
  participant->muted = muted;
  apply_mute(*participant);
  publish(muted ? event_type::kParticipantMuted : event_type::kParticipantUnmuted, *participant);
  return true;
}

bool ConferenceService::set_participant_gain(std::uint64_t participant_id, double gain_db) {
  Participant* participant = participant_by_id(participant_id);
  if (participant == nullptr) return false;
  participant->gain_db = std::clamp(gain_db, mixer::kMinGainDb, mixer::kMaxGainDb);
  on_room_worker(*participant, [id = static_cast<mixer::ParticipantId>(participant->id),
                                gain = participant->gain_db](mixer::AudioRoom& room) { room.set_gain_db(id, gain); });
  return true;
}

bool ConferenceService::set_guests_muted(std::string_view room_id, bool muted) {
  if (participants_in(room_id) == 0) return false;  // a live conference's setting, gone when it ends
  if (muted)
    guests_muted_rooms_.emplace(room_id);
  else if (auto it = guests_muted_rooms_.find(room_id); it != guests_muted_rooms_.end())
    guests_muted_rooms_.erase(it);
  for (auto& [call, participant] : participants_)
    if (participant.room_id == room_id && !participant.moderator) apply_mute(participant);
  return true;
}

void ConferenceService::handle_digit(Participant& participant, char digit) {
  if (participant.leaving) return;
  if (!participant.admitted) {
    handle_pin_digit(participant, digit);
    return;
  }
  if (auto command = participant.keypad.on_digit(digit, std::chrono::steady_clock::now()))
    handle_keypad(participant, *command);
}

void ConferenceService::handle_pin_digit(Participant& participant, char digit) {
  if (!participant.pin) return;
  const PinOutcome outcome = participant.pin->on_digit(digit);
  const auto id = static_cast<mixer::ParticipantId>(participant.id);
  switch (outcome) {
    case PinOutcome::kCollecting:  // typing: the prompt need not finish
      on_room_worker(participant, [id](mixer::AudioRoom& room) { room.stop_prompts(id); });
      return;
    case PinOutcome::kGuest:
    case PinOutcome::kModerator:
      participant.moderator = outcome == PinOutcome::kModerator;
      CHORUS_LOG(kInfo, "conference", "PIN accepted", {"room", participant.room_id}, {"call_id", participant.call_id},
                 {"moderator", participant.moderator});
      admit(participant);
      return;
    case PinOutcome::kRetry:
      CHORUS_LOG(kInfo, "conference", "wrong PIN", {"room", participant.room_id}, {"call_id", participant.call_id},
                 {"attempts_left", participant.pin->attempts_left()});
      on_room_worker(participant, [id](mixer::AudioRoom& room) { room.stop_prompts(id); });
      play(participant, "wrong_pin", kRepromptToken);
      return;
    case PinOutcome::kFailed:
      CHORUS_LOG(kInfo, "conference", "PIN failed, hanging up", {"room", participant.room_id},
                 {"call_id", participant.call_id});
      participant.leaving = true;
      on_room_worker(participant, [id](mixer::AudioRoom& room) { room.stop_prompts(id); });
      play(participant, "goodbye", kGoodbyeToken);
      return;
  }
}

void ConferenceService::handle_keypad(Participant& participant, KeypadCommand command) {
  switch (command) {
    case KeypadCommand::kToggleSelfMute:
      set_participant_muted(participant.id, !participant.muted);
      play_tone(participant, participant.muted ? mixer::Tone::kMuted : mixer::Tone::kUnmuted);
      return;
    case KeypadCommand::kToggleLock: {
      const Room* room = rooms_.find_by_dial_string(participant.room_id);
      if (room == nullptr || audio_hooks_.store == nullptr) return;
      const bool lock = !room->locked;
      auto changed = set_room_locked(*audio_hooks_.store, rooms_, events_, participant.room_id, lock);
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

void ConferenceService::on_audio_dtmf(std::uint64_t participant_id, char digit) {
  if (Participant* participant = participant_by_id(participant_id)) {
    CHORUS_LOG(kDebug, "conference", "dtmf (RFC 4733)", {"call_id", participant->call_id},
               {"digit", std::string(1, digit)});
    handle_digit(*participant, digit);
  }
}

void ConferenceService::on_audio_talking(std::uint64_t participant_id, bool talking) {
  Participant* participant = participant_by_id(participant_id);
  if (participant == nullptr || participant->talking == talking) return;
  participant->talking = talking;
  publish(talking ? event_type::kParticipantTalkingStarted : event_type::kParticipantTalkingStopped, *participant);
}

void ConferenceService::on_audio_prompt_done(std::uint64_t participant_id, std::uint64_t token) {
  if (token == kNotStartedToken) {
    on_not_started_played(participant_id);
    return;
  }
  Participant* participant = participant_by_id(participant_id);
  if (participant == nullptr) return;
  if (token == kGoodbyeToken && audio_hooks_.hang_up) {
    audio_hooks_.hang_up(participant->call, "PIN failed");
  } else if (token == kRepromptToken && !participant->admitted && !participant->leaving) {
    play(*participant, "enter_pin");
  } else if (token == kWaitingToken && participant->waiting && prompt_clip("waiting_for_moderator")) {
    play(*participant, "waiting_for_moderator", kWaitingToken);
  }
}

}  // namespace chorus::conference
