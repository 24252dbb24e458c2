#include "signaling/transaction/server_invite_transaction.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace chorus::sip {

ServerInviteTransaction::ServerInviteTransaction(const TransactionContext& context, TransactionId id,
                                                 const PeerAddress& source)
    : ServerTransaction(context, id, source),
      timer_g_(context.timers),
      timer_h_(context.timers),
      timer_i_(context.timers),
      timer_l_(context.timers) {}

void ServerInviteTransaction::start(const SipMessage& invite) const {
  // RFC 3261 §17.2.1: the 100 stops the client's Timer A. A send failure here is left for the
  // TU's own response to discover, so the TU always learns of the request it is told about.
  context_.sender.send_response(make_response(invite, 100), source());
}

ServerTransaction::RequestOutcome ServerInviteTransaction::on_request(const SipMessage& request,
                                                                      const PeerAddress& source) {
  if (request.method == "ACK") {
    switch (state_) {
      case State::kCompleted:
        // RFC 3261 §17.2.1: the ACK for our non-2xx final; Timer I absorbs further ACKs.
        state_ = State::kConfirmed;
        timer_g_.stop();
        timer_h_.stop();
        linger(timer_i_, reliable() ? Millis{0} : Millis{context_.config.t4}, [this] { enter_terminated(false); });
        return RequestOutcome::kAbsorbed;
      case State::kAccepted:
        // RFC 6026 §7.1: the ACK for a 2xx belongs to the TU.
        return RequestOutcome::kPassAckToTu;
      default:
        return RequestOutcome::kAbsorbed;
    }
  }
  update_source(source);
  // RFC 3261 §17.2.1: a retransmitted INVITE gets the latest provisional (Proceeding) or the
  // final response (Completed) again. RFC 6026 §7.1: Accepted absorbs it; only the TU, which keeps
  // the 2xx, may answer it.
  if (state_ == State::kAccepted) return RequestOutcome::kRetransmittedAfter2xx;
  if (state_ == State::kProceeding || state_ == State::kCompleted) {
    if (last_response_) {
      send_or_end(*last_response_);
    } else if (state_ == State::kProceeding) {
      send_or_end(make_response(request, 100));  // the TU has not answered yet
    }
  }
  return RequestOutcome::kAbsorbed;
}

bool ServerInviteTransaction::respond(const SipMessage& response) {
  const int status = response.status;
  if (response.is_request || status < 100 || status > 699 || terminated()) return false;
  if (state_ == State::kAccepted) {
    // RFC 6026 §7.1: further 2xx responses from the TU pass straight to the transport.
    return is_success(status) && send_or_end(response);
  }
  if (state_ != State::kProceeding) return false;
  if (!send_or_end(response)) return false;
  if (is_provisional(status)) {
    keep(response);
  } else if (is_success(status)) {
    // RFC 6026 §7.1: Accepted; Timer L keeps absorbing INVITE retransmissions.
    state_ = State::kAccepted;
    last_response_.reset();
    accepted_to_tag_ = to_tag_of(response);  // §9.2: a late CANCEL's 200 carries the same tag
    timer_l_.start(64 * context_.config.t1, [this] { enter_terminated(false); });
  } else {
    // RFC 3261 §17.2.1: Completed; Timer G re-sends on unreliable transports, Timer H gives up.
    state_ = State::kCompleted;
    keep(response);
    if (!reliable()) {
      timer_g_interval_ = context_.config.t1;
      timer_g_.start(timer_g_interval_, [this] { on_timer_g(); });
    }
    timer_h_.start(64 * context_.config.t1, [this] { on_timer_h(); });
  }
  return true;
}

void ServerInviteTransaction::on_timer_g() {
  if (state_ != State::kCompleted || !last_response_) return;
  if (!send_or_end(*last_response_)) return;
  // RFC 3261 §17.2.1: Timer G doubles up to T2.
  timer_g_interval_ = std::min(2 * timer_g_interval_, Millis{context_.config.t2});
  timer_g_.start(timer_g_interval_, [this] { on_timer_g(); });
}

void ServerInviteTransaction::on_timer_h() {
  if (state_ != State::kCompleted) return;
  // RFC 3261 §17.2.1: no ACK within 64*T1; the TU is told the transaction timed out.
  CHORUS_LOG(kInfo, "sip", "INVITE server transaction got no ACK (Timer H)", {"transaction", id()});
  enter_terminated(true);
}

void ServerInviteTransaction::keep(const SipMessage& response) {
  if (last_response_) {
    *last_response_ = response;  // reuses the earlier copy's storage
  } else {
    last_response_ = std::make_unique<SipMessage>(response);
  }
}

bool ServerInviteTransaction::send_or_end(const SipMessage& response) {
  if (send(response)) return true;
  enter_terminated(true);  // RFC 3261 §17.2.4: the TU learns of the transport failure
  return false;
}

void ServerInviteTransaction::enter_terminated(bool timed_out) {
  state_ = State::kTerminated;
  timer_g_.stop();
  timer_h_.stop();
  timer_i_.stop();
  timer_l_.stop();
  terminate(timed_out);
}

std::string ServerInviteTransaction::last_response_to_tag() const {
  return last_response_ ? to_tag_of(*last_response_) : accepted_to_tag_;
}

}  // namespace chorus::sip
