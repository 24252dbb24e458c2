#include "conference/room.hpp"

namespace chorus::conference {

std::string_view to_string(RoomMode mode) {
  switch (mode) {
    case RoomMode::kSfu:
      return "sfu";
    case RoomMode::kMcu:
      return "mcu";
    case RoomMode::kEcho:
      return "echo";
  }
  return "sfu";
}

std::optional<RoomMode> room_mode_from_string(std::string_view text) {
  if (text == "sfu") return RoomMode::kSfu;
  if (text == "mcu") return RoomMode::kMcu;
  if (text == "echo") return RoomMode::kEcho;
  return std::nullopt;
}

std::string_view to_string(SipVideo video) {
  return video == SipVideo::kComposite ? "composite" : "speaker";
}

std::optional<SipVideo> sip_video_from_string(std::string_view text) {
  if (text == "speaker") return SipVideo::kSpeaker;
  if (text == "composite") return SipVideo::kComposite;
  return std::nullopt;
}

Room default_room() {
  Room room;
  room.id = "1000";
  room.dial_in_number = "1000";
  room.name = "Default room";
  room.mode = RoomMode::kSfu;
  // The open room is the one everybody dials first; it takes as many callers as a bridge of this
  // size carries (the audio issue's target is hundreds per core).
  room.max_participants = 1000;
  return room;
}

Room echo_room() {
  Room room;
  room.id = "echo";
  room.dial_in_number = "9196";
  room.name = "Echo test";
  room.mode = RoomMode::kEcho;
  room.max_participants = 1000;
  return room;
}

bool RoomDirectory::add(Room room) {
  if (room.id.empty() || rooms_.contains(room.id)) return false;
  // Nor may an id shadow another room's number (find_by_dial_string tries ids first).
  if (id_by_number_.contains(room.id)) return false;
  if (!room.dial_in_number.empty()) {
    auto owner = id_by_number_.find(room.dial_in_number);
    if (owner != id_by_number_.end() && owner->second != room.id) return false;
    // A number may not shadow another room's id either: dialling must be unambiguous.
    if (rooms_.contains(room.dial_in_number) && room.dial_in_number != room.id) return false;
    id_by_number_.emplace(room.dial_in_number, room.id);
  }
  rooms_.emplace(room.id, std::move(room));
  if (listener_ != nullptr) listener_->on_rooms_changed();
  return true;
}

bool RoomDirectory::replace(Room room) {
  auto old = rooms_.find(room.id);
  if (old == rooms_.end()) return add(std::move(room));
  Room previous = old->second;
  remove(previous.id);
  if (add(std::move(room))) return true;
  add(std::move(previous));  // the new number clashed: put the room back as it was
  return false;
}

bool RoomDirectory::remove(std::string_view id) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return false;
  if (!it->second.dial_in_number.empty()) id_by_number_.erase(it->second.dial_in_number);
  rooms_.erase(it);
  if (listener_ != nullptr) listener_->on_rooms_changed();
  return true;
}

const Room* RoomDirectory::find(std::string_view id) const {
  auto it = rooms_.find(id);
  return it == rooms_.end() ? nullptr : &it->second;
}

std::vector<const Room*> RoomDirectory::all() const {
  std::vector<const Room*> out;
  out.reserve(rooms_.size());
  for (const auto& [id, room] : rooms_) out.push_back(&room);
  return out;
}

const Room* RoomDirectory::find_by_dial_string(std::string_view user) const {
  if (auto it = rooms_.find(user); it != rooms_.end()) return &it->second;
  if (auto number = id_by_number_.find(user); number != id_by_number_.end()) {
    if (auto it = rooms_.find(number->second); it != rooms_.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace chorus::conference
