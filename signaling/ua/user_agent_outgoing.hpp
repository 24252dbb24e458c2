// The state the UserAgent keeps for a dial that has no final answer yet (private to signaling/ua;
// see user_agent_outgoing.cpp): the hops to walk (RFC 3263 §4.3), the INVITE now in flight, the
// Digest challenges answered so far (RFC 3261 §22) and a CANCEL wanted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "signaling/auth/digest.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::sip {

struct UserAgent::Outgoing {
  CallHandle handle = 0;
  OutgoingCallRequest request;
  std::string call_id;     // chosen at dial(), before any DNS answer
  std::string from;        // From with its tag: the same in every INVITE of the dial (§8.1.3.5, RFC 3263 §4.3)
  bool resolving = false;  // the target is being looked up; no INVITE sent yet
  // RFC 3263 §4.3: where to try, in order; hops[next_hop] is the next after the current one.
  std::vector<PeerAddress> hops;
  std::size_t next_hop = 0;
  PeerAddress hop;         // where the current INVITE went
  std::uint32_t cseq = 1;  // the current INVITE's; +1 for each re-send with credentials (§22.2)
  // Names the current INVITE's client transaction: responses to one we moved on from are ignored.
  std::uint64_t attempt = 0;
  SipMessage invite;              // as sent, typed fields filled: the CANCEL (§9.1) and the dialog (§12.1.2) need it
  bool provisional_seen = false;  // for the current INVITE
  // Challenges answered at the current hop, one per realm and kind (WWW/Proxy), each sent again in
  // every later INVITE (§22.3); a stale=true re-challenge is answered once more.
  struct Answered {
    DigestChallenge challenge;
    std::uint32_t nonce_count = 1;
  };
  std::vector<Answered> answered;
  bool stale_retry_used = false;
  // §9.1: a CANCEL is wanted (no answer, hung up) and is sent once a provisional response came.
  bool cancel_wanted = false;
  bool cancel_sent = false;
  int fail_status = 0;  // what the failure reports once we gave up: 408 no answer, 487 hung up
  std::string fail_reason;
  TimerQueue::TimerId no_answer_timer = TimerQueue::kNoTimer;
};

}  // namespace chorus::sip
