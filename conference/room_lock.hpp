// set_room_locked: locks or unlocks a room the one way both the REST API (PATCH
// /v1/conferences/{id} {"locked"}) and a moderator's keypad (*1) do it: the store first (durable
// before anyone is told), then the RoomDirectory the SIP path reads, then the event.
// Threading: control loop (the store and the directory live there).
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "conference/events/event_log.hpp"
#include "conference/room.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference {

// True when the lock state changed, false when it already was `locked`; the error says why the
// store refused (unknown room, write failure).
std::expected<bool, std::string> set_room_locked(Store& store, RoomDirectory& rooms, EventLog* events,
                                                 std::string_view room_id, bool locked);

}  // namespace chorus::conference
