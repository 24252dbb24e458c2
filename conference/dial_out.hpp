// Dial-out, the conference side: what POST /v1/conferences/{id}/participants asks of the
// ConferenceService, and its answer. The SIP part is sip::UserAgent::dial, reached through a
// Dialer the server wires (conference does not know the UA, DESIGN §1).
// Threading: control loop only.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>

#include "conference/egress_policy.hpp"
#include "signaling/ua/outgoing_call.hpp"

namespace chorus::conference {

struct DialOutRequest {
  std::string room_id;
  std::string target;        // sip:/sips: URI of the callee
  std::string display_name;  // the participant's name in the room; may be empty
  // Issue 15: dial through this trunk (conference/trunks/trunk_dial_out.hpp); `target` is then a
  // number (or a SIP URI whose user is one) for the trunk. Empty: `target` is dialled directly.
  std::string trunk_id;
};

enum class DialOutRefusal : std::uint8_t {
  kRoomNotFound,  // no such room
  kRoomLocked,    // locked rooms take nobody new
  kRoomFull,      // participants plus dials in progress reach max_participants
  kBadTarget,     // not a sip:/sips: URI, unknown transport
  kForbidden,     // the egress policy refuses the target (dial_out_allow; loopback, link-local, ...)
  kUnavailable,   // no media ports, the UA refuses (shutting down, too many calls), not wired
};

struct DialOutError {
  DialOutRefusal refusal;
  std::string detail;
};

struct DialOutStarted {
  std::uint64_t participant_id = 0;  // the participant's id once it answers (and the dial's id before)
  sip::CallHandle call = 0;
  std::string call_id;
};

// sip::UserAgent::dial, as the server wires it.
using Dialer = std::function<std::expected<sip::OutgoingCallStarted, std::string>(const sip::OutgoingCallRequest&)>;

}  // namespace chorus::conference
