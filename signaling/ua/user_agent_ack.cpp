// UserAgent: the 2xx to an INVITE and its ACK (RFC 3261 §13.3.1.4, RFC 6026 §7.1), with the
// reflection budget for UDP sources that have not proved their address (issue 12).
//
// Over UDP the INVITE's source address may be forged: whoever sent it then aims our 2xx, and every
// retransmission of it, at a victim. RFC 3261 has the 2xx retransmitted at T1, 2·T1, ... up to T2
// until 64·T1, eleven copies of a response with SDP for one INVITE. So until the source is verified
// (it ACKed a 2xx of ours before, or the request came over a connection, or it is trusted), the 2xx
// is sent again only while everything sent for the call stays within kUnverifiedReflectionFactor
// times what the source sent for it: the INVITE and each retransmission of it. A caller whose 2xx
// was lost has had no response at all (a UA that answers at once sends no 100, §17.2.1), so it
// keeps retransmitting the INVITE (Timer A) and each retransmission earns the 2xx once more; a
// forged INVITE earns one 2xx. Once the source is verified (by this call's ACK or another's),
// retransmission follows the RFC schedule again.
#include <algorithm>

#include "common/log.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"

namespace chorus::sip {

void UserAgent::send_invite_2xx(TransactionId id, Call& call, SipMessage response, const PeerAddress& source,
                                std::size_t request_wire_size) {
  transactions_->respond(id, response);
  call.unacked_cseq = response.cseq.number;
  if (call.unacked_cseq == 0) {  // response built from headers: take the number from its CSeq text
    if (const auto* cseq = response.header("CSeq")) {
      if (auto parsed = parse_cseq(*cseq)) call.unacked_cseq = parsed->number;
    }
  }
  // Only a source still to prove its address is held to the budget: only then is the size needed.
  call.unacked_2xx_size = verified(source) ? 0 : response.serialize().size();
  call.unacked_2xx = std::move(response);
  call.unacked_source = source;
  call.reflection_bytes_in = request_wire_size;
  call.reflection_bytes_out = call.unacked_2xx_size;
  call.invite_transaction = id;
  awaiting_ack_[id] = call.handle;
  const TimerConfig& t = transactions_->config();
  const CallHandle handle = call.handle;
  // §13.3.1.4: retransmit at T1, doubling to T2, over unreliable transports; give up after 64*T1.
  if (!is_reliable(source.kind)) {
    call.retransmit_interval = t.t1;
    call.retransmit_timer = timers_.schedule(t.t1, [this, handle] { retransmit_2xx(handle); });
  }
  call.ack_timer = timers_.schedule(64 * t.t1, [this, handle] {
    Call* c = find_call(handle);
    if (!c) return;
    c->ack_timer = TimerQueue::kNoTimer;
    CHORUS_LOG(kWarn, "sip", "no ACK for 2xx, ending call", {"call_id", c->dialog.id().call_id});
    end_call(handle, "no ACK", true);  // §13.3.1.4: the UAS ends the dialog with BYE
  });
}

void UserAgent::retransmit_2xx(CallHandle handle) {
  Call* call = find_call(handle);
  if (!call || !call->unacked_2xx) return;
  send_2xx_again(*call);
  // The timer keeps running while the budget withholds copies: the source may yet prove itself.
  call->retransmit_interval = std::min(call->retransmit_interval * 2, transactions_->config().t2);
  call->retransmit_timer = timers_.schedule(call->retransmit_interval, [this, handle] { retransmit_2xx(handle); });
}

void UserAgent::on_invite_retransmitted(TransactionId id, const SipMessage& invite, const PeerAddress& source) {
  auto it = awaiting_ack_.find(id);
  Call* call = it == awaiting_ack_.end() ? nullptr : find_call(it->second);
  // A verified source gets the RFC schedule from the timer; RFC 6026 §7.1 absorbs its retransmission.
  if (!call || !call->unacked_2xx || verified(call->unacked_source)) return;
  // The caller has seen no response: this retransmission is what pays for the 2xx once more.
  call->reflection_bytes_in += invite.wire_size;
  CHORUS_LOG(kDebug, "sip", "INVITE retransmitted before its ACK", {"call_id", invite.call_id},
             {"source", source.to_string()});
  send_2xx_again(*call);
}

void UserAgent::send_2xx_again(Call& call) {
  if (!verified(call.unacked_source)) {
    // A source verified when the 2xx went out stays verified unless forgotten (max_verified_sources).
    if (call.unacked_2xx_size == 0) call.unacked_2xx_size = call.unacked_2xx->serialize().size();
    if (call.reflection_bytes_out + call.unacked_2xx_size > kUnverifiedReflectionFactor * call.reflection_bytes_in) {
      bump(counters_.retransmissions_withheld);
      return;
    }
    call.reflection_bytes_out += call.unacked_2xx_size;
  }
  transactions_->send_response_stateless(*call.unacked_2xx, call.unacked_source);
}

void UserAgent::forget_unacked_2xx(Call& call) {
  timers_.cancel(call.retransmit_timer);
  timers_.cancel(call.ack_timer);
  call.retransmit_timer = call.ack_timer = TimerQueue::kNoTimer;
  if (call.unacked_2xx) awaiting_ack_.erase(call.invite_transaction);
  call.unacked_2xx.reset();
}

void UserAgent::on_ack(const SipMessage& ack, const PeerAddress& source) {
  Call* call = find_call(DialogId::key_for_incoming(ack));
  if (!call || !call->unacked_2xx || ack.cseq.number != call->unacked_cseq) return;  // stray ACK: ignore
  forget_unacked_2xx(*call);
  call->phase = Call::Phase::kConfirmed;
  remember_verified(source);  // it echoed our To tag: it receives what we send to that address
  if (call->answer_expected_in_ack) {
    call->answer_expected_in_ack = false;
    auto answer = sdp_body_of(ack);
    // RFC 3264 §4 / RFC 3261 §13.2.1: our offer in the 2xx must be answered in the ACK.
    if (!answer || !listener_.on_remote_answer(call->handle, *answer)) {
      CHORUS_LOG(kInfo, "sip", "ACK without an acceptable answer, ending call", {"call_id", ack.call_id});
      end_call(call->handle, "no acceptable answer in ACK", true);
      return;
    }
  }
  listener_.on_acknowledged(call->handle);
  apply_session_timer(*call, call->session);
}

}  // namespace chorus::sip
