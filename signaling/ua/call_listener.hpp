// CallListener: how the SIP user agent core hands calls to the layer above (the conference domain).
// DESIGN §1: signaling knows nothing of rooms or media; it asks this interface what to answer.
// Every method runs on the control loop and must not block.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

using CallHandle = std::uint64_t;  // the UA's id for one INVITE dialog (not the SIP Call-ID)

struct CallInfo {
  CallHandle handle = 0;
  std::string call_id;       // SIP Call-ID, for logs
  std::string request_user;  // user part of the Request-URI: the room id or its numeric alias
  std::string from_uri;
  std::string from_display;
  std::string user_agent;
  PeerAddress source;
  // RFC 6086 §5.2.2: the Info Packages the caller takes in INFO (its Recv-Info), lower-cased.
  std::vector<std::string> recv_info;
};

// The decision about a new INVITE. status 200 accepts with `sdp` (an answer when the INVITE had an
// offer, else our offer); any 3xx–6xx rejects the call with that status. status 183 (only for an
// INVITE with an offer; `sdp` is the answer) is early media (RFC 3960 §3): the UA sends 183 Session
// Progress with the answer, unreliably (no 100rel, RFC 3261 §13.3.1.1), and the call stays early
// until UserAgent::reject_after_early_media sends its final non-2xx. Any other status is sent as 500.
struct CallDecision {
  int status = 200;
  std::string reason;
  std::string sdp;
  std::vector<Header> extra_headers;  // e.g. Warning (§20.43), Retry-After
};

// The result of a new offer inside the dialog (re-INVITE or UPDATE, RFC 3264 §8).
struct OfferDecision {
  int status = 200;  // 488 when the new offer is not acceptable; the old session stays
  std::string reason;
  std::string sdp;
  std::vector<Header> extra_headers;
};

class CallListener {
 public:
  virtual ~CallListener() = default;
  // `offer` is the INVITE's SDP body, or nullopt for an INVITE without SDP (offer in our 2xx).
  virtual CallDecision on_incoming_call(const CallInfo& call, const SipMessage& invite,
                                        const std::optional<std::string>& offer) = 0;
  // The caller's answer to the offer we put in our 2xx, carried in the ACK (RFC 3264 §4).
  // false: not acceptable; the UA ends the call with BYE.
  virtual bool on_remote_answer(CallHandle call, std::string_view sdp) = 0;
  // The ACK for our 2xx arrived (after on_remote_answer when it carried the answer): it echoed our
  // To tag, so whoever sent the INVITE receives at its source address (RFC 3261 §13.3.1.4).
  virtual void on_acknowledged(CallHandle /*call*/) {}
  // A re-INVITE or UPDATE with an offer (hold, resume, codec change).
  virtual OfferDecision on_remote_offer(CallHandle call, std::string_view sdp) = 0;
  // A re-INVITE without an offer: our current session description, as a new offer.
  virtual std::string on_offer_requested(CallHandle call) = 0;
  // DTMF from SIP INFO (application/dtmf-relay or application/dtmf).
  virtual void on_dtmf(CallHandle call, char digit, int duration_ms) = 0;
  // RFC 5168: the peer's decoder asks for a full picture (SIP INFO application/media_control+xml
  // with picture_fast_update), the way endpoints without RTCP feedback ask for a keyframe.
  virtual void on_picture_fast_update(CallHandle /*call*/) {}
  // The call is over: BYE from either side, CANCEL, no ACK, session timer expiry, shutdown; for an
  // early call also its final response (ours, or the UA's after early_media_timeout).
  // Called exactly once for each call that on_incoming_call accepted (status 2xx or 183).
  virtual void on_call_ended(CallHandle call, std::string_view reason) = 0;

  // Dial-out (UserAgent::dial, RFC 3261 §13.2). The callee answered 2xx; `sdp` is its answer to our
  // offer (nullopt: the 2xx had none). The UA has ACKed it; false ends the call with BYE (and
  // on_call_ended follows). From true on, the call is like any other and ends with on_call_ended.
  virtual bool on_outgoing_answered(CallHandle /*call*/, const std::optional<std::string>& /*sdp*/) { return false; }
  // The dial ended without a call: a final non-2xx (the transaction ACKed it, §17.1.1.3), no answer
  // (408 after CANCEL, §9.1), Timer B (408) or a transport failure (503). Called once per dial.
  virtual void on_outgoing_failed(CallHandle /*call*/, int /*status*/, std::string_view /*reason*/) {}
};

}  // namespace chorus::sip
