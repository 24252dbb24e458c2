#include "conference/roster/roster_service.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace chorus::conference {
namespace {

// The direction of a stream as the endpoint sees it: the reverse of ours.
std::string_view endpoint_direction(sdp::Direction ours) {
  switch (ours) {
    case sdp::Direction::kSendOnly:
      return "recvonly";
    case sdp::Direction::kRecvOnly:
      return "sendonly";
    case sdp::Direction::kInactive:
      return "inactive";
    case sdp::Direction::kSendRecv:
      break;
  }
  return "sendrecv";
}

// Muted audio reaches nobody: what the endpoint sends is dropped by the focus.
std::string_view muted_direction(std::string_view status) {
  if (status == "sendrecv") return "recvonly";
  if (status == "sendonly") return "inactive";
  return status;
}

RosterEndpoint endpoint_of(const Participant& participant, bool muted) {
  RosterEndpoint endpoint;
  // A per-call name: unique in the room, and nothing more than the participant's id.
  endpoint.entity = "urn:chorus:participant:" + std::to_string(participant.id);
  if (!participant.admitted || participant.waiting) {
    endpoint.status = "pending";
  } else {
    endpoint.status = muted ? "muted-via-focus" : "connected";
  }
  endpoint.joining_method = participant.signaling_source ? "dialed-in" : "dialed-out";
  endpoint.joined_at = format_rfc3339_utc(participant.joined_at);
  for (const auto& stream : participant.streams) {
    if (!stream.accepted) continue;
    RosterMedia media;
    media.id = std::to_string(stream.index);
    media.type = stream.media;
    media.status = std::string(endpoint_direction(stream.local_direction));
    if (stream.media == "audio") {
      if (muted) media.status = std::string(muted_direction(media.status));
      media.talking = participant.talking && !muted;
    }
    endpoint.media.push_back(std::move(media));
  }
  return endpoint;
}

bool is_roster_event(std::string_view type) {
  return type == event_type::kParticipantJoined || type == event_type::kParticipantLeft ||
         type == event_type::kParticipantMuted || type == event_type::kParticipantUnmuted ||
         type == event_type::kConferenceLocked || type == event_type::kConferenceUnlocked ||
         type == event_type::kRoomUpdated;
}

}  // namespace

RosterService::RosterService(const RoomDirectory& rooms, const ConferenceService& conference, RosterSettings settings)
    : rooms_(rooms), conference_(conference), settings_(std::move(settings)) {}

void RosterService::watch(EventLog& events) {
  events_ = events.subscribe([this](const Event& event) { on_event(event); });
}

void RosterService::on_event(const Event& event) {
  // Another node's event (issue 14): its rooms' participants are not here.
  if (!event.node.empty() || notifier_ == nullptr || !event.data.is_object()) return;
  const auto room = event.data.find("room_id");
  if (room == event.data.end() || !room->is_string()) return;
  const std::string& room_id = room->get_ref<const std::string&>();
  if (event.type == event_type::kRoomDeleted) {
    notifier_->terminate_resource(room_id);
  } else if (event.type == event_type::kParticipantTalkingStarted ||
             event.type == event_type::kParticipantTalkingStopped) {
    notifier_->notify_changed(room_id, settings_.talking_interval);
  } else if (is_roster_event(event.type)) {
    notifier_->notify_changed(room_id, std::chrono::milliseconds{0});
  }
}

void RosterService::on_room_changed(std::string_view room_id) {
  if (notifier_ != nullptr) notifier_->notify_changed(room_id, std::chrono::milliseconds{0});
}

std::optional<ConferenceInfo> RosterService::roster_of(std::string_view room_id) const {
  const Room* room = rooms_.find(room_id);
  if (room == nullptr) return std::nullopt;
  ConferenceInfo info;
  info.entity = "sip:" + room->id + "@" + settings_.host;
  info.display_text = room->name.empty() ? room->id : room->name;
  info.maximum_user_count = room->max_participants;
  info.locked = room->locked;
  for (const Participant* participant : conference_.participants_of(room->id)) {
    const bool muted = conference_.audio().effectively_muted(*participant);
    // Two calls from one URI are two endpoints of one user (RFC 4575: a user has endpoints).
    auto user = std::ranges::find(info.users, participant->from_uri, &RosterUser::entity);
    if (user == info.users.end()) {
      RosterUser added;
      added.entity = participant->from_uri;
      added.display_text = participant->display_name;
      info.users.push_back(std::move(added));
      user = std::prev(info.users.end());
    }
    if (participant->moderator && std::ranges::find(user->roles, "moderator") == user->roles.end())
      user->roles.insert(user->roles.begin(), "moderator");
    if (user->roles.empty() || user->roles.back() != "participant") user->roles.emplace_back("participant");
    user->endpoints.push_back(endpoint_of(*participant, muted));
  }
  return info;
}

bool RosterService::may_watch(const Room& room, const sip::SubscribeContext& context) const {
  if (context.trusted || settings_.allow_anyone) return true;
  const auto admitted_here = [&](const Participant* participant) {
    return participant != nullptr && participant->room_id == room.id && participant->admitted;
  };
  if (context.call) return admitted_here(conference_.participant(*context.call));
  const std::string source_ip = context.source.address.to_string();
  return std::ranges::any_of(conference_.participants_of(room.id), [&](const Participant* participant) {
    return admitted_here(participant) && participant->source_ip == source_ip &&
           participant->from_uri == context.request.from.uri_text;
  });
}

sip::SubscribeDecision RosterService::on_subscribe(const sip::SubscribeContext& context) {
  const Room* room = nullptr;
  if (!context.resource.empty()) {
    room = rooms_.find(context.resource);  // a refresh: the room it watches
  } else if (context.call) {
    const Participant* participant = conference_.participant(*context.call);
    if (participant != nullptr) room = rooms_.find(participant->room_id);
  } else {
    room = rooms_.find_by_dial_string(context.request.request_uri.user);
  }
  if (room == nullptr) return {404, "Room Not Found", {}};
  if (!may_watch(*room, context)) {
    CHORUS_LOG(kInfo, "roster", "subscription refused", {"room", room->id},
               {"source", context.source.address.to_string()}, {"call_id", context.request.call_id});
    return {403, "Only Participants May Subscribe", {}};
  }
  return {200, {}, room->id};
}

std::optional<std::string> RosterService::state_for(sip::SubscriptionId id, const std::string& resource,
                                                    std::uint32_t version, bool full) {
  auto now = roster_of(resource);
  if (!now) return std::nullopt;  // the room went; its deletion event ends the subscription
  auto known = sent_.find(id);
  std::optional<std::string> body;
  if (full || known == sent_.end()) {
    body = write_full(*now, version, settings_.max_document_bytes);
  } else {
    body = write_partial(known->second, *now, version, settings_.max_document_bytes);
    if (!body) return std::nullopt;
  }
  if (body->empty()) {
    CHORUS_LOG(kWarn, "roster", "roster too large to send", {"room", resource}, {"users", now->user_count()},
               {"max_bytes", settings_.max_document_bytes});
    return std::nullopt;
  }
  sent_[id] = std::move(*now);
  return body;
}

void RosterService::on_subscription_ended(sip::SubscriptionId id) {
  sent_.erase(id);
}

}  // namespace chorus::conference
