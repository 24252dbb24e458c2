#include "conference/room_lock.hpp"

namespace chorus::conference {

std::expected<bool, std::string> set_room_locked(Store& store, RoomDirectory& rooms, EventLog* events,
                                                 std::string_view room_id, bool locked) {
  auto stored = store.get_room(room_id);
  if (!stored) return std::unexpected("room " + std::string(room_id) + " is not in the store");
  Room room = *stored;
  if (room.locked == locked) return false;
  room.locked = locked;
  auto version = store.update_room(room, stored->version);
  if (!version) return std::unexpected("the store refused the update: " + version.error().message);
  room.version = *version;
  rooms.replace(room);
  if (events != nullptr)
    events->publish(locked ? event_type::kConferenceLocked : event_type::kConferenceUnlocked,
                    nlohmann::json{{"conference_id", room_id}, {"room_id", room_id}});
  return true;
}

}  // namespace chorus::conference
