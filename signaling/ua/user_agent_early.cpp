// UserAgent: early media as a UAS (RFC 3960 §3, the "gateway model"; RFC 3261 §13.3.1.1).
//
// A listener that decides 183 for an INVITE with an offer gets a 183 Session Progress carrying its
// SDP answer, with the To tag and Contact that make an early dialog (§12.1.1). The 183 is sent
// unreliably (no 100rel): the INVITE server transaction keeps it in Proceeding and re-sends it only
// when the INVITE is retransmitted. Media flows on the answer meanwhile. The call then ends with a
// final non-2xx: the listener's (reject_after_early_media), 487 after a CANCEL (§9.2), 487 after a
// BYE on the early dialog (§15.1.2), or 480 after early_media_timeout; the transaction retransmits
// that response and absorbs its ACK (§17.2.1). The listener hears on_call_ended once, in each case.
// Threading: control loop only, like the rest of the UserAgent.
#include "common/log.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"

namespace chorus::sip {

void UserAgent::answer_early(TransactionId id, const SipMessage& invite, const PeerAddress& source,
                             std::unique_ptr<Call> call, CallDecision decision) {
  SipMessage progress = response_for(invite, 183, call->dialog.id().local_tag, "Session Progress");
  // §12.1.1: a dialog-creating provisional response copies Record-Route and carries our Contact.
  for (auto rr : invite.header_values("Record-Route")) progress.add_header("Record-Route", std::string(rr));
  progress.add_header("Contact", contact_for(source.kind));
  add_capabilities(progress);
  for (const auto& h : decision.extra_headers) progress.add_header(h.name, h.value);
  progress.add_header("Content-Type", "application/sdp");
  progress.body = std::move(decision.sdp);

  Call& ref = *call;
  const CallHandle handle = ref.handle;
  ref.phase = Call::Phase::kEarly;
  ref.invite_transaction = id;
  early_calls_.insert(ref.handle);
  ref.early_invite = invite;
  // Without 100rel nothing bounds an early INVITE (Timer C is a proxy's, §16.6): we do.
  ref.early_timer = timers_.schedule(config_.early_media_timeout, [this, handle] {
    Call* c = find_call(handle);
    if (!c || c->phase != Call::Phase::kEarly) return;
    c->early_timer = TimerQueue::kNoTimer;
    CHORUS_LOG(kInfo, "sip", "early media outlasted its bound, sending 480", {"call_id", c->dialog.id().call_id});
    finish_early(handle, 480, "Temporarily Unavailable", {}, "early media timed out");
  });
  count_source(ref, source);
  calls_by_dialog_.emplace(ref.dialog.id().key(), handle);
  calls_.emplace(handle, std::move(call));
  CHORUS_LOG(kInfo, "sip", "call in early media", {"call_id", invite.call_id}, {"user", invite.request_uri.user},
             {"transport", transport_name(source.kind)});
  // A send failure terminates the transaction; on_server_transaction_ended (posted) ends the call.
  transactions_->respond(id, progress);
}

bool UserAgent::reject_after_early_media(CallHandle handle, int status, std::string_view reason,
                                         const std::vector<Header>& headers) {
  Call* call = find_call(handle);
  if (!call || call->phase != Call::Phase::kEarly || status < 300 || status > 699) return false;
  finish_early(handle, status, reason, headers, reason.empty() ? std::string_view("rejected") : reason);
  return true;
}

void UserAgent::finish_early(CallHandle handle, int status, std::string_view reason, const std::vector<Header>& headers,
                             std::string_view why) {
  auto it = calls_.find(handle);
  if (it == calls_.end() || it->second->phase != Call::Phase::kEarly) return;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  calls_by_dialog_.erase(call->dialog.id().key());
  release_source(*call);
  timers_.cancel(call->early_timer);
  if (status != 0 && call->early_invite) {
    // The final response goes in the INVITE's own transaction, which is still in Proceeding: it
    // moves to Completed, retransmits on Timer G and absorbs the ACK (§17.2.1).
    SipMessage final_response = response_for(*call->early_invite, status, call->dialog.id().local_tag, reason);
    for (const auto& h : headers) final_response.add_header(h.name, h.value);
    transactions_->respond(call->invite_transaction, final_response);
  }
  CHORUS_LOG(kInfo, "sip", "early call ended", {"call_id", call->dialog.id().call_id}, {"status", status},
             {"reason", why});
  listener_.on_call_ended(handle, why);
}

void UserAgent::on_early_request(TransactionId id, const SipMessage& request, Call& call) {
  const std::string& to_tag = call.dialog.id().local_tag;
  if (!call.dialog.accept_remote_cseq(request.cseq.number)) {  // §12.2.2
    respond(id, request, 500, "Out Of Order CSeq", {}, to_tag);
    return;
  }
  if (request.method == "BYE") {
    // §15: the caller MAY send BYE on an early dialog. §15.1.2: 200 to the BYE, 487 to the INVITE.
    respond(id, request, 200, {}, {}, to_tag);
    finish_early(call.handle, 487, "Request Terminated", {}, "BYE from caller");
  } else if (request.method == "OPTIONS") {
    SipMessage response = response_for(request, 200, to_tag);
    add_capabilities(response);
    transactions_->respond(id, response);
  } else if (request.method == "INVITE") {
    // §14.2: an INVITE while our response to the first is pending gets 500 with Retry-After.
    respond(id, request, 500, "Previous INVITE Still Pending", {{"Retry-After", "5"}}, to_tag);
  } else {
    // UPDATE and INFO need an offer/answer completed reliably (RFC 3311 §5.1, RFC 6086 §4.3); our
    // 183 is unreliable, so an early dialog takes neither.
    respond(id, request, 403, "Not Allowed In Early Dialog", {}, to_tag);
  }
}

UserAgent::Call* UserAgent::find_early_call(TransactionId invite_transaction) {
  // Every transaction's end asks (issue 13: a scan of all calls here was 6% of the control loop at
  // 5,000 calls/s), and few calls are ever early: only those are looked at, and the ones that have
  // left the early phase or ended are dropped on the way.
  for (auto it = early_calls_.begin(); it != early_calls_.end();) {
    auto found = calls_.find(*it);
    if (found == calls_.end() || found->second->phase != Call::Phase::kEarly) {
      it = early_calls_.erase(it);
      continue;
    }
    if (found->second->invite_transaction == invite_transaction) return found->second.get();
    ++it;
  }
  return nullptr;
}

}  // namespace chorus::sip
