// ClientInviteTransaction: RFC 3261 §17.1.1 (Figure 5). Threading: control loop only.
//
//   Calling ──1xx──▶ Proceeding ──300-699──▶ Completed ──Timer D──▶ Terminated
//      │  Timer A: retransmit (unreliable only)   │ 2xx: to the TU, then Terminated; later 2xx
//      │  Timer B: local 408                      │ retransmissions arrive as stray responses
//      └──300-699 / 2xx (as from Proceeding)
//
// In Completed the ACK built per §17.1.1.3 is re-sent for every retransmitted final response.
#pragma once

#include <cstdint>
#include <memory>

#include "signaling/transaction/transaction.hpp"

namespace chorus::sip {

class ClientInviteTransaction final : public ClientTransaction {
 public:
  enum class State : std::uint8_t { kCalling, kProceeding, kCompleted, kTerminated };

  ClientInviteTransaction(const TransactionContext& context, TransactionId id, SipMessage request,
                          const PeerAddress& destination, ResponseCallback on_response);

  void start() override;
  void on_response(const SipMessage& response) override;
  // RFC 3261 §9.1: once a CANCEL is sent, the INVITE is given up if no final response arrives
  // within 64*T1 (reported as a local 408).
  void on_cancel_sent();

  [[nodiscard]] State state() const { return state_; }

 private:
  void on_timer_a();
  void on_timer_b();
  void enter_completed(const SipMessage& response);
  void enter_terminated();

  State state_ = State::kCalling;
  Millis timer_a_interval_{0};
  TransactionTimer timer_a_;
  TransactionTimer timer_b_;
  TransactionTimer timer_c_;  // bounds Proceeding (client_invite_transaction.cpp, kTimerC)
  TransactionTimer timer_d_;
  std::unique_ptr<SipMessage> ack_;  // built once per §17.1.1.3, re-sent for retransmitted finals
};

// RFC 3261 §17.1.1.3: the ACK for a non-2xx final `response` to `invite` (whose typed fields are
// filled): same Request-URI, Call-ID, From, CSeq number and Route headers, the To of the response,
// and a single Via equal to the INVITE's top Via.
SipMessage make_non_2xx_ack(const SipMessage& invite, const SipMessage& response);

}  // namespace chorus::sip
