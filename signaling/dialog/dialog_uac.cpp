// Dialog, UAC side: a dialog made from the INVITE we sent and the 2xx that answered it (RFC 3261
// §12.1.2), for dial-out. Threading: control loop only.
#include <algorithm>

#include "signaling/dialog/dialog.hpp"

namespace chorus::sip {

Dialog Dialog::from_response(const SipMessage& invite, const SipMessage& response, const PeerAddress& destination) {
  Dialog d;
  d.role_ = DialogRole::kUac;
  // §12.1.2: Call-ID of the request, local tag = From tag, remote tag = To tag of the response.
  d.id_ = DialogId{invite.call_id, invite.from.tag(), response.to.tag()};
  auto without_tag = [](const NameAddr& addr) {
    NameAddr copy = addr;
    std::erase_if(copy.params, [](const GenericParam& p) { return p.name == "tag"; });
    return copy.to_string();
  };
  d.local_uri_ = without_tag(invite.from);
  d.remote_uri_ = without_tag(response.to);
  // §12.1.2: the remote target is the Contact of the response (its To URI when it has none).
  d.remote_target_ = response.contacts.empty() ? response.to.uri_text : response.contacts.front().uri_text;
  // §12.1.2: the route set is the Record-Route of the response, in reverse order.
  for (auto rr : response.header_values("Record-Route")) d.route_set_.emplace_back(rr);
  std::ranges::reverse(d.route_set_);
  // §12.1.2: the local sequence number is the INVITE's; the remote one is empty until they send.
  d.local_cseq_ = invite.cseq.number;
  d.flow_ = destination;
  return d;
}

}  // namespace chorus::sip
