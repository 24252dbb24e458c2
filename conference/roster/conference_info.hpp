// ConferenceInfo: a room's roster as RFC 4575 §5 models it, and its two documents
// (application/conference-info+xml): the full state, and the partial state that tells a subscriber
// what changed since the document it last got (RFC 4575 §4 and §5: elements with state="full"
// replace what the subscriber had, state="deleted" removes; `version` numbers the documents of one
// subscription, one more each time).
//
// What we say about a participant: one <user> per From URI (entity, display-text, roles) with one
// <endpoint> per call (two calls from the same URI are two endpoints of one user; the endpoint's
// entity is a per-call name that reveals nothing else). The endpoint's <status> is `connected`,
// `muted-via-focus` (the focus blocks its audio — Chorus mutes in the mixer, so its own *6
// and the API's mute both are this), or `pending` (still entering the PIN or waiting for a
// moderator: in the call, not yet in the conference); <joining-method> is dialed-in or dialed-out;
// <joining-info><when> is the join time. Each accepted SDP section is a <media> (id = section index,
// type audio/video, status the direction as the endpoint sees it — muted audio is `recvonly`).
// Talking has no element in RFC 4575: it is carried in the audio <media> element as
// <chorus:talking>true|false</chorus:talking> in our namespace kChorusNamespace, which the RFC's
// schema admits there (##other, lax) and other clients skip.
//
// Everything that comes from callers is escaped (xml_writer.hpp); entity URIs are additionally
// percent-encoded where RFC 3986 does not allow a character, so they stay valid xs:anyURI.
// Threading: none (values and pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

inline constexpr std::string_view kConferenceInfoNamespace = "urn:ietf:params:xml:ns:conference-info";
inline constexpr std::string_view kChorusNamespace = "urn:chorus:params:xml:ns:conference-info-ext";
inline constexpr std::string_view kConferenceInfoType = "application/conference-info+xml";

struct RosterMedia {
  std::string id;               // the SDP section index
  std::string type;             // "audio" | "video"
  std::string status;           // "sendrecv" | "sendonly" | "recvonly" | "inactive"
  std::optional<bool> talking;  // audio only
  bool operator==(const RosterMedia&) const = default;
};

struct RosterEndpoint {
  std::string entity;
  std::string status;          // "connected" | "muted-via-focus" | "pending"
  std::string joining_method;  // "dialed-in" | "dialed-out"
  std::string joined_at;       // xs:dateTime, UTC
  std::vector<RosterMedia> media;
  bool operator==(const RosterEndpoint&) const = default;
};

struct RosterUser {
  std::string entity;  // the participant's From URI
  std::string display_text;
  std::vector<std::string> roles;  // "moderator" | "participant"
  std::vector<RosterEndpoint> endpoints;
  bool operator==(const RosterUser&) const = default;
};

struct ConferenceInfo {
  std::string entity;        // the room's URI
  std::string display_text;  // the room's name
  std::size_t maximum_user_count = 0;
  bool locked = false;
  std::vector<RosterUser> users;  // in joining order
  // <conference-state>: user-count counts users; active while anyone is there.
  [[nodiscard]] std::size_t user_count() const { return users.size(); }
  bool operator==(const ConferenceInfo&) const = default;
};

// `uri` with every character RFC 3986 §2 does not allow in a URI (spaces, controls, non-ASCII,
// quotes, <>) percent-encoded, so it is a valid xs:anyURI whatever the caller wrote.
std::string uri_for_xml(std::string_view uri);

// The full state, numbered `version`. Empty when the document would exceed `max_bytes`.
std::string write_full(const ConferenceInfo& info, std::uint32_t version, std::size_t max_bytes = 60 * 1024);
// What changed from `before` to `after`, numbered `version`: the conference description and state
// when they changed, each changed or new user whole (state="full"), each user who left as
// state="deleted". nullopt when nothing changed; empty when the document would exceed `max_bytes`.
std::optional<std::string> write_partial(const ConferenceInfo& before, const ConferenceInfo& after,
                                         std::uint32_t version, std::size_t max_bytes = 60 * 1024);

}  // namespace chorus::conference
