#include "conference/cluster/call_gate.hpp"

#include "common/log.hpp"

namespace chorus::conference::cluster {

sip::CallDecision redirect_decision(std::string_view dialled_user, const NodeAddress& holder) {
  return {302,
          "Moved Temporarily",
          {},
          {{"Contact", "<sip:" + std::string(dialled_user) + "@" + holder.sip_address + ">"}}};
}

sip::CallDecision unavailable_decision(std::string_view reason, std::chrono::seconds retry_after) {
  return {503, std::string(reason), {}, {{"Retry-After", std::to_string(retry_after.count())}}};
}

CallGate::CallGate(sip::CallListener& conference, CallPlacement& placement, Domain domain, Settings settings)
    : conference_(conference), placement_(placement), domain_(std::move(domain)), settings_(settings) {}

sip::CallDecision CallGate::on_incoming_call(const sip::CallInfo& call, const sip::SipMessage& invite,
                                             const std::optional<std::string>& offer) {
  const auto room = domain_.room_of_dial(call.request_user);
  if (!room || domain_.live(*room)) return conference_.on_incoming_call(call, invite, offer);
  if (placement_.draining()) {
    ++refused_draining_;
    CHORUS_LOG(kInfo, "cluster", "draining: call for a room not live here refused", {"room", *room},
               {"call_id", call.call_id});
    return unavailable_decision("Draining", settings_.drain_retry_after);
  }
  auto claim = placement_.claim(*room);
  switch (claim.status) {
    case ClaimStatus::kElsewhere:
      if (claim.holder.sip_address.empty()) break;  // a holder with no chorus_nodes row: nowhere to send
      CHORUS_LOG(kInfo, "cluster", "room runs on another node: redirected", {"room", *room},
                 {"node", claim.holder.node_id}, {"contact", claim.holder.sip_address}, {"call_id", call.call_id});
      return redirect_decision(call.request_user, claim.holder);
    case ClaimStatus::kUnavailable:
      CHORUS_LOG(kWarn, "cluster", "placement claim failed: call refused", {"room", *room}, {"call_id", call.call_id},
                 {"error", claim.error});
      return unavailable_decision("Service Unavailable", settings_.unavailable_retry_after);
    case ClaimStatus::kOurs: {
      auto decision = conference_.on_incoming_call(call, invite, offer);
      if (!domain_.live(*room)) placement_.release(*room);  // refused, or early media only
      return decision;
    }
  }
  CHORUS_LOG(kWarn, "cluster", "room held by a node without a chorus_nodes row: call refused", {"room", *room},
             {"node", claim.holder.node_id}, {"call_id", call.call_id});
  return unavailable_decision("Service Unavailable", settings_.unavailable_retry_after);
}

bool CallGate::on_remote_answer(sip::CallHandle call, std::string_view sdp) {
  return conference_.on_remote_answer(call, sdp);
}

void CallGate::on_acknowledged(sip::CallHandle call) {
  conference_.on_acknowledged(call);
}

sip::OfferDecision CallGate::on_remote_offer(sip::CallHandle call, std::string_view sdp) {
  return conference_.on_remote_offer(call, sdp);
}

std::string CallGate::on_offer_requested(sip::CallHandle call) {
  return conference_.on_offer_requested(call);
}

void CallGate::on_dtmf(sip::CallHandle call, char digit, int duration_ms) {
  conference_.on_dtmf(call, digit, duration_ms);
}

void CallGate::on_picture_fast_update(sip::CallHandle call) {
  conference_.on_picture_fast_update(call);
}

void CallGate::on_call_ended(sip::CallHandle call, std::string_view reason) {
  const auto room = domain_.room_of_call(call);
  conference_.on_call_ended(call, reason);
  if (room && !domain_.live(*room)) placement_.release(*room);
}

bool CallGate::on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>& sdp) {
  if (!conference_.on_outgoing_answered(call, sdp)) return false;
  const auto room = domain_.room_of_call(call);
  if (!room) return true;
  // The callee joined: the room's conference runs here now, so this node must hold it. Claiming
  // again a room held already only renews its lease.
  const auto claim = placement_.claim(*room);
  if (claim.status == ClaimStatus::kOurs) return true;
  CHORUS_LOG(kWarn, "cluster", "dial-out answered in a room this node cannot hold: hung up", {"room", *room},
             {"node", claim.holder.node_id}, {"error", claim.error});
  return false;  // the UA sends BYE; on_call_ended follows
}

void CallGate::on_outgoing_failed(sip::CallHandle call, int status, std::string_view reason) {
  conference_.on_outgoing_failed(call, status, reason);
}

}  // namespace chorus::conference::cluster
