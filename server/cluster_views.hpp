// Another node's write, brought into this node's views (issue 14). The SIP path reads rooms and
// meetings from memory (RoomDirectory, MeetingCalendar; server/domain_store.hpp), which REST
// handlers keep up to date after their own writes. A write through another node arrives as a
// chorus_store notification (conference/cluster/notify_codec.hpp); the record is read again from
// the shared store — never taken from the notification — and its view updated the way the REST
// handlers do it: a room replaced or removed (with its meetings), a meeting put, or removed when it
// is cancelled or gone. When a notification may have been missed (the LISTEN session was lost,
// notifications were dropped), reload_views re-reads everything.
// Threading: control loop (the store and the views live there).
#pragma once

#include <expected>
#include <string>

#include "conference/cluster/notify_codec.hpp"
#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"

namespace chorus::server {

enum class ViewUpdate {
  kApplied,
  kNeedsReload,  // the store did not answer, or the room's number is another room's in this view
};

ViewUpdate apply_store_change(conference::Store& store, conference::RoomDirectory& rooms,
                              conference::MeetingCalendar& calendar, const conference::cluster::StoreChange& change);

// Every room and meeting again: rooms the store no longer has leave the directory, the calendar is
// rebuilt. Nothing changes when the store fails (the error says why).
std::expected<void, std::string> reload_views(conference::Store& store, conference::RoomDirectory& rooms,
                                              conference::MeetingCalendar& calendar);

}  // namespace chorus::server
