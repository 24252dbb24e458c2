#include "conference/participant.hpp"

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
  const sip::CallHandle call = participant.call;
  if (const auto* replaced = find(call)) unindex(*replaced);
  Participant& stored = by_call_.insert_or_assign(call, std::move(participant)).first->second;
  by_id_[stored.id] = &stored;
  rooms_[stored.room_id][stored.id] = &stored;
  return stored;
}

void ParticipantTable::unindex(const Participant& participant) {
  if (auto id = by_id_.find(participant.id); id != by_id_.end() && id->second == &participant) by_id_.erase(id);
  auto room = rooms_.find(participant.room_id);
  if (room == rooms_.end()) return;
  if (auto member = room->second.find(participant.id); member != room->second.end() && member->second == &participant)
    room->second.erase(member);
  if (room->second.empty()) rooms_.erase(room);
}

std::optional<Participant> ParticipantTable::extract(sip::CallHandle call) {
  auto found = by_call_.find(call);
  if (found == by_call_.end()) return std::nullopt;
  unindex(found->second);
  auto node = by_call_.extract(found);
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
  auto it = by_id_.find(participant_id);
  return it == by_id_.end() ? nullptr : it->second;
}

const Participant* ParticipantTable::find_by_id(std::uint64_t participant_id) const {
  auto it = by_id_.find(participant_id);
  return it == by_id_.end() ? nullptr : it->second;
}

namespace {

// A room's participants in id order, as `Pointer` (Participant* or const Participant*): both
// overloads of in_room, one body, one vector.
template <typename Pointer, typename Rooms>
std::vector<Pointer> participants_of(const Rooms& rooms, std::string_view room_id) {
  std::vector<Pointer> out;
  if (auto room = rooms.find(room_id); room != rooms.end()) {
    out.reserve(room->second.size());
    for (const auto& [id, participant] : room->second) out.push_back(participant);
  }
  return out;
}

}  // namespace

std::vector<const Participant*> ParticipantTable::in_room(std::string_view room_id) const {
  return participants_of<const Participant*>(rooms_, room_id);
}

std::vector<Participant*> ParticipantTable::in_room(std::string_view room_id) {
  return participants_of<Participant*>(rooms_, room_id);
}

std::size_t ParticipantTable::count_in(std::string_view room_id) const {
  auto room = rooms_.find(room_id);
  return room == rooms_.end() ? 0 : room->second.size();
}

std::vector<std::string> ParticipantTable::active_rooms() const {
  std::vector<std::string> out;
  out.reserve(rooms_.size());
  for (const auto& [room, members] : rooms_) out.push_back(room);
  return out;
}

}  // namespace chorus::conference
