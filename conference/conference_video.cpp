// ConferenceService, video (DESIGN §7): what the SFU reports and what the SIP side asks of it.
// - The slot map: whenever who fills a participant's video slots changes, or its admission does
//   (PIN entry, the moderator's waiting room), a participant whose INVITE said `Recv-Info:
//   chorus-video-slots` gets it in an RFC 6086 INFO (application/vnd.chorus.video-slots+json, below);
//   the map is kept for REST and published as `video.slots_changed`.
// - Keyframes without RTCP (RFC 5168): a publisher that takes neither PLI nor FIR is sent INFO
//   picture_fast_update; a receiver sending one asks the router for keyframes for its slots.
// The INFO body: {"version": n, "admission": "admitted" | "pin_required" | "waiting_for_moderator",
//                 "slots": [{"mid": "2", "participant_id": 7, "display_name": "Ann"}, ...]} with
// participant_id/display_name null for a dark slot; a later version replaces an earlier one.
// Threading: control loop only.
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "conference/conference_service.hpp"

namespace chorus::conference {
namespace {

constexpr std::string_view kPictureFastUpdate =
    "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<media_control><vc_primitive><to_encoder>"
    "<picture_fast_update/></to_encoder></vc_primitive></media_control>\r\n";

std::string_view admission_of(const Participant& participant) {
  if (participant.admitted) return "admitted";
  return participant.waiting ? "waiting_for_moderator" : "pin_required";
}

nlohmann::json slots_json(const std::vector<sfu::SlotView>& slots) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& slot : slots)
    out.push_back({{"mid", slot.mid},
                   {"participant_id", slot.participant ? nlohmann::json(*slot.participant) : nlohmann::json(nullptr)},
                   {"display_name", slot.participant ? nlohmann::json(slot.display_name) : nlohmann::json(nullptr)}});
  return out;
}

}  // namespace

void ConferenceService::set_video(VideoSettings settings, VideoHooks hooks) {
  video_ = settings;
  video_hooks_ = std::move(hooks);
  sfu_.set_config(video_.router);
  sfu_.set_post_to_control(video_hooks_.post_to_control);
  video_mcu_.set_config(video_.mcu);
  video_mcu_.set_post_to_control(video_hooks_.post_to_control);
}

void ConferenceService::send_slot_info(Participant& participant) {
  if (!participant.receives_slot_info || !video_hooks_.send_info || !sfu_.has_member(participant.id)) return;
  const nlohmann::json body{{"version", ++participant.slot_info_version},
                            {"admission", admission_of(participant)},
                            {"slots", slots_json(sfu_.slots_of(participant.id))}};
  video_hooks_.send_info(participant.call, kVideoSlotsInfoPackage, kVideoSlotsContentType, body.dump());
}

void ConferenceService::on_video_slots(std::uint64_t receiver, const std::vector<sfu::SlotView>& slots) {
  Participant* participant = participants_.find_by_id(receiver);
  if (participant == nullptr) return;
  CHORUS_LOG(kDebug, "conference", "video slots changed", {"room", participant->room_id},
             {"participant", participant->id}, {"slots", slots.size()});
  send_slot_info(*participant);
  if (events_)
    events_->publish(event_type::kVideoSlotsChanged, nlohmann::json{{"conference_id", participant->room_id},
                                                                    {"room_id", participant->room_id},
                                                                    {"participant_id", participant->id},
                                                                    {"slots", slots_json(slots)}});
}

void ConferenceService::on_keyframe_wanted(std::uint64_t publisher) {
  const Participant* participant = participants_.find_by_id(publisher);
  if (participant == nullptr || !video_hooks_.send_info) return;
  video_hooks_.send_info(participant->call, {}, kMediaControlContentType, std::string(kPictureFastUpdate));
}

void ConferenceService::on_picture_fast_update(sip::CallHandle call) {
  if (const Participant* participant = participants_.find(call)) {
    sfu_.request_keyframes_for(participant->id);
    video_mcu_.request_keyframe_for(participant->id);
  }
}

void ConferenceService::on_admission_changed(std::uint64_t participant_id) {
  Participant* participant = participants_.find_by_id(participant_id);
  if (participant == nullptr) return;
  sfu_.set_admitted(participant->id, participant->admitted);
  video_mcu_.set_admitted(participant->id, participant->admitted);
  send_slot_info(*participant);
}

}  // namespace chorus::conference
