// A meeting's occurrences: its RRULE expanded in the meeting's own zone (RFC 5545 §3.3.10 and
// §3.8.5.3: the rule repeats the wall-clock DTSTART), so a weekly 09:00 Europe/Berlin meeting is
// 08:00 UTC in winter and 07:00 UTC in summer. Expansion is bounded: at most
// kMaxOccurrences per call and kMaxScannedInstances instances looked at.
//
// Threading: libical's zone cache is process-wide; call from the control loop (DESIGN §2).
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "conference/schedule/meeting.hpp"

namespace chorus::conference {

struct Occurrence {
  std::chrono::system_clock::time_point start;  // UTC; also the RFC 5545 RECURRENCE-ID
  std::chrono::system_clock::time_point end;

  bool operator==(const Occurrence&) const = default;
};

inline constexpr std::size_t kMaxOccurrences = 1000;
inline constexpr std::size_t kMaxScannedInstances = 10'000;

// The occurrences that overlap [from, to) (end > from and start < to), earliest first, at most
// `limit` (1..kMaxOccurrences) of them; exdates removed. A cancelled meeting has none. The error
// says why the meeting cannot be expanded (unknown zone, bad rrule, bad limit or window).
// Rules without COUNT start scanning near `from`, so a long-running series stays cheap; a rule
// with COUNT (at most kMaxRruleCount) and HOURLY;INTERVAL>1 are scanned from the start, so such
// a series finds nothing after its first kMaxScannedInstances instances.
std::expected<std::vector<Occurrence>, std::string> expand_occurrences(const Meeting& meeting,
                                                                       std::chrono::system_clock::time_point from,
                                                                       std::chrono::system_clock::time_point to,
                                                                       std::size_t limit);

// Admission: the occurrence whose join window [start - join_window_before, end] holds `now`
// (the earliest one when windows overlap); nullopt outside every window, when the meeting is
// cancelled or cannot be expanded. A room with meetings admits callers only inside a window.
std::optional<Occurrence> current_or_next_window(const Meeting& meeting, std::chrono::system_clock::time_point now);

// The first occurrence that starts after `now`, for telling an early caller when to come back.
std::optional<Occurrence> next_occurrence(const Meeting& meeting, std::chrono::system_clock::time_point now);

}  // namespace chorus::conference
