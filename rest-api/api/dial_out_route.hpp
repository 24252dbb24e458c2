// Dial-out: the conference calls someone into a room.
//   POST /v1/conferences/{id}/participants  {"to": "sip:alice@192.0.2.10:5060", "display_name": "Alice"}
//        calls:dial_out (or the admin token) → 202 {"id", "to", "state": "dialing"}
// The 202 means the INVITE is on its way; the outcome is an event: participant.joined when the
// callee answers (it is then listed and can be kicked like any participant), participant.dial_failed
// with the SIP status otherwise (408 when nobody answers within the UA's no-answer timeout).
// 404: unknown room (a conference's id is its room id, running or not); 409: room locked or full;
// 422: `to` is not a sip:/sips: URI the SIP parser reads; 403 problem+json (type egress-refused,
// detail naming the reason): the target is not in `dial_out_allow`, or is loopback, link-local,
// multicast, unspecified (conference/egress_policy.hpp); 503: no media ports, shutting down.
// A host name is resolved after the 202, off the control loop and within dial_out_dns_timeout:
// participant.dial_failed then carries 503 (does not resolve), 504 (no DNS answer in time) or 403
// (it resolves to a refused address).
// Threading: the handler runs on the control loop (Router).
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_dial_out_route(Router& router, ApiServices& services);

}  // namespace chorus::rest
