// The per-call state the UserAgent keeps (private to signaling/ua).
#pragma once

#include <optional>

#include "signaling/ua/user_agent.hpp"

namespace chorus::sip {

struct UserAgent::Call {
  // kEarly: answered 183 with early media (RFC 3960 §3), the final response still ours to send.
  enum class Phase : std::uint8_t { kEarly, kWaitingAck, kConfirmed };

  CallHandle handle = 0;
  Dialog dialog;
  Phase phase = Phase::kWaitingAck;
  std::string peer_allow;  // the peer's Allow header, to pick UPDATE or re-INVITE for refreshes
  // A dialled call's Digest credentials: a 401/407 to a request we send in the dialog is answered
  // with them (user_agent_dialog.cpp, RFC 3261 §22.3).
  std::optional<DigestCredentials> credentials;
  // The source IP this incoming call is counted against (max_calls_per_source); empty: not counted.
  std::optional<boost::asio::ip::address> counted_source;

  // A 2xx to an INVITE (initial or re-INVITE) that waits for its ACK (§13.3.1.4).
  std::optional<SipMessage> unacked_2xx;
  std::uint32_t unacked_cseq = 0;
  PeerAddress unacked_source;
  // The reflection budget while unacked_source is unverified (user_agent_ack.cpp), in wire bytes:
  // the 2xx's size (0 when the source was verified as it was sent), what the source sent for this
  // INVITE (retransmissions included) and what we sent it.
  std::size_t unacked_2xx_size = 0;
  std::size_t reflection_bytes_in = 0;
  std::size_t reflection_bytes_out = 0;
  bool answer_expected_in_ack = false;  // our 2xx carried an offer (RFC 3264 §4, INVITE without SDP)
  Millis retransmit_interval{0};
  TimerQueue::TimerId retransmit_timer = TimerQueue::kNoTimer;
  TimerQueue::TimerId ack_timer = TimerQueue::kNoTimer;

  // Our own re-INVITE or UPDATE (session refresh) in progress, and the ACK we sent for its 2xx.
  bool own_request_pending = false;
  std::optional<SipMessage> last_ack;
  std::uint32_t last_ack_cseq = 0;

  SessionTimerOutcome session;
  TimerQueue::TimerId session_timer = TimerQueue::kNoTimer;

  // The INVITE's server transaction: for early media (user_agent_early.cpp) it stays in Proceeding
  // until the final response; after a 2xx, until the ACK, its retransmissions are reported to us.
  // Then the early INVITE itself and the bound on how long early media may take.
  TransactionId invite_transaction = 0;
  std::optional<SipMessage> early_invite;
  TimerQueue::TimerId early_timer = TimerQueue::kNoTimer;
};

}  // namespace chorus::sip
