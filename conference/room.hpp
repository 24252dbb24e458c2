// Rooms: where callers meet. A room is addressed by its id or its numeric dial-in alias, the user
// part of the Request-URI (`sip:1000@host`). The store behind them arrives with the REST issue;
// until then the directory lives in memory and starts with the default room.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::conference {

enum class RoomMode { kMcu, kSfu };

struct Room {
  std::string id;              // stable identifier, also dialable
  std::string dial_in_number;  // numeric alias, unique
  std::string name;
  RoomMode mode = RoomMode::kMcu;
  std::size_t max_participants = 100;
};

// DESIGN §4: an empty store gets one open room 1000 (audio+video MCU, no PIN).
Room default_room();

class RoomDirectory {
 public:
  // false when the id or the number is already taken by another room.
  bool add(Room room);
  // The room whose id or dial-in number equals `user` (the Request-URI user part).
  [[nodiscard]] const Room* find_by_dial_string(std::string_view user) const;
  [[nodiscard]] std::size_t size() const { return rooms_.size(); }

 private:
  std::map<std::string, Room, std::less<>> rooms_;                // by id
  std::map<std::string, std::string, std::less<>> id_by_number_;  // dial-in number → id
};

}  // namespace chorus::conference
