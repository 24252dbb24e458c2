#include "conference/participant.hpp"

#include <algorithm>

namespace chorus::conference {

EngineMember engine_member(const Participant& participant, bool muted) {
  EngineMember member;
  member.participant_id = participant.id;
  member.room_id = participant.room_id;
  member.display_name = participant.display_name;
  member.worker = participant.worker;
  member.admitted = participant.admitted;
  member.muted = muted;
  member.gain_db = participant.gain_db;
  return member;
}

Participant& ParticipantTable::add(Participant participant) {
  ++occupancy_[participant.room_id];
  const sip::CallHandle call = participant.call;
  return by_call_.insert_or_assign(call, std::move(participant)).first->second;
}

std::optional<Participant> ParticipantTable::extract(sip::CallHandle call) {
  auto node = by_call_.extract(call);
  if (node.empty()) return std::nullopt;
  if (auto room = occupancy_.find(node.mapped().room_id); room != occupancy_.end() && --room->second == 0)
    occupancy_.erase(room);
  return std::move(node.mapped());
}

Participant* ParticipantTable::find(sip::CallHandle call) {
  auto it = by_call_.find(call);
  return it == by_call_.end() ? nullptr : &it->second;
}

const Participant* ParticipantTable::find(sip::CallHandle call) const {
  auto it = by_call_.find(call);
  return it == by_call_.end() ? nullptr : &it->second;
}

Participant* ParticipantTable::find_by_id(std::uint64_t participant_id) {
  for (auto& [call, participant] : by_call_)
    if (participant.id == participant_id) return &participant;
  return nullptr;
}

const Participant* ParticipantTable::find_by_id(std::uint64_t participant_id) const {
  for (const auto& [call, participant] : by_call_)
    if (participant.id == participant_id) return &participant;
  return nullptr;
}

std::vector<const Participant*> ParticipantTable::in_room(std::string_view room_id) const {
  std::vector<const Participant*> out;
  for (const auto& [call, participant] : by_call_)
    if (participant.room_id == room_id) out.push_back(&participant);
  std::ranges::sort(out, {}, &Participant::id);
  return out;
}

std::vector<Participant*> ParticipantTable::in_room(std::string_view room_id) {
  std::vector<Participant*> out;
  for (auto& [call, participant] : by_call_)
    if (participant.room_id == room_id) out.push_back(&participant);
  std::ranges::sort(out, {}, &Participant::id);
  return out;
}

std::size_t ParticipantTable::count_in(std::string_view room_id) const {
  auto it = occupancy_.find(room_id);
  return it == occupancy_.end() ? 0 : it->second;
}

std::vector<std::string> ParticipantTable::active_rooms() const {
  std::vector<std::string> out;
  out.reserve(occupancy_.size());
  for (const auto& [room, count] : occupancy_) out.push_back(room);
  return out;
}

}  // namespace chorus::conference
