#include "server/cluster_views.hpp"

#include <set>
#include <vector>

#include "rest-api/api/json_codec.hpp"

namespace chorus::server {
namespace {

using conference::StoreErrorKind;
using conference::cluster::StoreKind;
using conference::cluster::StoreOp;

constexpr std::size_t kPage = 200;

ViewUpdate drop_room(conference::RoomDirectory& rooms, conference::MeetingCalendar& calendar, std::string_view id) {
  rooms.remove(id);
  calendar.remove_room(id);  // deleting a room deletes its meetings (the store's cascade)
  return ViewUpdate::kApplied;
}

ViewUpdate apply_room(conference::Store& store, conference::RoomDirectory& rooms, conference::MeetingCalendar& calendar,
                      const std::string& id) {
  auto room = store.get_room(id);
  if (!room)
    return room.error().kind == StoreErrorKind::kNotFound ? drop_room(rooms, calendar, id) : ViewUpdate::kNeedsReload;
  // Refused when the room's number belongs to another room here: that room's own change is
  // on its way or was missed, so the views are out of step and are read again whole.
  return rooms.replace(std::move(*room)) ? ViewUpdate::kApplied : ViewUpdate::kNeedsReload;
}

ViewUpdate apply_meeting(conference::Store& store, conference::MeetingCalendar& calendar, const std::string& id) {
  auto meeting = store.get_meeting(id);
  if (!meeting) {
    if (meeting.error().kind != StoreErrorKind::kNotFound) return ViewUpdate::kNeedsReload;
    calendar.remove(id);
    return ViewUpdate::kApplied;
  }
  if (meeting->cancelled) {
    calendar.remove(id);
  } else {
    calendar.put(rest::meeting_from_record(*meeting));
  }
  return ViewUpdate::kApplied;
}

}  // namespace

ViewUpdate apply_store_change(conference::Store& store, conference::RoomDirectory& rooms,
                              conference::MeetingCalendar& calendar, const conference::cluster::StoreChange& change) {
  if (change.kind == StoreKind::kRoom) {
    // A delete is read again too: the room may have been made anew since.
    return apply_room(store, rooms, calendar, change.id);
  }
  if (change.op == StoreOp::kDelete) {
    calendar.remove(change.id);
    return ViewUpdate::kApplied;
  }
  return apply_meeting(store, calendar, change.id);
}

std::expected<void, std::string> reload_views(conference::Store& store, conference::RoomDirectory& rooms,
                                              conference::MeetingCalendar& calendar) {
  std::vector<conference::Room> stored_rooms;
  for (std::string after;;) {
    auto page = store.list_rooms(after, kPage);
    if (!page) return std::unexpected("store: " + page.error().message);
    for (auto& room : *page) stored_rooms.push_back(std::move(room));
    if (page->size() < kPage) break;
    after = stored_rooms.back().id;
  }
  conference::MeetingCalendar fresh;
  for (std::string after;;) {
    auto page = store.list_meetings(after, kPage, std::nullopt);
    if (!page) return std::unexpected("store: " + page.error().message);
    for (const auto& record : *page)
      if (!record.cancelled) fresh.put(rest::meeting_from_record(record));
    if (page->size() < kPage) break;
    after = page->back().id;
  }
  std::set<std::string, std::less<>> kept;
  for (const auto& room : stored_rooms) kept.insert(room.id);
  for (const auto* room : rooms.all())
    if (!kept.contains(room->id)) rooms.remove(std::string(room->id));
  // Numbers may have moved between rooms: every changed room leaves first, then all come back.
  for (const auto& room : stored_rooms)
    if (!rooms.replace(room)) {
      rooms.remove(room.id);
    }
  for (const auto& room : stored_rooms)
    if (rooms.find(room.id) == nullptr) rooms.add(room);
  calendar = std::move(fresh);
  return {};
}

}  // namespace chorus::server
