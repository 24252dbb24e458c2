// What the schedule tests share: UTC instants written as dates, and a valid weekly meeting.
#pragma once

#include <chrono>

#include "conference/schedule/meeting.hpp"

namespace chorus::conference::schedule_test {

inline std::chrono::system_clock::time_point utc(int year, unsigned month, unsigned day, int hour, int minute = 0) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours{hour} + minutes{minute};
}

// Thursdays 09:00-10:00 in Berlin from 19 March 2026 (08:00 UTC, before the 29 March DST change).
inline Meeting weekly_berlin_meeting() {
  Meeting meeting;
  meeting.id = "mtg-1";
  meeting.room_id = "1000";
  meeting.title = "Weekly sync";
  meeting.start = utc(2026, 3, 19, 8);
  meeting.end = utc(2026, 3, 19, 9);
  meeting.timezone = "Europe/Berlin";
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH";
  meeting.join_window_before = std::chrono::minutes{10};
  meeting.organizer = "alice@example.org";
  meeting.attendees = {"bob@example.org", "carol@example.net"};
  meeting.sequence = 2;
  meeting.created_at = utc(2026, 3, 1, 12);
  meeting.updated_at = utc(2026, 3, 2, 12);
  return meeting;
}

}  // namespace chorus::conference::schedule_test
