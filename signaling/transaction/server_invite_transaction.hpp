// ServerInviteTransaction: RFC 3261 §17.2.1 (Figure 7) with the Accepted state of RFC 6026 §7.1.
// Threading: control loop only.
//
//   Proceeding ──300-699──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
//      │ 100 Trying unless the   │ Timer G: re-send final (unreliable only)
//      │ TU answered at once     │ Timer H: Terminated, the TU is told "timed out"
//      └──2xx──▶ Accepted ──Timer L──▶ Terminated
//                 INVITE retransmissions absorbed (the TU re-sends its 2xx, §13.3.1.4);
//                 ACKs and further 2xx pass through.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "signaling/transaction/transaction.hpp"

namespace chorus::sip {

class ServerInviteTransaction final : public ServerTransaction {
 public:
  enum class State : std::uint8_t { kProceeding, kCompleted, kConfirmed, kAccepted, kTerminated };

  ServerInviteTransaction(const TransactionContext& context, TransactionId id, const PeerAddress& source);

  // RFC 3261 §17.2.1: sends 100 Trying. The layer calls it right after the TU has seen the INVITE,
  // unless the TU already answered (then its response has stopped the client's Timer A).
  void start(const SipMessage& invite) const;

  RequestOutcome on_request(const SipMessage& request, const PeerAddress& source) override;
  bool respond(const SipMessage& response) override;
  [[nodiscard]] bool awaiting_final() const override { return state_ == State::kProceeding; }
  [[nodiscard]] bool responded() const override { return last_response_ != nullptr || state_ != State::kProceeding; }

  [[nodiscard]] State state() const { return state_; }
  // The To tag of the last response that will be re-sent ("" when none): §9.2 gives the 200 to a
  // CANCEL this tag, and §17.2.3 matches an RFC 2543 ACK by it.
  [[nodiscard]] std::string last_response_to_tag() const;

 private:
  void on_timer_g();
  void on_timer_h();
  bool send_or_end(const SipMessage& response);
  void keep(const SipMessage& response);
  void enter_terminated(bool timed_out);

  State state_ = State::kProceeding;
  // The latest provisional or non-2xx final response from the TU: what a retransmitted INVITE
  // gets again. Held by pointer, so the many transactions lingering in Accepted stay small; our
  // own 100 Trying is not kept, it is made again from the retransmission.
  std::unique_ptr<SipMessage> last_response_;
  std::string accepted_to_tag_;  // the To tag of the 2xx that moved us to Accepted
  Millis timer_g_interval_{0};
  TransactionTimer timer_g_;
  TransactionTimer timer_h_;
  TransactionTimer timer_i_;
  TransactionTimer timer_l_;
};

}  // namespace chorus::sip
