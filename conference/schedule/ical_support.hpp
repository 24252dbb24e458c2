// What meeting.cpp, occurrences.cpp and ics.cpp share about libical 3.0: owning handles for its
// heap objects (every icalcomponent and iterator is freed by its handle), time conversions
// between std::chrono and icaltimetype, zone lookup and RRULE parsing.
//
// Threading: libical's builtin zone cache is process-wide; call these from the control loop
// (DESIGN §2), which owns the schedule with the rest of the conference domain.
#pragma once

#include <libical/ical.h>

#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace chorus::conference::ical_support {

using TimePoint = std::chrono::system_clock::time_point;

struct ComponentDeleter {
  void operator()(icalcomponent* component) const { icalcomponent_free(component); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

struct RecurIteratorDeleter {
  void operator()(icalrecur_iterator* iterator) const { icalrecur_iterator_free(iterator); }
};
using RecurIteratorPtr = std::unique_ptr<icalrecur_iterator, RecurIteratorDeleter>;

// Strings from libical's `_r` functions are the caller's, freed with icalmemory_free_buffer.
struct BufferDeleter {
  void operator()(char* buffer) const { icalmemory_free_buffer(buffer); }
};
using BufferPtr = std::unique_ptr<char, BufferDeleter>;

// The zone named by an IANA name ("Europe/Berlin", "UTC"), or nullptr when libical does not know
// it. The zone belongs to libical's cache and lives for the process.
icaltimezone* find_zone(std::string_view iana_name);

// `instant` (second precision) as a wall-clock time in `zone` (UTC when zone is the UTC zone).
icaltimetype to_zone_time(TimePoint instant, icaltimezone* zone);
// A wall-clock time in `zone` (or a UTC time) back to the instant it names.
TimePoint to_instant(icaltimetype time, icaltimezone* zone);

// RFC 5545 §3.3.10: a RECUR value (without the "RRULE:" name). The error says what is wrong.
std::expected<icalrecurrencetype, std::string> parse_rrule(const std::string& rrule);

}  // namespace chorus::conference::ical_support
