// AudioBridge: the audio conference's policy on the control loop (DESIGN §3 "Audio MCU") — which
// participant's audio joins the room's mix, PIN entry, in-call keypad controls, prompts and tones,
// server-side mute and the moderator's waiting room — carried out by the AudioMcuEngine on the
// room's worker, whose events (RFC 4733 digits, talking, prompts played out) come back here.
//
// PIN entry (a room with a PIN or a moderator PIN): the caller is answered but held — it hears
// "enter the conference PIN" and nothing of the room, and nobody hears it — until PinEntry admits it
// as a guest or moderator; three wrong PINs play "goodbye" and end the call with BYE. PIN entry
// times out, and wrong PINs are counted across calls per source and room (pin_security.hpp). Keypad
// (ivr/keypad_controls): *6 self-mute (with a tone), *1 lock/unlock and *2 mute all guests for
// moderators. Joining plays "you are the first participant" to the first one and a join tone to the
// others; leaving plays a leave tone. A room with wait_for_moderator keeps admitted guests on the
// waiting prompt until a moderator is in.
// Threading: control loop only; the engine posts to the rooms' workers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "common/timer_queue.hpp"
#include "conference/engines/audio_mcu_engine.hpp"
#include "conference/events/event_log.hpp"
#include "conference/participant.hpp"
#include "conference/pin_security.hpp"
#include "conference/room.hpp"
#include "conference/store/store.hpp"
#include "mixer/prompt_library.hpp"
#include "mixer/tones.hpp"

namespace chorus::conference {

class AudioBridge final : public EngineListener {
 public:
  struct Hooks {
    PostToControl post_to_control;
    std::function<bool(sip::CallHandle, std::string_view reason)> hang_up;
    const mixer::PromptLibrary* prompts = nullptr;  // null: no spoken prompts (PIN entry still works)
    Store* store = nullptr;                         // persists *1 locks
    // "This meeting has not started" played out to the early participant with this id.
    std::function<void(std::uint64_t participant_id)> not_started_played;
    // The participant was admitted, or put in the moderator's waiting room (video follows suit).
    std::function<void(std::uint64_t participant_id)> admission_changed;
    // The control loop's timers (the PIN entry timeout) and the PinGuard's clock. Null: PIN entry
    // does not time out, and the guard reads the steady clock.
    TimerQueue* timers = nullptr;
    // A room-wide audio state changed without a participant event (guests muted: *2 or REST), so
    // the roster can tell its subscribers (RFC 4575 media status).
    std::function<void(std::string_view room_id)> room_changed;
  };
  AudioBridge(ParticipantTable& participants, RoomDirectory& rooms);

  // Until hooks with a way to post to the control loop are set, no audio joins a mix.
  void set_hooks(Hooks hooks);
  void set_event_log(EventLog* events) { events_ = events; }
  [[nodiscard]] const AudioMcuEngine& engine() const { return engine_; }

  // PIN security (pin_security.cpp): the entry timeout and the PinGuard's limits; keeps what the
  // guard has counted so far only when the limits are unchanged.
  void set_pin_security(const PinSecuritySettings& settings);
  [[nodiscard]] const PinCounters& pin_counters() const { return *pin_counters_; }
  [[nodiscard]] const PinGuard& pin_guard() const { return pin_guard_; }
  // A participant held for its PIN has joined: its entry timeout starts, and a source the guard
  // refuses is told and hung up at once.
  void begin_pin_entry(Participant& participant);
  // The participant is gone (or no longer in PIN entry): its timer goes.
  void end_pin_entry(Participant& participant);

  // The sink that joins `participant`'s audio `stream` to its room's mix (its worker must be set);
  // empty when the stream is not audio the mixer takes or the participant is in the mix already.
  media::SinkFactory attach(Participant& participant, const EngineStream& stream);
  // The room's levels, every 20 ms on its worker, to `observer` (the SFU's speaker detection).
  void set_level_observer(std::string_view room_id, mixer::AudioRoom::LevelObserver observer) {
    engine_.set_level_observer(room_id, std::move(observer));
  }
  // Everyone's mix, every 20 ms on the room's worker, to `tap` (the meeting's recorder).
  void set_mix_tap(std::string_view room_id, mixer::AudioRoom::MixTap tap) {
    engine_.set_mix_tap(room_id, std::move(tap));
  }
  // Speaks the prompt called `prompt` to everyone admitted in the room ("this meeting is being
  // recorded"); nothing when the prompt library lacks it (logged once).
  void announce_prompt(std::string_view room_id, std::string_view prompt);
  // After the participant's audio session was posted: the early prompt, the PIN prompt, or admission.
  void start(Participant& participant);
  // The participant's sessions are going: the leave tone for the others, out of the mix.
  void leave(Participant& participant);
  // A digit typed (RFC 4733 from the mixer, or SIP INFO from the UA): PIN entry or keypad control.
  void on_digit(Participant& participant, char digit);
  // Whether `prompt` can be spoken (prompts loaded and this one among them).
  [[nodiscard]] bool can_speak(std::string_view prompt) const;

  // Server-side mute of one participant (REST PATCH audio_muted); false for an unknown id.
  bool set_participant_muted(std::uint64_t participant_id, bool muted);
  // Input gain in dB, clamped to [mixer::kMinGainDb, mixer::kMaxGainDb]; false for an unknown id.
  bool set_participant_gain(std::uint64_t participant_id, double gain_db);
  // Mutes or unmutes every guest (not moderators) of a live conference (REST guests_muted, *2).
  bool set_guests_muted(std::string_view room_id, bool muted);
  [[nodiscard]] bool guests_muted(std::string_view room_id) const;
  // What the participant's audio sounds like to the others: muted by itself/the API or as a guest.
  [[nodiscard]] bool effectively_muted(const Participant& participant) const;
  // The room's conference ended: its live settings (guests muted) go with it.
  void conference_ended(std::string_view room_id);

  // EngineListener (the mixer's events, on the control loop)
  void on_dtmf(std::uint64_t participant_id, char digit) override;
  void on_talking(std::uint64_t participant_id, bool talking) override;
  void on_prompt_done(std::uint64_t participant_id, std::uint64_t token) override;

  // on_prompt_done token of the early "not started" prompt (meeting_not_started.cpp).
  static constexpr std::uint64_t kNotStartedToken = 3;
  // on_prompt_done tokens of the goodbyes that end PIN entry: a wrong last PIN, the entry timeout,
  // a source the PinGuard refuses (each hangs up with its own reason).
  static constexpr std::uint64_t kGoodbyeToken = 1;
  static constexpr std::uint64_t kPinTimeoutToken = 5;
  static constexpr std::uint64_t kPinRefusedToken = 6;

 private:
  void handle_pin_digit(Participant& participant, char digit);
  // PIN security (pin_security.cpp).
  [[nodiscard]] TimePoint steady_now() const;
  // The guard refuses the participant's source: counted, "goodbye", BYE. False: it may go on.
  bool refuse_if_guarded(Participant& participant);
  void count_wrong_pin(const Participant& participant);
  void on_pin_timeout(std::uint64_t participant_id);
  // "goodbye", then BYE with `token`'s reason (on_prompt_done).
  void say_goodbye(Participant& participant, std::uint64_t token);
  void handle_keypad(Participant& participant, KeypadCommand command);
  void admit(Participant& participant);
  // A guest of a room that waits for its moderator, while none is in: held with the waiting prompt.
  [[nodiscard]] bool must_wait_for_moderator(const Participant& participant) const;
  void release_waiting_guests(std::string_view room_id);
  void apply_mute(const Participant& participant);
  void play(const Participant& participant, std::string_view prompt, std::uint64_t token = 0);
  void play_tone(const Participant& participant, mixer::Tone tone);
  void announce(std::string_view room_id, mixer::Tone tone);
  mixer::Clip prompt_clip(std::string_view name);
  mixer::Clip tone_clip(mixer::Tone tone);

  ParticipantTable& participants_;
  RoomDirectory& rooms_;
  Hooks hooks_;
  EventLog* events_ = nullptr;
  AudioMcuEngine engine_;
  std::set<std::string, std::less<>> guests_muted_rooms_;  // live conferences whose guests are muted
  std::map<std::string, mixer::Clip, std::less<>> clips_;  // prompts and tones, made once
  PinSecuritySettings pin_settings_;
  PinGuard pin_guard_;
  std::shared_ptr<PinCounters> pin_counters_ = std::make_shared<PinCounters>();  // read by /metrics
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // work posted to the control loop checks it
};

}  // namespace chorus::conference
