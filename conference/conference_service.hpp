// ConferenceService: the conference domain's answer to SIP calls (DESIGN §3, dial-in path).
//
// A new call's Request-URI user names a room (id or numeric alias): unknown → 404, full → 486.
// The SDP offer is negotiated against the media policy (RFC 3264; no common codec → 488 with a
// Warning), RTP/RTCP ports are leased from the --rtp-ports pool for each accepted stream (none left
// → 503), and the caller becomes a participant of the room until the call ends, when its ports go
// back. Media engines attach to participants in later issues; here the ports are really bound.
// Threading: control loop only (it is the UserAgent's CallListener).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "conference/dial_out.hpp"
#include "conference/events/event_log.hpp"
#include "conference/ivr/keypad_controls.hpp"
#include "conference/ivr/pin_entry.hpp"
#include "conference/media_security.hpp"
#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/audio/audio_room.hpp"
#include "mixer/prompt_library.hpp"
#include "mixer/tones.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"
#include "signaling/sdp/session_description.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::conference {

// One accepted stream's media session, run by the participant's media worker.
struct ParticipantStream {
  std::uint64_t session_id = 0;
  StreamTransport security;
};

struct Participant {
  std::uint64_t id = 0;
  sip::CallHandle call = 0;
  std::string room_id;
  std::string call_id;  // SIP Call-ID, for logs
  std::string from_uri;
  std::string display_name;
  std::string user_agent;
  std::chrono::system_clock::time_point joined_at;
  std::vector<std::unique_ptr<media::PortLease>> ports;  // one RTP/RTCP pair per accepted stream
  std::vector<sdp::NegotiatedStream> streams;
  std::vector<ParticipantStream> media;  // one per accepted stream, in m-line order
  // The worker serving the room, once the participant has media. A control-loop handle: we
  // only post to it, and name sessions by id.
  media::MediaWorker* worker = nullptr;
  // RFC 3264 §5 / RFC 8866 §5.2: o= session id fixed per call, version bumped per new description.
  std::uint64_t sdp_session_id = 0;
  std::uint64_t sdp_version = 0;
  std::optional<sdp::SessionDescription> our_pending_offer;  // sent in a 2xx, answer due in the ACK
  std::optional<sdp::SessionDescription> current_local;      // the last description we sent
  // Audio MCU (conference/conference_audio.cpp).
  bool in_audio_room = false;  // its audio stream is a member of the room's AudioRoom
  bool admitted = true;        // false while it enters the PIN (held: hears prompts only)
  bool moderator = false;      // entered the moderator PIN
  bool muted = false;          // server-side mute asked for by itself (*6) or the API
  double gain_db = 0.0;        // input gain set by the API (what it contributes to the mix)
  bool talking = false;        // as the mixer last reported
  bool leaving = false;        // the goodbye prompt plays; BYE when it ends
  bool waiting = false;        // a guest past its PIN, held until a moderator joins (Room::wait_for_moderator)
  bool early = false;          // outside the meeting window: hears "not started" over early media, then 480
  std::optional<PinEntry> pin;
  KeypadControls keypad{false};
};

// A room's audio engine while it has participants (control-loop view).
struct RoomAudio {
  std::shared_ptr<mixer::AudioRoom> engine;  // used on `worker` only; the last reference is posted there
  media::MediaWorker* worker = nullptr;
  std::size_t members = 0;
};

class AudioEventsBridge;

class ConferenceService final : public sip::CallListener {
 public:
  // `workers` may be null (no media sessions: ports are leased and answered, media is not read);
  // SRTP is offered to the negotiation only when there are workers to run it.
  ConferenceService(RoomDirectory& rooms, media::UdpPortPool& ports, sdp::MediaPolicy policy,
                    media::MediaWorkerPool* workers = nullptr, SecurityOptions security = {});

  // Rooms with meetings admit callers only inside a join window (RFC-less policy, REST issue).
  void set_calendar(const MeetingCalendar* calendar) { calendar_ = calendar; }
  // Where joined/left and conference started/ended are published (REST events); may stay null.
  void set_event_log(EventLog* events) { events_ = events; }

  // Audio MCU wiring (conference/conference_audio.cpp). `post_to_control` runs work on the control
  // loop (the mixer's events come from media workers); `hang_up` ends a call with BYE; `prompts`
  // may be null (no spoken prompts: PIN entry still works, silently); `store` persists *1 locks.
  struct AudioHooks {
    std::function<void(std::function<void()>)> post_to_control;
    std::function<bool(sip::CallHandle, std::string_view reason)> hang_up;
    const mixer::PromptLibrary* prompts = nullptr;
    Store* store = nullptr;
    // Sends the final response to a call answered with early media (sip::UserAgent::
    // reject_after_early_media). Unset: callers outside a meeting window get 480 at once.
    std::function<bool(sip::CallHandle, int status, std::string_view reason, const std::vector<sip::Header>&)>
        reject_early;
  };
  void set_audio_hooks(AudioHooks hooks);
  // Server-side mute of one participant (REST PATCH audio_muted); false for an unknown id.
  bool set_participant_muted(std::uint64_t participant_id, bool muted);
  // Input gain of one participant in dB, clamped to [mixer::kMinGainDb, mixer::kMaxGainDb] (REST
  // PATCH gain_db); false for an unknown id.
  bool set_participant_gain(std::uint64_t participant_id, double gain_db);
  // Mutes or unmutes every guest (not moderators) of a live conference (REST guests_muted, *2).
  bool set_guests_muted(std::string_view room_id, bool muted);
  [[nodiscard]] bool guests_muted(std::string_view room_id) const;
  // What the participant's audio sounds like to the others: muted by itself/the API or as a guest.
  [[nodiscard]] bool effectively_muted(const Participant& participant) const;

  // The address announced in c= lines (--public-ip, or what the transport derived).
  void set_media_address(std::string address) { media_address_ = std::move(address); }

  // sip::CallListener
  sip::CallDecision on_incoming_call(const sip::CallInfo& call, const sip::SipMessage& invite,
                                     const std::optional<std::string>& offer) override;
  bool on_remote_answer(sip::CallHandle call, std::string_view sdp) override;
  sip::OfferDecision on_remote_offer(sip::CallHandle call, std::string_view sdp) override;
  std::string on_offer_requested(sip::CallHandle call) override;
  void on_dtmf(sip::CallHandle call, char digit, int duration_ms) override;
  void on_call_ended(sip::CallHandle call, std::string_view reason) override;

  [[nodiscard]] std::size_t participant_count() const { return participants_.size(); }
  [[nodiscard]] std::size_t participants_in(std::string_view room_id) const;
  [[nodiscard]] const Participant* participant(sip::CallHandle call) const;
  // Live conferences: the rooms that have participants now, and who is in one (joined order).
  [[nodiscard]] std::vector<std::string> active_rooms() const;
  [[nodiscard]] std::vector<const Participant*> participants_of(std::string_view room_id) const;
  [[nodiscard]] const Participant* find_participant(std::uint64_t participant_id) const;

 private:
  friend class AudioEventsBridge;  // delivers the mixer's events (conference/conference_audio.cpp)
  // A new participant of `room` for an incoming call: ids, caller details, joined now.
  Participant new_participant(const sip::CallInfo& call, const Room& room);
  // Leases until `participant` holds `count` port pairs; false when the pool ran out.
  bool lease_ports(Participant& participant, std::size_t count);
  static sdp::MediaPorts leased_ports(const Participant& participant);
  // The serialised answer/offer we send next; remembered as the participant's local description.
  std::expected<std::string, sdp::NegotiationError> answer_for(Participant& participant, const sdp::AnswerPlan& plan,
                                                               const std::vector<StreamTransport>& security);
  // RFC 3264 §6 for a new or a re-offer: the answer's body, or the refusal. Leases the ports and
  // starts or updates the media sessions.
  sip::CallDecision answer_offer(Participant& participant, const Room& room, std::string_view offer_text);
  [[nodiscard]] sdp::MediaPolicy policy_for(const Room& room) const;
  // Creates (first time) or updates the media session of each accepted stream.
  void apply_media(Participant& participant, const std::vector<StreamTransport>& security);
  void start_session(Participant& participant, std::size_t stream, StreamTransport security);
  void stop_media(Participant& participant);
  void publish(std::string_view type, const Participant& participant, std::string_view reason = {});
  // Audio MCU (conference/conference_audio.cpp).
  media::SinkFactory audio_sink(Participant& participant, const sdp::NegotiatedStream& stream);
  void start_audio(Participant& participant);  // after its audio session was posted to the worker
  void leave_audio(Participant& participant);
  void handle_digit(Participant& participant, char digit);
  void handle_pin_digit(Participant& participant, char digit);
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
  Participant* participant_by_id(std::uint64_t participant_id);
  template <typename Work>
  void on_room_worker(const Participant& participant, Work&& work);
  // Events from the rooms' workers, on the control loop.
  void on_audio_dtmf(std::uint64_t participant_id, char digit);
  void on_audio_talking(std::uint64_t participant_id, bool talking);
  void on_audio_prompt_done(std::uint64_t participant_id, std::uint64_t token);
  std::expected<std::string, sdp::NegotiationError> offer_for(Participant& participant);
  [[nodiscard]] sdp::OriginInfo next_origin(Participant& participant) const;

  RoomDirectory& rooms_;
  media::UdpPortPool& ports_;
  sdp::MediaPolicy policy_;
  media::MediaWorkerPool* workers_;
  const MeetingCalendar* calendar_ = nullptr;
  EventLog* events_ = nullptr;
  SecurityOptions security_;
  std::string media_address_ = "127.0.0.1";
  std::uint64_t next_session_id_ = 1;
  std::uint64_t next_participant_id_ = 1;
  std::unordered_map<sip::CallHandle, Participant> participants_;
  std::map<std::string, std::size_t, std::less<>> occupancy_;  // participants per room id
  // Audio MCU.
  AudioHooks audio_hooks_;
  std::map<std::string, RoomAudio, std::less<>> room_audio_;
  std::set<std::string, std::less<>> guests_muted_rooms_;  // live conferences whose guests are muted
  std::map<std::string, mixer::Clip, std::less<>> clips_;  // prompts and tones, made once
  std::shared_ptr<mixer::AudioRoomListener> audio_events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted events check it

  // Outside every meeting window (conference/meeting_not_started.cpp): the caller with audio hears
  // "this meeting has not started" over early media (183), then gets 480; others get 480 at once.
  sip::CallDecision answer_not_started(const sip::CallInfo& call, const Room& room,
                                       const std::optional<std::string>& offer_text);
  void on_not_started_played(std::uint64_t participant_id);
  // on_call_ended of an early call: releases its media. false: not an early call.
  bool end_early(sip::CallHandle call);
  std::unordered_map<sip::CallHandle, Participant> early_;  // held in early media: not in any room

  // Dial-out (conference/dial_out.cpp)
 public:
  void set_dialer(Dialer dialer) { dialer_ = std::move(dialer); }
  // POST /v1/conferences/{id}/participants: leases ports, builds the room's offer and dials; the
  // callee joins on answer (participant.joined) or the dial fails (participant.dial_failed).
  std::expected<DialOutStarted, DialOutError> dial_out(const DialOutRequest& request);
  bool on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>& sdp) override;
  void on_outgoing_failed(sip::CallHandle call, int status, std::string_view reason) override;
  [[nodiscard]] std::size_t dialing_in(std::string_view room_id) const;

 private:
  void publish_dial_failed(const Participant& dial, int status, std::string_view reason);
  Dialer dialer_;
  std::unordered_map<sip::CallHandle, Participant> dialing_;  // dialled, not answered: not yet in the room
};

}  // namespace chorus::conference
