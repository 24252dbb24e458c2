// The state the UserAgent keeps for an INVITE it sent and that has no final response yet (private
// to signaling/ua; see user_agent_outgoing.cpp).
#pragma once

#include <string>

#include "signaling/ua/user_agent.hpp"

namespace chorus::sip {

struct UserAgent::Outgoing {
  CallHandle handle = 0;
  OutgoingCallRequest request;
  std::string call_id;     // chosen at dial(), before any DNS answer
  bool resolving = false;  // the target's name is being looked up; no INVITE sent yet
  SipMessage invite;       // as sent, typed fields filled: the CANCEL (§9.1) and the dialog (§12.1.2) need it
  PeerAddress hop;
  bool provisional_seen = false;
  // §9.1: a CANCEL is wanted (no answer, hung up) and is sent once a provisional response came.
  bool cancel_wanted = false;
  bool cancel_sent = false;
  int fail_status = 0;  // what the failure reports once we gave up: 408 no answer, 487 hung up
  std::string fail_reason;
  TimerQueue::TimerId no_answer_timer = TimerQueue::kNoTimer;
};

}  // namespace chorus::sip
