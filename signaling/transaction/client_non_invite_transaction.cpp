#include "signaling/transaction/client_non_invite_transaction.hpp"

#include <algorithm>
#include <utility>

#include "common/log.hpp"

namespace chorus::sip {

ClientNonInviteTransaction::ClientNonInviteTransaction(const TransactionContext& context, TransactionId id,
                                                       SipMessage request, const PeerAddress& destination,
                                                       ResponseCallback on_response)
    : ClientTransaction(context, id, std::move(request), destination, std::move(on_response)),
      timer_e_(context.timers),
      timer_f_(context.timers),
      timer_k_(context.timers) {}

void ClientNonInviteTransaction::start() {
  if (!send_request()) {
    report_transport_failure_later();
    return;
  }
  // RFC 3261 §17.1.2.2: Timer E only on unreliable transports; Timer F always.
  if (!reliable()) {
    timer_e_interval_ = context_.config.t1;
    timer_e_.start(timer_e_interval_, [this] { on_timer_e(); });
  }
  timer_f_.start(64 * context_.config.t1, [this] { on_timer_f(); });
}

void ClientNonInviteTransaction::on_timer_e() {
  if (state_ != State::kTrying && state_ != State::kProceeding) return;
  if (!send_request()) {  // §17.1.4: transport failure
    report_local(503);
    enter_terminated();
    return;
  }
  // RFC 3261 §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it is T2.
  timer_e_interval_ = state_ == State::kTrying ? std::min(2 * timer_e_interval_, Millis{context_.config.t2})
                                               : Millis{context_.config.t2};
  timer_e_.start(timer_e_interval_, [this] { on_timer_e(); });
}

void ClientNonInviteTransaction::on_timer_f() {
  if (state_ != State::kTrying && state_ != State::kProceeding) return;
  // RFC 3261 §17.1.2.2: Timer F → timeout, a 408 to the TU (§8.1.3.1).
  CHORUS_LOG(kInfo, "sip", "non-INVITE client transaction timed out", {"method", request_.method},
             {"call_id", request_.call_id});
  report_local(408);
  enter_terminated();
}

void ClientNonInviteTransaction::on_response(const SipMessage& response) {
  if (state_ != State::kTrying && state_ != State::kProceeding) return;  // Completed absorbs
  if (is_provisional(response.status)) {
    state_ = State::kProceeding;
    report(response);
    return;
  }
  if (!is_final(response.status)) return;
  // RFC 3261 §17.1.2.2: a final response → Completed; Timer K absorbs its retransmissions.
  state_ = State::kCompleted;
  timer_e_.stop();
  timer_f_.stop();
  report(response);
  linger(timer_k_, reliable() ? Millis{0} : Millis{context_.config.t4}, [this] { enter_terminated(); });
}

void ClientNonInviteTransaction::enter_terminated() {
  state_ = State::kTerminated;
  timer_e_.stop();
  timer_f_.stop();
  timer_k_.stop();
  terminate();
}

}  // namespace chorus::sip
