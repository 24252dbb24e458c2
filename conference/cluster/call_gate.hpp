// CallGate: the SIP user agent's CallListener when several nodes share one database (issue 14). It
// stands in front of the ConferenceService and decides, before a room's conference starts here,
// whether it may (DESIGN §7: a live conference lives on exactly one node at a time):
//
//   INVITE for a room with a conference here            → the conference (even while draining)
//   … for a room not live here, while draining           → 503 Draining, Retry-After: drain_retry_after
//   … claimed for this node (placements.hpp)             → the conference; when that answer started
//                                                          nothing (a refusal, early media), released
//   … held by another node's unexpired lease             → 302 Moved Temporarily,
//                                                          Contact: <sip:USER@HOLDER_SIP_ADDRESS>
//                                                          (USER: the Request-URI user as dialled)
//   … the claim failed (database unreachable)            → 503 Service Unavailable, Retry-After:
//                                                          unavailable_retry_after, and a log line;
//                                                          never a second conference of the room
//   a dial-out answered (the callee joined)              → claimed; held elsewhere or unreachable:
//                                                          false, so the UA ends it with BYE
//   a call ended and its room has nobody left here       → released
// Rooms unknown here, and every other callback, go straight to the conference.
//
// Threading: control loop only (the UA's listener).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "conference/cluster/placements.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::conference::cluster {

// RFC 3261 §21.3.3 / §8.1.3.4: a 302 whose Contact is the room on the node that runs it.
sip::CallDecision redirect_decision(std::string_view dialled_user, const NodeAddress& holder);
// RFC 3261 §21.5.4: 503 with Retry-After (seconds).
sip::CallDecision unavailable_decision(std::string_view reason, std::chrono::seconds retry_after);

class CallGate final : public sip::CallListener {
 public:
  // What the gate reads of the conference domain (ConferenceService and RoomDirectory in chorusd).
  struct Domain {
    std::function<std::optional<std::string>(std::string_view dialled)> room_of_dial;  // id or number → room id
    std::function<bool(std::string_view room_id)> live;                                // the room has participants here
    std::function<std::optional<std::string>(sip::CallHandle)> room_of_call;           // a joined participant's room
  };
  struct Settings {
    std::chrono::seconds drain_retry_after{30};
    std::chrono::seconds unavailable_retry_after{5};
  };

  CallGate(sip::CallListener& conference, CallPlacement& placement, Domain domain, Settings settings);

  sip::CallDecision on_incoming_call(const sip::CallInfo& call, const sip::SipMessage& invite,
                                     const std::optional<std::string>& offer) override;
  bool on_remote_answer(sip::CallHandle call, std::string_view sdp) override;
  void on_acknowledged(sip::CallHandle call) override;
  sip::OfferDecision on_remote_offer(sip::CallHandle call, std::string_view sdp) override;
  std::string on_offer_requested(sip::CallHandle call) override;
  void on_dtmf(sip::CallHandle call, char digit, int duration_ms) override;
  void on_picture_fast_update(sip::CallHandle call) override;
  void on_call_ended(sip::CallHandle call, std::string_view reason) override;
  bool on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>& sdp) override;
  void on_outgoing_failed(sip::CallHandle call, int status, std::string_view reason) override;

  [[nodiscard]] std::uint64_t refused_draining() const { return refused_draining_; }

 private:
  sip::CallListener& conference_;
  CallPlacement& placement_;
  Domain domain_;
  Settings settings_;
  std::uint64_t refused_draining_ = 0;
};

}  // namespace chorus::conference::cluster
