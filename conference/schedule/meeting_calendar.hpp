// MeetingCalendar: the in-memory view of every room's meetings that the SIP path reads to admit a
// caller (a room that has meetings admits callers only inside an occurrence's join window). The
// store is the truth; the REST handlers update this view after each durable write, and the server
// loads it from the store at start.
// Threading: control loop only.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/schedule/meeting.hpp"
#include "conference/schedule/occurrences.hpp"

namespace chorus::conference {

class MeetingCalendar {
 public:
  void put(Meeting meeting);  // adds or replaces by id
  void remove(std::string_view meeting_id);
  void remove_room(std::string_view room_id);

  // True when the room has at least one meeting that is not cancelled.
  [[nodiscard]] bool has_meetings(std::string_view room_id) const;
  // The occurrence whose join window contains `now`, over all of the room's meetings.
  [[nodiscard]] std::optional<Occurrence> open_window(std::string_view room_id,
                                                      std::chrono::system_clock::time_point now) const;
  // The meeting whose window is open now (for its PIN override), if any.
  [[nodiscard]] const Meeting* open_meeting(std::string_view room_id, std::chrono::system_clock::time_point now) const;
  [[nodiscard]] std::size_t size() const { return meetings_.size(); }

 private:
  std::map<std::string, Meeting, std::less<>> meetings_;  // by id
};

}  // namespace chorus::conference
