// UserAgent: requests inside an established dialog (RFC 3261 §12.2.2, §14, §15; RFC 3311); INFO is in
// user_agent_info.cpp (RFC 6086). And for those we send in a dialled call with credentials, the
// answer to a 401/407 (§22.3).
#include <algorithm>

#include "common/log.hpp"
#include "signaling/auth/digest.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"

namespace chorus::sip {

void UserAgent::on_in_dialog_request(TransactionId id, const SipMessage& request, const PeerAddress& source,
                                     Call& call) {
  const std::string& to_tag = call.dialog.id().local_tag;
  // §12.2.2: a lower CSeq than the last one seen is out of order.
  if (!call.dialog.accept_remote_cseq(request.cseq.number)) {
    respond(id, request, 500, "Out Of Order CSeq", {}, to_tag);
    return;
  }
  if (request.method == "BYE") {
    respond(id, request, 200, {}, {}, to_tag);
    end_call(call.handle, "BYE from caller", false);
  } else if (request.method == "INVITE") {
    on_reinvite(id, request, source, call);
  } else if (request.method == "UPDATE") {
    on_update(id, request, call);
  } else if (request.method == "INFO") {
    on_info(id, request, call);
  } else if (request.method == "OPTIONS") {
    SipMessage response = response_for(request, 200, to_tag);
    add_capabilities(response);
    transactions_->respond(id, response);
  } else if (!dispatch_to_handler(id, request, source, call.handle, to_tag)) {
    respond(id, request, 405, {}, {{"Allow", extensions_.allow}}, to_tag);
  }
}

SipMessage UserAgent::answer_offer(const SipMessage& request, Call& call, bool in_invite) {
  const std::string& to_tag = call.dialog.id().local_tag;
  const SessionTimerOutcome session = negotiate_session_timer(request, config_.session_timer);
  if (session.too_small) {
    SipMessage r = response_for(request, 422, to_tag, "Session Interval Too Small");
    for (const auto& h : session.response_headers()) r.add_header(h.name, h.value);
    return r;
  }
  std::optional<std::string> offer = sdp_body_of(request);
  std::string body;
  if (offer) {
    OfferDecision decision = listener_.on_remote_offer(call.handle, *offer);
    if (decision.status < 200 || decision.status >= 300) {
      // RFC 3264 §8: a rejected re-offer leaves the session as it was.
      SipMessage r = response_for(request, decision.status < 200 ? 500 : decision.status, to_tag, decision.reason);
      for (const auto& h : decision.extra_headers) r.add_header(h.name, h.value);
      return r;
    }
    body = std::move(decision.sdp);
  } else if (in_invite) {
    body = listener_.on_offer_requested(call.handle);  // offer in the 2xx, answer in the ACK
  }
  call.dialog.refresh_remote_target(request);  // §12.2: re-INVITE and UPDATE are target refreshes
  SipMessage ok = response_for(request, 200, to_tag);
  ok.add_header("Contact", contact_for(call.dialog.flow().kind));
  add_capabilities(ok);
  for (const auto& h : session.response_headers()) ok.add_header(h.name, h.value);
  if (!body.empty()) {
    ok.add_header("Content-Type", "application/sdp");
    ok.body = std::move(body);
  }
  call.session = session;
  return ok;
}

void UserAgent::on_reinvite(TransactionId id, const SipMessage& request, const PeerAddress& source, Call& call) {
  const std::string& to_tag = call.dialog.id().local_tag;
  // §14.2: one INVITE at a time per dialog. Ours pending → 491; theirs not yet ACKed → 500.
  if (call.own_request_pending) {
    respond(id, request, 491, "Request Pending", {}, to_tag);
    return;
  }
  if (call.unacked_2xx) {
    respond(id, request, 500, "Previous INVITE Not Yet Acknowledged", {{"Retry-After", "1"}}, to_tag);
    return;
  }
  SipMessage response = answer_offer(request, call, true);
  if (response.status != 200) {
    transactions_->respond(id, response);
    return;
  }
  call.answer_expected_in_ack = !sdp_body_of(request).has_value();
  timers_.cancel(call.session_timer);  // re-armed when the ACK arrives
  call.session_timer = TimerQueue::kNoTimer;
  send_invite_2xx(id, call, std::move(response), source, request.wire_size);
}

void UserAgent::on_update(TransactionId id, const SipMessage& request, Call& call) {
  // RFC 3311 §5.2: an UPDATE with an offer while another offer is outstanding gets 491 (ours) / 500.
  if (sdp_body_of(request) && (call.own_request_pending || call.answer_expected_in_ack)) {
    respond(id, request, call.own_request_pending ? 491 : 500, {}, {}, call.dialog.id().local_tag);
    return;
  }
  SipMessage response = answer_offer(request, call, false);
  transactions_->respond(id, response);
  if (response.status == 200) apply_session_timer(call, call.session);
}

ResponseCallback UserAgent::answer_dialog_challenges(const Call& call, const SipMessage& request,
                                                     ResponseCallback on_response) {
  // Runs when the final response comes, maybe after the call is gone (a BYE): it holds what it needs
  // by value and finds the call again by handle. A request is answered once, for its first challenge.
  return [this, handle = call.handle, credentials = *call.credentials, request, fallback_hop = call.dialog.next_hop(),
          inner = std::move(on_response)](const SipMessage& response) mutable {
    const bool challenged = (response.status == 401 || response.status == 407) && response.wire_size != 0;
    std::optional<DigestChallenge> challenge;
    if (challenged) challenge = pick_challenge(response);
    if (!challenge) {
      if (inner) inner(response);
      return;
    }
    SipMessage again = request;
    again.remove_header("Authorization");
    again.remove_header("Proxy-Authorization");
    // §22.3, §12.2.1.1: the same request with the dialog's next CSeq (a call already ended — the BYE
    // that ended it — has no dialog left: one more than the challenged request's).
    std::uint32_t cseq = response.cseq.number + 1;
    PeerAddress hop = fallback_hop;
    if (Call* live = find_call(handle)) {
      const SipMessage next = live->dialog.make_request(again.method, {});  // takes the dialog's next CSeq
      if (const std::string* value = next.header("CSeq"))
        if (auto parsed = parse_cseq(*value)) cseq = parsed->number;
      hop = live->dialog.next_hop();
    }
    if (auto parsed = parse_cseq(std::to_string(cseq) + " " + again.method)) again.cseq = *parsed;
    again.set_header("CSeq", std::to_string(cseq) + " " + again.method);
    again.add_header(std::string(digest_response_header_name(*challenge)),
                     digest_response_header(*challenge, credentials, again.method, again.request_uri_text, 1));
    again.vias.clear();
    CHORUS_LOG(kInfo, "sip", "in-dialog request challenged, sending credentials", {"method", again.method},
               {"status", response.status}, {"realm", challenge->realm});
    stamp_via(again, hop);
    // The answer to the re-sent request goes straight to the caller's callback: not answered twice.
    transactions_->send_request(std::move(again), hop, [inner = std::move(inner)](const SipMessage& final) {
      if (inner) inner(final);
    });
  };
}

}  // namespace chorus::sip
