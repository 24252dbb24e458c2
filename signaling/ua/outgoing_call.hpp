// Dial-out: what the layer above asks of the UserAgent to call someone (RFC 3261 §13.2, the UAC
// side of an INVITE), and what it gets back at once. The outcome arrives later through the
// CallListener: on_outgoing_answered (2xx: the call is then an ordinary call of the UA) or
// on_outgoing_failed (a non-2xx final response, no answer, transport failure).
//
// Where the INVITE goes (RFC 3263 §4): the preset `hops` when given (a trunk whose targets are
// known), else the target's IP literal, else what the UA's SipLocator finds for the URI (NAPTR, SRV,
// A/AAAA: sip_locator.hpp), else — no locator set — the name's A/AAAA records from the HostResolver
// (port: the URI's, else 5060, 5061 for sips). Names are looked up after dial() returns; a failure
// (503: does not resolve, 504: no answer in time, 403: every address refused by `check_address`)
// comes back as on_outgoing_failed. The hops are tried in order (RFC 3263 §4.3): a 503, a timeout
// without any provisional response (Timer B) or a transport error moves on to the next with a new
// INVITE; any other final response ends the dial, and when every hop failed the last status is
// reported. A 401/407 is answered with `credentials` (RFC 3261 §22.2, §22.3; signaling/auth).
// Threading: control loop only (DESIGN §2).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <functional>
#include <optional>
#include <string>

#include <vector>

#include "common/timer_queue.hpp"
#include "signaling/auth/digest.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/message/sip_uri.hpp"
#include "signaling/ua/call_listener.hpp"
#include "signaling/ua/sip_locator.hpp"

namespace chorus::sip {

struct OutgoingCallRequest {
  std::string target;        // sip:/sips: URI: the Request-URI and the To of the INVITE
  std::string from_user;     // user part of our From URI (the room id)
  std::string from_display;  // display name of From (the room's name); may be empty
  std::string sdp_offer;     // the offer carried in the INVITE (RFC 3264 §5)
  // Why the INVITE may not go to an address (an IP literal target, or what its name resolved to),
  // or nullopt; empty function: every address. The egress policy of the layer above (issue 12).
  std::function<std::optional<std::string>(const boost::asio::ip::address&)> check_address;
  // Answers a 401/407 to the INVITE, and to requests we send later in the call (RFC 3261 §22);
  // nullopt: a challenge ends the dial with its status.
  std::optional<DigestCredentials> credentials;
  // Added to the INVITE as given, after ours: the caller-ID of a trunk (P-Asserted-Identity,
  // RFC 3325 §9.1; Privacy), Route for an outbound proxy. Names must be tokens and values one line;
  // the headers the UA writes itself (Via, From, To, Call-ID, CSeq, Contact, Max-Forwards,
  // Content-*, Authorization, Proxy-Authorization) cannot be given. from_user/from_display above
  // are the From's caller-ID.
  std::vector<Header> extra_headers;
  // From's host instead of our address (a trunk that wants its own domain there); empty: ours.
  std::string from_host;
  // Where to send the INVITE, in order, instead of looking the target up (a trunk's known targets;
  // RFC 3263 §4.3 failover walks them). Each must pass check_address; refused ones are skipped.
  std::vector<LocatedHop> hops;
};

struct OutgoingCallStarted {
  CallHandle handle = 0;
  std::string call_id;  // the INVITE's Call-ID, for logs
};

// Where an INVITE to a URI goes without SRV/NAPTR: its port or 5060/5061, UDP unless ;transport=
// or sips says otherwise (RFC 3261 §18.1.1), and the address when the host is an IP literal;
// otherwise `host_name` is what to look up (hop.address is then unset).
struct DialTarget {
  PeerAddress hop;
  std::string host_name;  // empty: hop.address is the URI's literal
};

// No DNS here. nullopt with `error` set when the URI cannot be dialled (not sip/sips, no host, a
// transport we cannot dial).
std::optional<DialTarget> dial_target(const SipUri& target, std::string& error);

}  // namespace chorus::sip
