#include "signaling/transaction/client_invite_transaction.hpp"

#include <string>
#include <utility>

#include "common/log.hpp"

namespace chorus::sip {
namespace {

// RFC 3261 §17.1.1.2 and Table 4: Timer D is at least 32 s on unreliable transports, 0 on reliable.
constexpr Millis kTimerD{32'000};
// RFC 3261 gives Proceeding no timer: a peer that answers 100 and then nothing would keep the
// transaction (and a re-INVITE's dialog state) forever. As a proxy's Timer C does (§16.6 step 11,
// "greater than 3 minutes", restarted by each provisional), the TU hears a 408 instead. Dial-outs
// CANCEL well before (UserAgentConfig::no_answer_timeout, 60 s). Found by sip_stack_fuzz.
constexpr Millis kTimerC{181'000};

}  // namespace

ClientInviteTransaction::ClientInviteTransaction(const TransactionContext& context, TransactionId id,
                                                 SipMessage request, const PeerAddress& destination,
                                                 ResponseCallback on_response)
    : ClientTransaction(context, id, std::move(request), destination, std::move(on_response)),
      timer_a_(context.timers),
      timer_b_(context.timers),
      timer_c_(context.timers),
      timer_d_(context.timers) {}

void ClientInviteTransaction::start() {
  if (!send_request()) {
    report_transport_failure_later();
    return;
  }
  // RFC 3261 §17.1.1.2: Timer A only on unreliable transports; Timer B always.
  if (!reliable()) {
    timer_a_interval_ = context_.config.t1;
    timer_a_.start(timer_a_interval_, [this] { on_timer_a(); });
  }
  timer_b_.start(64 * context_.config.t1, [this] { on_timer_b(); });
}

void ClientInviteTransaction::on_timer_a() {
  if (state_ != State::kCalling) return;
  if (!send_request()) {  // §17.1.4: transport failure
    report_local(503);
    enter_terminated();
    return;
  }
  // RFC 3261 §17.1.1.2: Timer A doubles each time, with no T2 cap for INVITE.
  timer_a_interval_ *= 2;
  timer_a_.start(timer_a_interval_, [this] { on_timer_a(); });
}

void ClientInviteTransaction::on_timer_b() {
  if (state_ != State::kCalling && state_ != State::kProceeding) return;
  // RFC 3261 §17.1.1.2: Timer B → the TU is told of a timeout (a 408, §8.1.3.1); Timer C likewise.
  CHORUS_LOG(kInfo, "sip", "INVITE client transaction timed out", {"call_id", request_.call_id},
             {"state", state_ == State::kCalling ? "calling" : "proceeding"});
  report_local(408);
  enter_terminated();
}

void ClientInviteTransaction::on_cancel_sent() {
  // RFC 3261 §9.1: in Calling, Timer B already bounds the wait.
  if (state_ == State::kProceeding) timer_b_.start(64 * context_.config.t1, [this] { on_timer_b(); });
}

void ClientInviteTransaction::on_response(const SipMessage& response) {
  const int status = response.status;
  if (state_ == State::kCompleted) {
    // RFC 3261 §17.1.1.2: a retransmitted final response gets the ACK again and goes no further.
    if (status >= 300 && ack_) context_.sender.send_request(*ack_, destination());
    return;
  }
  if (state_ == State::kTerminated) return;
  if (is_provisional(status)) {
    // RFC 3261 §17.1.1.2: Proceeding stops retransmissions; Timer B governs Calling only (and the
    // wait after a CANCEL). Timer C (kTimerC) bounds Proceeding, restarted by each provisional.
    if (state_ == State::kCalling) {
      state_ = State::kProceeding;
      timer_a_.stop();
      timer_b_.stop();
    }
    timer_c_.start(kTimerC, [this] { on_timer_b(); });
    report(response);
  } else if (is_success(status)) {
    // RFC 3261 §17.1.1.2: a 2xx ends the transaction; the TU ACKs it (§13.2.2.4).
    enter_terminated();
    report(response);
  } else if (status >= 300 && status < 700) {
    enter_completed(response);
  }
}

void ClientInviteTransaction::enter_completed(const SipMessage& response) {
  state_ = State::kCompleted;
  timer_a_.stop();
  timer_b_.stop();
  timer_c_.stop();
  ack_ = std::make_unique<SipMessage>(make_non_2xx_ack(request_, response));
  context_.sender.send_request(*ack_, destination());
  report(response);
  // RFC 3261 §17.1.1.2: Timer D absorbs retransmitted finals; zero on reliable transports.
  linger(timer_d_, reliable() ? Millis{0} : kTimerD, [this] { enter_terminated(); });
}

void ClientInviteTransaction::enter_terminated() {
  state_ = State::kTerminated;
  timer_a_.stop();
  timer_b_.stop();
  timer_c_.stop();
  timer_d_.stop();
  terminate();
}

SipMessage make_non_2xx_ack(const SipMessage& invite, const SipMessage& response) {
  SipMessage ack;
  ack.is_request = true;
  ack.method = "ACK";
  ack.request_uri_text = invite.request_uri_text;
  ack.request_uri = invite.request_uri;
  // §17.1.1.3: one Via, equal to the top Via of the original request (so the same branch).
  if (const std::string* via = invite.header("Via")) {
    ack.add_header("Via", *via);
  } else if (!invite.vias.empty()) {
    ack.add_header("Via", invite.vias.front().to_string());
  }
  // §17.1.1.3: the Route headers of the original request.
  for (std::string_view route : invite.header_values("Route")) ack.add_header("Route", std::string(route));
  ack.add_header("Max-Forwards", "70");
  if (const std::string* from = invite.header("From")) ack.add_header("From", *from);
  // §17.1.1.3: To equals the To of the response being acknowledged (it carries the tag).
  if (const std::string* to = response.header("To")) {
    ack.add_header("To", *to);
  } else {
    ack.add_header("To", response.to.to_string());
  }
  if (const std::string* call_id = invite.header("Call-ID")) ack.add_header("Call-ID", *call_id);
  ack.add_header("CSeq", std::to_string(invite.cseq.number) + " ACK");

  if (!invite.vias.empty()) ack.vias.push_back(invite.vias.front());
  ack.from = invite.from;
  ack.to = response.to;
  ack.call_id = invite.call_id;
  ack.cseq = CSeq{invite.cseq.number, "ACK"};
  ack.max_forwards = 70;
  return ack;
}

}  // namespace chorus::sip
