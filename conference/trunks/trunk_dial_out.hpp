// Dial-out through a trunk (issue 15): POST /v1/conferences/{id}/participants {"to": "+4930…",
// "trunk": "trk_…"} becomes an INVITE to sip:<E.164 number>@<the trunk's first target>, sent to the
// trunk's targets in order (RFC 3263 §4.3 failover, when they are IP literals: preset hops; a name
// is located by the UA), with the trunk's outbound credentials for a 401/407 (RFC 3261 §22.2) and
// its caller-ID in From and P-Asserted-Identity (RFC 3325 §9.1). The trunk's targets were set by an
// administrator (system:admin), so the dial-out egress policy, which guards targets a dial-out
// caller names, does not apply to them.
// Pure: builds the request; the control loop.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "conference/trunks/trunk.hpp"
#include "signaling/ua/outgoing_call.hpp"

namespace chorus::conference {

// Fills target, hops, credentials, from_user/from_host and extra_headers of `call` (the rest —
// the offer, the room's display name — is the caller's). An error when `to` is no number the
// trunk's numbering reads (a sip:/sips: URI is taken as it is, its host replaced by the trunk's).
std::expected<void, std::string> prepare_trunk_call(const Trunk& trunk, std::string_view to,
                                                    sip::OutgoingCallRequest& call);

}  // namespace chorus::conference
