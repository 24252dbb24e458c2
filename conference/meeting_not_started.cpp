// ConferenceService: callers of a room with meetings, outside every occurrence's join window.
//
// A caller whose offer has audio the mixer can carry hears "this meeting has not started" before
// being refused: the INVITE is answered 183 Session Progress with our SDP answer (RFC 3960 §3, the
// gateway model; sip::UserAgent sends it unreliably), its media session starts exactly as for an
// admitted call, but the participant is held (admitted = false, no PIN) and kept apart in early_:
// not counted in the room, not listed, no participant.joined. When the mixer reports the prompt
// played (AudioBridge::on_prompt_done, kNotStartedToken) the call gets 480 with a Warning (§20.43)
// through AudioHooks::reject_early, and on_call_ended releases its media and ports. A CANCEL, the caller's
// BYE or the UA's early-media timeout end it the same way, through on_call_ended.
// Everyone else — no offer, no usable audio, no prompts, no workers, an echo room, or no way to
// send the final response — gets the 480 with the Warning at once, as before.
// Threading: control loop only.
#include <algorithm>

#include "common/log.hpp"
#include "conference/conference_service.hpp"

namespace chorus::conference {
namespace {

constexpr std::string_view kNotStartedPrompt = "meeting_not_started";

sip::CallDecision not_started() {
  return {480, "Meeting Not Started", {}, {{"Warning", "399 chorus \"This meeting has not started\""}}};
}

}  // namespace

sip::CallDecision ConferenceService::answer_not_started(const sip::CallInfo& call, const Room& room,
                                                        const std::optional<std::string>& offer_text) {
  const bool can_speak = offer_text && workers_ != nullptr && reject_early_ && audio_.can_speak(kNotStartedPrompt) &&
                         room.mode != RoomMode::kEcho;
  if (!can_speak) return not_started();

  Participant participant = new_participant(call, room);
  participant.admitted = false;  // held: hears its prompt, nobody hears it
  participant.early = true;      // start_audio plays the prompt instead of admitting it
  // Issue 12: the spoken "not started" may go to the signaling source before any ACK (there is none
  // for early media); the UA's early-media timeout bounds it.
  participant.signaling_verified = true;

  auto decision = answer_offer(participant, room, *offer_text);
  if (decision.status != 200 || !participant.in_audio_room) {
    // No audio stream the mixer takes (or no ports): nothing to say it with.
    stop_media(participant);
    return not_started();
  }
  CHORUS_LOG(kInfo, "conference", "meeting not started: early media", {"room", room.id}, {"call_id", call.call_id},
             {"participant", participant.id}, {"from", participant.from_uri});
  early_.emplace(call.handle, std::move(participant));
  return {183, {}, std::move(decision.sdp), {}};
}

void ConferenceService::on_not_started_played(std::uint64_t participant_id) {
  auto it = std::ranges::find_if(early_, [&](const auto& entry) { return entry.second.id == participant_id; });
  if (it == early_.end()) return;  // ended meanwhile (CANCEL, BYE, timeout)
  const sip::CallHandle call = it->first;
  const sip::CallDecision refusal = not_started();
  // The UA ends the call at once and on_call_ended (end_early) erases `it`: not used after this.
  if (!reject_early_(call, refusal.status, refusal.reason, refusal.extra_headers)) end_early(call);
}

bool ConferenceService::end_early(sip::CallHandle call) {
  auto it = early_.find(call);
  if (it == early_.end()) return false;
  CHORUS_LOG(kInfo, "conference", "early call ended", {"room", it->second.room_id}, {"call_id", it->second.call_id});
  stop_media(it->second);
  early_.erase(it);  // its port leases go back to the pool here
  return true;
}

}  // namespace chorus::conference
