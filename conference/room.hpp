// Rooms: where callers meet. A room is addressed by its id or its numeric dial-in alias, the user
// part of the Request-URI (`sip:1000@host`). The store (conference/store) keeps them; the server
// loads them into a RoomDirectory at start, which the SIP path reads and the REST routes update.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

// Which engines serve a room's media (DESIGN §7). Audio always goes to the room's audio MCU (one
// N-1 mix, shared encodes); video is forwarded by the SFU (kSfu, the default) or composed by the
// video MCU (kMcu). kEcho: every stream a caller sends comes back to it (the echo-test room).
enum class RoomMode { kSfu, kMcu, kEcho };
// The REST and store spelling: "sfu", "mcu", "echo".
std::string_view to_string(RoomMode mode);
std::optional<RoomMode> room_mode_from_string(std::string_view text);
// In an `sfu` room, what a SIP endpoint's single video section shows (issue 11): the voice-switched
// speaker (the SFU's slot) or the composite of everyone, which the video MCU builds while such a
// receiver is present. `mcu` rooms always send the composite and `echo` rooms no video: both ignore it.
enum class SipVideo { kSpeaker, kComposite };
// The REST and store spelling: "speaker", "composite".
std::string_view to_string(SipVideo video);
std::optional<SipVideo> sip_video_from_string(std::string_view text);
// Whether plain RTP is allowed: `required` answers RTP/AVP offers with 488 (SRTP only).
enum class RoomEncryption { kOptional, kRequired };

struct Room {
  std::string id;              // stable identifier, also dialable
  std::string dial_in_number;  // numeric alias, unique
  std::string name;
  RoomMode mode = RoomMode::kSfu;
  std::size_t max_participants = 100;
  RoomEncryption encryption = RoomEncryption::kOptional;
  std::string pin;             // callers' PIN (digits), empty: none
  std::string moderator_pin;   // moderators' PIN, empty: none
  std::string default_layout;  // video layout name for the MCU, empty: the engine's default
  bool locked = false;         // a locked room admits no new participant
  // Guests who entered their PIN wait (hearing "please wait…") until a moderator has joined.
  bool wait_for_moderator = false;
  // sfu rooms: a SIP endpoint's video shows the voice-switched speaker or everyone's composite (mcu, echo: ignored).
  SipVideo sip_video = SipVideo::kSpeaker;
  std::chrono::system_clock::time_point created_at{};
  std::uint64_t version = 1;  // bumped by every change; the REST ETag
};

// DESIGN §4: an empty store gets one open room 1000 (SFU mode for video, the audio MCU, no PIN).
Room default_room();
// The echo-test room `echo`, dial-in 9196 (as in many PBXs): a caller hears itself.
Room echo_room();

// Told after each change of a RoomDirectory (a room added, replaced or removed), on the thread that
// owns the directory (the control loop). The REST layer's room-list snapshot
// (rest-api/api/room_list_snapshot.hpp) learns this way that it must be rebuilt, whoever changed a room.
class RoomDirectoryListener {
 public:
  virtual ~RoomDirectoryListener() = default;
  virtual void on_rooms_changed() = 0;
};

class RoomDirectory {
 public:
  // At most one; null: none. The listener outlives the directory or is unset first.
  void set_listener(RoomDirectoryListener* listener) { listener_ = listener; }
  // false when the id or the number is already taken by another room.
  bool add(Room room);
  // Replaces the room with the same id (a REST update); false when the new number is taken by
  // another room, and then nothing changed.
  bool replace(Room room);
  bool remove(std::string_view id);
  [[nodiscard]] const Room* find(std::string_view id) const;
  [[nodiscard]] std::vector<const Room*> all() const;
  // The room whose id or dial-in number equals `user` (the Request-URI user part).
  [[nodiscard]] const Room* find_by_dial_string(std::string_view user) const;
  [[nodiscard]] std::size_t size() const { return rooms_.size(); }

 private:
  std::map<std::string, Room, std::less<>> rooms_;                // by id
  std::map<std::string, std::string, std::less<>> id_by_number_;  // dial-in number → id
  RoomDirectoryListener* listener_ = nullptr;
};

}  // namespace chorus::conference
