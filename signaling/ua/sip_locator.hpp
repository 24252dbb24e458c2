// Locating SIP servers (RFC 3263 §4): from a URI to the ordered list of hops (address, port,
// transport) to try, and the failover order a UAC walks when one of them fails (§4.3: a 503, a
// timeout or a transport error moves on to the next).
//
// The steps, for a URI whose host is a name:
//   - a ;transport= parameter or an explicit port fixes what the URI allows (§4.1, §4.2);
//   - no port: NAPTR on the host (SIP+D2U, SIP+D2T, SIPS+D2T, ordered by order then preference),
//     each replacement an SRV name; no NAPTR: SRV on _sip._udp, _sip._tcp (_sips._tcp for sips);
//   - SRV targets in priority order, weighted at random within a priority (RFC 2782), each then
//     A/AAAA;
//   - no SRV either: A/AAAA of the host with the default port (5060, 5061 for sips).
// An IP literal is its own single hop. Answers are cached by their TTL (bounded), negative ones too.
//
// Threading: locate() on the control loop; `done` runs on the control loop too, exactly once,
// never from inside locate() (a locator destroyed with lookups running drops their callbacks).
//
// Implementation: DnsSipLocator (dns_sip_locator.hpp), c-ares on the control loop; its header
// gives the details (NAPTR order, TTL caching, bounds).
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "signaling/message/sip_uri.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/ua/host_resolver.hpp"

namespace chorus::sip {

// One place to send a request to, in the order to try it.
struct LocatedHop {
  PeerAddress hop;   // address, port and transport
  std::string host;  // the name it came from (the SRV target, or the URI's host), for logs
};

using LocateResult = std::expected<std::vector<LocatedHop>, ResolveError>;

class SipLocator {
 public:
  using Done = std::function<void(LocateResult)>;
  virtual ~SipLocator() = default;
  // The hops for a request to `uri` (sip: or sips:), in the order RFC 3263 gives; an error when
  // none can be found (kNotFound), in time (kTimeout), or too many lookups are running (kBusy).
  virtual void locate(const SipUri& uri, Done done) = 0;
};

}  // namespace chorus::sip
