// Dial-out: what the layer above asks of the UserAgent to call someone (RFC 3261 §13.2, the UAC
// side of an INVITE), and what it gets back at once. The outcome arrives later through the
// CallListener: on_outgoing_answered (2xx: the call is then an ordinary call of the UA) or
// on_outgoing_failed (a non-2xx final response, no answer, transport failure).
//
// Targets are SIP/SIPS URIs whose host is an IP literal or a name the UA's HostResolver knows
// (getaddrinfo off the control loop, bounded in time: host_resolver.hpp). DNS SRV/NAPTR (RFC 3263)
// is not done: the port is the URI's, else 5060 (5061 for sips). A name is resolved after dial()
// returns; its failure (503: does not resolve, 504: no answer in time, 403: the address is
// refused by `check_address`) comes back as on_outgoing_failed.
// Threading: control loop only (DESIGN §2).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <functional>
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
  // Why the INVITE may not go to an address (an IP literal target, or what its name resolved to),
  // or nullopt; empty function: every address. The egress policy of the layer above (issue 12).
  std::function<std::optional<std::string>(const boost::asio::ip::address&)> check_address;
};

struct OutgoingCallStarted {
  CallHandle handle = 0;
  std::string call_id;  // the INVITE's Call-ID, for logs
};

// Where an INVITE to a URI goes: its port or 5060/5061, UDP unless ;transport= or sips says
// otherwise (RFC 3261 §18.1.1; RFC 3263's SRV/NAPTR steps are skipped), and the address when the
// host is an IP literal; otherwise `host_name` is what to resolve (hop.address is then unset).
struct DialTarget {
  PeerAddress hop;
  std::string host_name;  // empty: hop.address is the URI's literal
};

// No DNS here. nullopt with `error` set when the URI cannot be dialled (not sip/sips, no host, a
// transport we cannot dial).
std::optional<DialTarget> dial_target(const SipUri& target, std::string& error);

}  // namespace chorus::sip
