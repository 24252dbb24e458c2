#include "signaling/transaction/server_non_invite_transaction.hpp"

namespace chorus::sip {

ServerNonInviteTransaction::ServerNonInviteTransaction(const TransactionContext& context, TransactionId id,
                                                       const PeerAddress& source)
    : ServerTransaction(context, id, source), timer_j_(context.timers) {}

ServerTransaction::RequestOutcome ServerNonInviteTransaction::on_request(const SipMessage& /*request*/,
                                                                         const PeerAddress& source) {
  update_source(source);
  // RFC 3261 §17.2.2: Trying discards retransmissions; Proceeding and Completed re-send the last
  // response.
  if (state_ != State::kTrying && state_ != State::kTerminated && last_response_ && !send(*last_response_)) {
    enter_terminated(true);  // §17.2.4
  }
  return RequestOutcome::kAbsorbed;
}

bool ServerNonInviteTransaction::respond(const SipMessage& response) {
  const int status = response.status;
  if (response.is_request || status < 100 || status > 699 || !awaiting_final() || terminated()) return false;
  if (!send(response)) {
    enter_terminated(true);  // §17.2.4
    return false;
  }
  if (is_provisional(status)) {
    state_ = State::kProceeding;
    last_response_ = std::make_unique<SipMessage>(response);
    return true;
  }
  state_ = State::kCompleted;
  if (reliable()) {
    // RFC 3261 §17.2.2: Timer J is 0 on reliable transports; nothing is retransmitted to us.
    enter_terminated(false);
    return true;
  }
  // RFC 3261 §17.2.2: Timer J (64*T1) keeps answering retransmissions with the final response.
  last_response_ = std::make_unique<SipMessage>(response);
  timer_j_.start(64 * context_.config.t1, [this] { enter_terminated(false); });
  return true;
}

void ServerNonInviteTransaction::enter_terminated(bool timed_out) {
  state_ = State::kTerminated;
  timer_j_.stop();
  terminate(timed_out);
}

}  // namespace chorus::sip
