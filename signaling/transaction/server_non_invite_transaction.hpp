// ServerNonInviteTransaction: RFC 3261 §17.2.2 (Figure 8). Threading: control loop only.
//
//   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer J──▶ Terminated
//   (200-699 from Trying too.) A retransmitted request is absorbed in Trying and answered with
//   the last response in Proceeding and Completed; Timer J is 64*T1 unreliable, 0 reliable.
#pragma once

#include <cstdint>
#include <memory>

#include "signaling/transaction/transaction.hpp"

namespace chorus::sip {

class ServerNonInviteTransaction final : public ServerTransaction {
 public:
  enum class State : std::uint8_t { kTrying, kProceeding, kCompleted, kTerminated };

  ServerNonInviteTransaction(const TransactionContext& context, TransactionId id, const PeerAddress& source);

  RequestOutcome on_request(const SipMessage& request, const PeerAddress& source) override;
  bool respond(const SipMessage& response) override;
  [[nodiscard]] bool awaiting_final() const override {
    return state_ == State::kTrying || state_ == State::kProceeding;
  }
  [[nodiscard]] bool responded() const override { return state_ != State::kTrying; }

  [[nodiscard]] State state() const { return state_; }

 private:
  void enter_terminated(bool timed_out);

  State state_ = State::kTrying;
  std::unique_ptr<SipMessage> last_response_;  // re-sent for each retransmitted request
  TransactionTimer timer_j_;
};

}  // namespace chorus::sip
