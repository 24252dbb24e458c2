// Invitations: a meeting as an iCalendar object (RFC 5545) carrying an iTIP message (RFC 5546):
// METHOD:REQUEST while it is on, METHOD:CANCEL with STATUS:CANCELLED once cancelled. The UID
// (`<meeting id>@chorus`) and SEQUENCE let calendars update the event they already hold. Built
// with libical's component API, so escaping and line folding (RFC 5545 §3.1, §3.3.11) are its.
//
// Threading: libical's zone cache is process-wide; call from the control loop (DESIGN §2).
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>

#include "conference/schedule/meeting.hpp"

namespace chorus::conference {

// How invitees join, shown in LOCATION, DESCRIPTION and URL.
struct IcsDetails {
  std::string sip_uri;         // "sip:1000@conf.example.org": LOCATION and the first way in
  std::string join_url;        // the page that joins from a browser: URL (RFC 5545 §3.8.4.6); empty: none
  std::string dial_in_number;  // the PSTN number to call, empty: none
  std::string pin;             // the PIN to show (the meeting's or the room's), empty: none
  std::string product_id = "-//Chorus//Chorus Conference Server//EN";  // RFC 5545 §3.7.3 PRODID
  std::optional<std::chrono::system_clock::time_point> dtstamp;        // DTSTAMP, default: now
};

// The VCALENDAR text (CRLF lines) for `meeting`; the error names what cannot be expressed
// (unknown zone, bad rrule), which validate_meeting would have refused.
std::expected<std::string, std::string> to_ics(const Meeting& meeting, const IcsDetails& details);

// "REQUEST" or "CANCEL": the iTIP method to_ics uses (RFC 5546 §3.2.2, §3.2.5).
std::string_view ics_method(const Meeting& meeting);
// The HTTP Content-Type for to_ics's text: "text/calendar; charset=utf-8; method=REQUEST".
std::string ics_content_type(const Meeting& meeting);

}  // namespace chorus::conference
