// ClientNonInviteTransaction: RFC 3261 §17.1.2 (Figure 6). Threading: control loop only.
//
//   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
//     Timer E: retransmit (unreliable only; T1 doubling up to T2, every T2 in Proceeding)
//     Timer F: local 408 in Trying or Proceeding
#pragma once

#include <cstdint>

#include "signaling/transaction/transaction.hpp"

namespace chorus::sip {

class ClientNonInviteTransaction final : public ClientTransaction {
 public:
  enum class State : std::uint8_t { kTrying, kProceeding, kCompleted, kTerminated };

  ClientNonInviteTransaction(const TransactionContext& context, TransactionId id, SipMessage request,
                             const PeerAddress& destination, ResponseCallback on_response);

  void start() override;
  void on_response(const SipMessage& response) override;

  [[nodiscard]] State state() const { return state_; }

 private:
  void on_timer_e();
  void on_timer_f();
  void enter_terminated();

  State state_ = State::kTrying;
  Millis timer_e_interval_{0};
  TransactionTimer timer_e_;
  TransactionTimer timer_f_;
  TransactionTimer timer_k_;
};

}  // namespace chorus::sip
