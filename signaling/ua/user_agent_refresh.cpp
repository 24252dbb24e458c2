// UserAgent: session timers (RFC 4028 §10) — refreshing when we are the refresher, ending the call
// with BYE when the other side stops refreshing.
#include "common/ascii.hpp"
#include "common/log.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"

namespace chorus::sip {

void UserAgent::apply_session_timer(Call& call, const SessionTimerOutcome& outcome) {
  timers_.cancel(call.session_timer);
  call.session_timer = TimerQueue::kNoTimer;
  call.session = outcome;
  if (!outcome.interval) return;
  const CallHandle handle = call.handle;
  const Millis after = outcome.we_refresh ? outcome.refresh_after() : outcome.expire_after();
  call.session_timer = timers_.schedule(after, [this, handle] { on_session_timer(handle); });
}

void UserAgent::on_session_timer(CallHandle handle) {
  Call* call = find_call(handle);
  if (!call) return;
  call->session_timer = TimerQueue::kNoTimer;
  if (!call->session.we_refresh) {
    CHORUS_LOG(kInfo, "sip", "session timer expired without refresh", {"call_id", call->dialog.id().call_id});
    end_call(handle, "session expired", true);  // RFC 4028 §10: send BYE
    return;
  }
  if (call->own_request_pending || call->unacked_2xx) {  // a transaction is under way: try again soon
    call->session_timer = timers_.schedule(Millis(2000), [this, handle] { on_session_timer(handle); });
    return;
  }
  send_refresh(*call);
}

void UserAgent::send_refresh(Call& call) {
  // RFC 4028 §7.4: UPDATE when the peer allows it (no new offer needed), else re-INVITE with our SDP.
  const bool use_update = ascii_lowercase(call.peer_allow).find("update") != std::string::npos;
  SipMessage request = call.dialog.make_request(use_update ? "UPDATE" : "INVITE", contact_for(call.dialog.flow().kind));
  // §7.4: the refresher parameter names a role in this request; we send it and stay the refresher.
  request.add_header("Session-Expires", std::to_string(*call.session.interval) + ";refresher=uac");
  request.add_header("Supported", std::string(kSupportedExtensions));
  request.add_header("Allow", extensions_.allow);
  if (!use_update) {
    request.add_header("Content-Type", "application/sdp");
    request.body = listener_.on_offer_requested(call.handle);
  }
  const std::uint32_t cseq = call.dialog.local_cseq();
  const CallHandle handle = call.handle;
  call.own_request_pending = true;
  send_in_dialog(call, std::move(request), [this, handle, cseq, use_update](const SipMessage& response) {
    Call* c = find_call(handle);
    if (!c || response.status < 200) return;
    c->own_request_pending = false;
    if (response.status >= 300) {
      // RFC 4028 §10: a refresh answered 408 or 481 means the session is gone.
      if (response.status == 408 || response.status == 481) {
        end_call(handle, "session refresh failed", response.status != 481);
        return;
      }
      apply_session_timer(*c, c->session);  // keep the session; try again at the next interval
      return;
    }
    if (!use_update) {  // §13.2.2.4: the 2xx to our re-INVITE is ACKed outside the transaction
      // The 2xx's CSeq: a re-INVITE re-sent with credentials (§22.3) has a higher one than `cseq`.
      const std::uint32_t acked = std::max(cseq, response.cseq.number);
      SipMessage ack = c->dialog.make_ack(acked, {});
      const PeerAddress hop = c->dialog.next_hop();
      stamp_via(ack, hop);
      transactions_->send_stateless(ack, hop);
      c->last_ack = std::move(ack);
      c->last_ack_cseq = acked;
      if (auto answer = sdp_body_of(response); answer && !listener_.on_remote_answer(handle, *answer)) {
        end_call(handle, "no acceptable answer to refresh", true);
        return;
      }
    }
    apply_session_timer(*c, c->session);
  });
}

}  // namespace chorus::sip
