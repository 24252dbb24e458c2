// MethodHandler: how a layer above takes SIP requests that are not about a call's session. The UA
// turns INVITE dialogs into calls; other methods are registered with UserAgent::add_method_handler
// by whoever implements them (chat: MESSAGE, RFC 3428; the roster: SUBSCRIBE, RFC 6665 with the
// conference event package of RFC 4575), so signaling stays free of rooms (DESIGN §1).
//
// The UA applies its checks first (RFC 3261 §8.2: scheme, Require, Content-Encoding, and the
// body's media type against what the handler said it accepts: 415 otherwise) and routes:
//   - a request inside a call's confirmed dialog (To tag of that dialog) comes with `call` set, after
//     the dialog's CSeq check (§12.2.2); answer it with `to_tag`;
//   - a request with a To tag of no call comes with `call` unset and `to_tag` the request's own: a
//     dialog the handler made (a subscription's), or none (then the handler answers 481);
//   - a request outside any dialog comes with both empty (the handler picks its To tag).
// The handler answers every request exactly once, now or later while the transaction lives,
// through UserAgent::response_for and UserAgent::send_response.
// Threading: control loop only (DESIGN §2); must not block.
#pragma once

#include <optional>
#include <string>

#include "signaling/message/sip_message.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::sip {

struct MethodRequest {
  TransactionId transaction = 0;
  const SipMessage& request;
  const PeerAddress& source;
  std::optional<CallHandle> call;  // the call whose INVITE dialog this request came in
  std::string to_tag;              // the To tag to answer with; empty: outside any dialog
};

class MethodHandler {
 public:
  virtual ~MethodHandler() = default;
  virtual void on_method_request(const MethodRequest& request) = 0;
};

}  // namespace chorus::sip
