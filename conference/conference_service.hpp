// ConferenceService: the conference domain's answer to SIP calls (DESIGN §3, dial-in path).
//
// A new call's Request-URI user names a room (id or numeric alias): unknown → 404, full → 486,
// locked → 403, outside its meetings' join windows → 480 (meeting_not_started.cpp). The SDP offer is
// negotiated against the media policy (RFC 3264; no common codec → 488 with a Warning) and the keys
// and ICE credentials each stream needs (media_security.hpp); RTP/RTCP ports are leased from the
// --rtp-ports pool for each accepted stream (none left → 503), and the caller becomes a participant
// of the room until the call ends, when its ports go back.
// Media: each accepted stream gets a media::MediaSession on the room's worker, whose sink comes from
// the engine that serves that stream (participant_media.cpp): the EchoEngine in the echo room, the
// audio MCU (AudioBridge) for audio in every other room. The AudioBridge carries the audio policy
// (PIN entry, keypad, prompts, mute); dial-out and the early "not started" prompt live in their own
// files.
// Threading: control loop only (it is the UserAgent's CallListener).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conference/audio_bridge.hpp"
#include "conference/chat/chat_service.hpp"
#include "conference/dial_out.hpp"
#include "conference/engines/echo_engine.hpp"
#include "conference/engines/sfu_engine.hpp"
#include "conference/engines/video_mcu_engine.hpp"
#include "conference/events/bounded_text.hpp"
#include "conference/events/event_log.hpp"
#include "conference/media_guard.hpp"
#include "conference/media_security.hpp"
#include "conference/participant.hpp"
#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"
#include "conference/trunks/trunk_directory.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/prompt_library.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"
#include "signaling/sdp/session_description.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::conference {

// The slot map a browser gets in-dialog (conference_video.cpp): RFC 6086 SIP INFO with this Info
// Package, to callers whose INVITE carried `Recv-Info: chorus-video-slots`.
inline constexpr std::string_view kVideoSlotsInfoPackage = "chorus-video-slots";
inline constexpr std::string_view kVideoSlotsContentType = "application/vnd.chorus.video-slots+json";
// RFC 5168: picture_fast_update, for endpoints that ask for keyframes without RTCP.
inline constexpr std::string_view kMediaControlContentType = "application/media_control+xml";

// Video in sfu rooms (settings).
struct VideoSettings {
  std::size_t max_slots = 9;      // video sections we send a participant (its slots)
  std::size_t max_producers = 2;  // video sections a participant sends us (camera, content)
  sfu::RouterConfig router;
  mixer::VideoRoomConfig mcu;  // the video MCU's canvas, class bit rate, key frame intervals
};

class ConferenceService final : public sip::CallListener,
                                private SfuEngine::Listener,
                                private VideoMcuEngine::Listener {
 public:
  // `workers` may be null (no media sessions: ports are leased and answered, media is not read);
  // SRTP is offered to the negotiation only when there are workers to run it.
  ConferenceService(RoomDirectory& rooms, media::UdpPortPool& ports, sdp::MediaPolicy policy,
                    media::MediaWorkerPool* workers = nullptr, SecurityOptions security = {});

  // Rooms with meetings admit callers only inside a join window (RFC-less policy, REST issue).
  void set_calendar(const MeetingCalendar* calendar) { calendar_ = calendar; }
  // Issue 15: calls from a SIP trunk whose called number is written otherwise than the room's
  // dial_in_number ("+49…", "0049…", "0…") reach it through trunks/trunk_dial_in.hpp; may stay null.
  void set_trunks(const TrunkDirectory* trunks) { trunks_ = trunks; }
  // Where joined/left and conference started/ended are published (REST events); may stay null.
  void set_event_log(EventLog* events);
  // The roster (conference/roster, RFC 4575): told the room of a participant whose state changed
  // without an event of its own (PIN admission, a re-offer changing its media). May stay unset.
  void set_roster_changed(std::function<void(std::string_view room_id)> changed) {
    roster_changed_ = std::move(changed);
  }

  // Audio MCU wiring. `post_to_control` runs work on the control loop (the mixer's events come from
  // media workers); `hang_up` ends a call with BYE; `prompts` may be null (no spoken prompts: PIN
  // entry still works, silently); `store` persists *1 locks. Until it is set, no audio joins a mix.
  struct AudioHooks {
    PostToControl post_to_control;
    std::function<bool(sip::CallHandle, std::string_view reason)> hang_up;
    const mixer::PromptLibrary* prompts = nullptr;
    Store* store = nullptr;
    // Sends the final response to a call answered with early media (sip::UserAgent::
    // reject_after_early_media). Unset: callers outside a meeting window get 480 at once.
    std::function<bool(sip::CallHandle, int status, std::string_view reason, const std::vector<sip::Header>&)>
        reject_early;
    // The control loop's timers: the PIN entry timeout (pin_security.hpp). Null: it never fires.
    TimerQueue* timers = nullptr;
  };
  void set_audio_hooks(AudioHooks hooks);
  // The audio policy: mute, gain, guests muted (REST PATCH), and what the mixer reports.
  [[nodiscard]] AudioBridge& audio() { return audio_; }
  [[nodiscard]] const AudioBridge& audio() const { return audio_; }

  // Video wiring: where the routers' events reach the control loop, and how an in-dialog INFO is sent
  // (sip::UserAgent::send_info). Without them video still flows; slot maps and RFC 5168 requests
  // are not sent.
  struct VideoHooks {
    PostToControl post_to_control;
    std::function<bool(sip::CallHandle, std::string_view package, std::string_view content_type, std::string body)>
        send_info;
  };
  void set_video(VideoSettings settings, VideoHooks hooks);
  // The SFU: slot maps, receive caps (REST), counters.
  [[nodiscard]] SfuEngine& video() { return sfu_; }
  [[nodiscard]] const SfuEngine& video() const { return sfu_; }
  // The video MCU (mcu rooms): layouts (REST), counters.
  [[nodiscard]] VideoMcuEngine& video_mcu() { return video_mcu_; }
  [[nodiscard]] const VideoMcuEngine& video_mcu() const { return video_mcu_; }

  // Issue 12: the SDP address policy, latch window and inactivity timeouts of every call from now on.
  void set_media_guard(MediaGuardSettings settings) { guard_ = std::move(settings); }
  // A media worker found the session silent past its timeout (posted to the control loop): the
  // call is hung up with BYE and a log line. Unknown ids (the call ended meanwhile) are ignored.
  void on_media_timeout(std::uint64_t session_id);

  // The address announced in c= lines (--public-ip, or what the transport derived).
  void set_media_address(std::string address) { media_address_ = std::move(address); }

  // sip::CallListener
  sip::CallDecision on_incoming_call(const sip::CallInfo& call, const sip::SipMessage& invite,
                                     const std::optional<std::string>& offer) override;
  bool on_remote_answer(sip::CallHandle call, std::string_view sdp) override;
  void on_acknowledged(sip::CallHandle call) override;
  sip::OfferDecision on_remote_offer(sip::CallHandle call, std::string_view sdp) override;
  std::string on_offer_requested(sip::CallHandle call) override;
  void on_dtmf(sip::CallHandle call, char digit, int duration_ms) override;
  void on_picture_fast_update(sip::CallHandle call) override;
  void on_call_ended(sip::CallHandle call, std::string_view reason) override;

  [[nodiscard]] std::size_t participant_count() const { return participants_.count(); }
  [[nodiscard]] std::size_t participants_in(std::string_view room_id) const { return participants_.count_in(room_id); }
  [[nodiscard]] const Participant* participant(sip::CallHandle call) const { return participants_.find(call); }
  // Live conferences: the rooms that have participants now, and who is in one (joined order).
  [[nodiscard]] std::vector<std::string> active_rooms() const { return participants_.active_rooms(); }
  [[nodiscard]] std::vector<const Participant*> participants_of(std::string_view room_id) const {
    return participants_.in_room(room_id);
  }
  [[nodiscard]] const Participant* find_participant(std::uint64_t participant_id) const {
    return participants_.find_by_id(participant_id);
  }

  // Dial-out (conference/dial_out.cpp)
  void set_dialer(Dialer dialer) { dialer_ = std::move(dialer); }
  // Which targets dial_out may reach (conference/egress_policy.hpp); the default refuses all.
  void set_dial_out_policy(DialOutPolicy policy) { dial_out_policy_ = std::move(policy); }
  // POST /v1/conferences/{id}/participants: leases ports, builds the room's offer and dials; the
  // callee joins on answer (participant.joined) or the dial fails (participant.dial_failed).
  std::expected<DialOutStarted, DialOutError> dial_out(const DialOutRequest& request);
  // Dial-outs refused by the egress policy (chorus_dial_out_refused_total).
  // Any thread (/metrics reads it on the REST thread).
  [[nodiscard]] std::uint64_t dial_out_refused() const { return dial_out_refused_.load(std::memory_order_relaxed); }
  bool on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>& sdp) override;
  void on_outgoing_failed(sip::CallHandle call, int status, std::string_view reason) override;
  [[nodiscard]] std::size_t dialing_in(std::string_view room_id) const;

  // Chat (issue 15, conference/chat/chat_service.hpp): made by the server once the UA exists (it
  // answers MESSAGE), owned here so it lives as long as the participants it names; REST reads it.
  void set_chat(std::unique_ptr<ChatService> chat) { chat_ = std::move(chat); }
  [[nodiscard]] ChatService* chat() const { return chat_.get(); }

 private:
  // A new participant of `room` for an incoming call: ids, caller details, joined now.
  Participant new_participant(const sip::CallInfo& call, const Room& room);
  // Leases until `participant` holds `count` port pairs; false when the pool ran out.
  bool lease_ports(Participant& participant, std::size_t count);
  static sdp::MediaPorts leased_ports(const Participant& participant);
  // The serialised answer/offer we send next; remembered as the participant's local description.
  std::expected<std::string, sdp::NegotiationError> answer_for(Participant& participant, const sdp::AnswerPlan& plan,
                                                               const MediaLayout& layout, bool webrtc);
  std::expected<std::string, sdp::NegotiationError> offer_for(Participant& participant);
  [[nodiscard]] sdp::OriginInfo next_origin(Participant& participant) const;
  // RFC 3264 §6 for a new or a re-offer: the answer's body, or the refusal. Leases the ports and
  // starts or updates the media sessions.
  sip::CallDecision answer_offer(Participant& participant, const Room& room, std::string_view offer_text);
  [[nodiscard]] sdp::MediaPolicy policy_for(const Room& room) const;
  // Joins `participant` to the room and publishes it (conference.started for the first one).
  Participant& join(Participant participant);
  void publish(std::string_view type, const Participant& participant, std::string_view reason = {});

  // Media sessions and engines (participant_media.cpp).
  // Creates (first time, or when the sections regroup) or updates the session of each transport.
  void apply_media(Participant& participant, MediaLayout layout);
  void start_media(Participant& participant, const MediaLayout& layout);
  void start_session(Participant& participant, const Room& room, const MediaLayout& layout, std::size_t transport);
  static std::vector<const sdp::NegotiatedStream*> accepted_streams(const Participant& participant);
  // Among the participant's video sections we send in (its slots), the position of `section`.
  static std::size_t send_order(const Participant& participant, std::size_t section);
  // The sink for one section, from the engine that serves it in the participant's room.
  media::SinkFactory sink_for(Participant& participant, const Room& room, const EngineStream& stream);
  void stop_media(Participant& participant);

  // Outside every meeting window (meeting_not_started.cpp): the caller with audio hears "this
  // meeting has not started" over early media (183), then gets 480; others get 480 at once.
  sip::CallDecision answer_not_started(const sip::CallInfo& call, const Room& room,
                                       const std::optional<std::string>& offer_text);
  void on_not_started_played(std::uint64_t participant_id);
  // on_call_ended of an early call: releases its media. false: not an early call.
  bool end_early(sip::CallHandle call);

  void publish_dial_failed(const Participant& dial, int status, std::string_view reason);

  // Video (conference_video.cpp).
  void on_video_slots(std::uint64_t receiver, const std::vector<sfu::SlotView>& slots) override;
  void on_keyframe_wanted(std::uint64_t publisher) override;
  void on_admission_changed(std::uint64_t participant_id);
  // Sends the participant its slot map and admission state (when its INVITE asked for them).
  void send_slot_info(Participant& participant);

  RoomDirectory& rooms_;
  media::UdpPortPool& ports_;
  sdp::MediaPolicy policy_;
  media::MediaWorkerPool* workers_;
  const MeetingCalendar* calendar_ = nullptr;
  const TrunkDirectory* trunks_ = nullptr;
  EventLog* events_ = nullptr;
  SecurityOptions security_;
  MediaGuardSettings guard_;
  std::function<bool(sip::CallHandle, std::string_view reason)> hang_up_;
  std::string media_address_ = "127.0.0.1";
  std::uint64_t next_session_id_ = 1;
  std::uint64_t next_participant_id_ = 1;
  ParticipantTable participants_;
  EchoEngine echo_;
  AudioBridge audio_;
  SfuEngine sfu_;
  VideoMcuEngine video_mcu_;
  VideoSettings video_;
  VideoHooks video_hooks_;
  std::function<bool(sip::CallHandle, int, std::string_view, const std::vector<sip::Header>&)> reject_early_;
  std::unordered_map<sip::CallHandle, Participant> early_;  // held in early media: not in any room
  Dialer dialer_;
  DialOutPolicy dial_out_policy_;
  std::atomic<std::uint64_t> dial_out_refused_{0};
  std::unordered_map<sip::CallHandle, Participant> dialing_;  // dialled, not answered: not yet in the room
  std::function<void(std::string_view room_id)> roster_changed_;
  std::unique_ptr<ChatService> chat_;  // last: gone first, while the rest it reads still stands
};

}  // namespace chorus::conference
