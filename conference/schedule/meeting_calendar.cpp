#include "conference/schedule/meeting_calendar.hpp"

namespace chorus::conference {

void MeetingCalendar::put(Meeting meeting) {
  const std::string id = meeting.id;
  meetings_.insert_or_assign(id, std::move(meeting));
}

void MeetingCalendar::remove(std::string_view meeting_id) {
  if (auto it = meetings_.find(meeting_id); it != meetings_.end()) meetings_.erase(it);
}

void MeetingCalendar::remove_room(std::string_view room_id) {
  std::erase_if(meetings_, [room_id](const auto& entry) { return entry.second.room_id == room_id; });
}

bool MeetingCalendar::has_meetings(std::string_view room_id) const {
  for (const auto& [id, meeting] : meetings_)
    if (meeting.room_id == room_id && !meeting.cancelled) return true;
  return false;
}

const Meeting* MeetingCalendar::open_meeting(std::string_view room_id,
                                             std::chrono::system_clock::time_point now) const {
  for (const auto& [id, meeting] : meetings_) {
    if (meeting.room_id != room_id || meeting.cancelled) continue;
    if (current_or_next_window(meeting, now)) return &meeting;
  }
  return nullptr;
}

std::optional<Occurrence> MeetingCalendar::open_window(std::string_view room_id,
                                                       std::chrono::system_clock::time_point now) const {
  const Meeting* meeting = open_meeting(room_id, now);
  if (!meeting) return std::nullopt;
  return current_or_next_window(*meeting, now);
}

}  // namespace chorus::conference
