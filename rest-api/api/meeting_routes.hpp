// /v1/meetings: schedule, list, read, change and cancel meetings; their occurrences and their
// iCalendar invitation.
//
//   POST   /v1/meetings                    meetings:write  201 + Location + ETag; 422 lists every bad field
//   GET    /v1/meetings                    rooms:read      paged list (limit, page_token, optional room_id)
//   GET    /v1/meetings/{id}               rooms:read      200 + ETag (cancelled meetings too)
//   PATCH  /v1/meetings/{id}               meetings:write  RFC 7396 merge patch, If-Match required; bumps sequence
//   DELETE /v1/meetings/{id}               meetings:write  204: cancels (kept, "cancelled": true, sequence bumped)
//   GET    /v1/meetings/{id}/occurrences   rooms:read      ?from&to (RFC 3339, ≤ 366 days) [&limit ≤ 1000]
//   GET    /v1/meetings/{id}.ics           rooms:read      text/calendar: RFC 5546 REQUEST, or CANCEL once cancelled
//
// DELETE cancels rather than erases so that the invitation can still be fetched as METHOD:CANCEL
// with a higher SEQUENCE (RFC 5546 §3.2.5), which is what makes calendars drop the event; the
// meeting leaves the MeetingCalendar, so it no longer gates admission to its room. A cancelled
// meeting cannot be changed (409); cancelling it again is a no-op 204. Deleting the room erases
// its meetings.
//
// Writes: store first (durable before the 2xx), then the MeetingCalendar, then an event
// (meeting.created, meeting.updated, meeting.deleted) whose payload leaves out the PIN.
//
// Threading: the handlers run on the control loop (router.hpp), where ApiServices may be used.
#pragma once

#include <chrono>
#include <cstddef>

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

// Occurrence queries: the widest from..to window, and the default and largest `limit`.
inline constexpr std::chrono::days kMaxOccurrenceWindow{366};
inline constexpr std::size_t kDefaultOccurrenceLimit = 100;

// `services` outlives the router.
void add_meeting_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
