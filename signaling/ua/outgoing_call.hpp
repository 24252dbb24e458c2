// Dial-out: what the layer above asks of the UserAgent to call someone (RFC 3261 §13.2, the UAC
// side of an INVITE), and what it gets back at once. The outcome arrives later through the
// CallListener: on_outgoing_answered (2xx: the call is then an ordinary call of the UA) or
// on_outgoing_failed (a non-2xx final response, no answer, transport failure).
//
// Targets are SIP/SIPS URIs whose host is an IP literal or a name the local resolver knows
// (getaddrinfo: /etc/hosts, or the system's resolver). DNS SRV/NAPTR (RFC 3263) is not done: the
// port is the URI's, else 5060 (5061 for sips).
// Threading: control loop only (DESIGN §2).
#pragma once

#include <optional>
#include <string>

#include "common/timer_queue.hpp"
#include "signaling/message/sip_uri.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::sip {

struct OutgoingCallRequest {
  std::string target;        // sip:/sips: URI: the Request-URI and the To of the INVITE
  std::string from_user;     // user part of our From URI (the room id)
  std::string from_display;  // display name of From (the room's name); may be empty
  std::string sdp_offer;     // the offer carried in the INVITE (RFC 3264 §5)
};

struct OutgoingCallStarted {
  CallHandle handle = 0;
  std::string call_id;  // the INVITE's Call-ID, for logs
};

// Where an INVITE to `target` goes: the URI's host (an IP literal, or a name resolved with
// getaddrinfo), its port or 5060/5061, and UDP unless ;transport= or sips says otherwise (RFC 3261
// §18.1.1; RFC 3263's SRV/NAPTR steps are skipped). nullopt with `error` set when it cannot be dialled.
std::optional<PeerAddress> resolve_target(const SipUri& target, std::string& error);

}  // namespace chorus::sip
