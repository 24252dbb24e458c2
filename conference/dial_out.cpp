// ConferenceService, dial-out: a participant the conference calls (POST
// /v1/conferences/{id}/participants) instead of one who calls in (DESIGN §3's dial-in path run from
// the other end). The room's offer (same policy and codecs as a dial-in without SDP, RFC 3264 §5)
// goes out in the UA's INVITE; the callee is kept in `dialing_` — holding its ports and a place in
// the room's capacity, but not listed — until the 2xx. Its answer is read with sdp::accept_answer
// (RFC 3264 §7, as on_remote_answer does), then it joins like a dial-in participant: media
// sessions, participant.joined, kick by BYE, BYE from the callee. A dial that ends without a call
// publishes participant.dial_failed with the SIP status and the target.
// Threading: control loop only (the UA's CallListener and the REST handlers both run there).
#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "conference/conference_service.hpp"
#include "conference/trunks/trunk_dial_out.hpp"

namespace chorus::conference {

std::size_t ConferenceService::dialing_in(std::string_view room_id) const {
  return static_cast<std::size_t>(
      std::ranges::count_if(dialing_, [room_id](const auto& entry) { return entry.second.room_id == room_id; }));
}

std::expected<DialOutStarted, DialOutError> ConferenceService::dial_out(const DialOutRequest& request) {
  if (!dialer_) return std::unexpected(DialOutError{DialOutRefusal::kUnavailable, "dial-out is not available"});
  const Room* room = rooms_.find(request.room_id);  // a conference's id is its room's id
  if (!room) return std::unexpected(DialOutError{DialOutRefusal::kRoomNotFound, "no room " + request.room_id});
  if (room->locked)
    return std::unexpected(DialOutError{DialOutRefusal::kRoomLocked, "room " + room->id + " is locked"});
  if (participants_in(room->id) + dialing_in(room->id) >= room->max_participants)
    return std::unexpected(DialOutError{DialOutRefusal::kRoomFull, "room " + room->id + " is full"});
  sip::OutgoingCallRequest call{
      request.target, room->id, room->name, {}, [policy = dial_out_policy_](const boost::asio::ip::address& address) {
        return policy.refuse_address(address);
      }};
  if (!request.trunk_id.empty()) {
    // Issue 15: the trunk says where the call goes and as whom (trunks/trunk_dial_out.hpp).
    const Trunk* trunk = trunks_ != nullptr ? trunks_->find(request.trunk_id) : nullptr;
    if (trunk == nullptr)
      return std::unexpected(DialOutError{DialOutRefusal::kBadTarget, "no trunk " + request.trunk_id});
    if (auto prepared = prepare_trunk_call(*trunk, request.target, call); !prepared)
      return std::unexpected(DialOutError{DialOutRefusal::kBadTarget, prepared.error()});
  }
  // The target is checked before ports are leased: a bad one gets its own answer (422), one the
  // egress policy refuses its own (403). No DNS here: a name is resolved by the UA, off this loop,
  // and each address it resolves to is checked by the same policy (check_address below).
  auto uri = sip::parse_uri(call.target);
  if (!uri) return std::unexpected(DialOutError{DialOutRefusal::kBadTarget, "not a URI: " + uri.error()});
  std::string target_error;
  if (!sip::dial_target(*uri, target_error))
    return std::unexpected(DialOutError{DialOutRefusal::kBadTarget, target_error});
  if (auto refused = request.trunk_id.empty() ? dial_out_policy_.refuse_host(uri->host) : std::nullopt) {
    CHORUS_LOG(kWarn, "security", "dial_out_refused", {"room", room->id}, {"to", bounded_text(request.target)},
               {"reason", *refused});
    ++dial_out_refused_;
    return std::unexpected(DialOutError{DialOutRefusal::kForbidden, *refused});
  }

  Participant dial;
  dial.id = next_participant_id_++;
  dial.room_id = room->id;
  dial.from_uri = call.target;  // caller_id in the REST view: who this participant is
  dial.display_name = bounded_text(request.display_name);
  dial.sdp_session_id = random_u64() % 1000000000ULL + 1;
  dial.cname = random_alphanumeric(16);
  if (!lease_ports(dial, 1)) return std::unexpected(DialOutError{DialOutRefusal::kUnavailable, "no media ports left"});
  auto offer = offer_for(dial);
  if (!offer) return std::unexpected(DialOutError{DialOutRefusal::kUnavailable, offer.error().reason});

  call.sdp_offer = std::move(*offer);
  auto started = dialer_(call);
  if (!started) return std::unexpected(DialOutError{DialOutRefusal::kUnavailable, started.error()});
  dial.call = started->handle;
  dial.call_id = started->call_id;
  CHORUS_LOG(kInfo, "conference", "dialling out", {"room", room->id}, {"participant", dial.id}, {"to", call.target},
             {"call_id", dial.call_id});
  DialOutStarted out{dial.id, dial.call, dial.call_id};
  dialing_.emplace(dial.call, std::move(dial));
  return out;
}

void ConferenceService::publish_dial_failed(const Participant& dial, int status, std::string_view reason) {
  CHORUS_LOG(kInfo, "conference", "dial-out failed", {"room", dial.room_id}, {"participant", dial.id},
             {"to", dial.from_uri}, {"status", status}, {"reason", reason});
  if (!events_) return;
  events_->publish(event_type::kParticipantDialFailed, nlohmann::json{{"conference_id", dial.room_id},
                                                                      {"room_id", dial.room_id},
                                                                      {"participant_id", dial.id},
                                                                      {"call_id", dial.call_id},
                                                                      {"to", dial.from_uri},
                                                                      {"display_name", dial.display_name},
                                                                      {"status", status},
                                                                      {"reason", std::string(reason)}});
}

bool ConferenceService::on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>& sdp_text) {
  auto node = dialing_.extract(call);
  if (node.empty()) return false;
  Participant& dial = node.mapped();
  // RFC 3264 §7: the 2xx must answer the offer of our INVITE; anything else ends the call (BYE).
  if (!sdp_text) {
    publish_dial_failed(dial, 488, "the 2xx carried no SDP answer");
    return false;
  }
  auto answer = sdp::parse_sdp(*sdp_text);
  if (!answer) {
    publish_dial_failed(dial, 488, "bad SDP answer: " + answer.error());
    return false;
  }
  auto streams = sdp::accept_answer(*dial.our_pending_offer, *answer);
  dial.our_pending_offer.reset();
  if (!streams) {
    publish_dial_failed(dial, 488, "answer not acceptable: " + streams.error().reason);
    return false;
  }
  if (!rooms_.find(dial.room_id)) {  // the room was deleted while it rang
    publish_dial_failed(dial, 410, "room deleted");
    return false;
  }
  dial.streams = std::move(*streams);
  dial.joined_at = std::chrono::system_clock::now();
  CHORUS_LOG(kInfo, "conference", "participant joined", {"room", dial.room_id}, {"call_id", dial.call_id},
             {"participant", dial.id}, {"to", dial.from_uri}, {"dial_out", true},
             {"rtp_port", dial.ports.empty() ? 0 : dial.ports.front()->rtp_port()});
  auto& joined = join(std::move(dial));
  apply_media(joined, plain_layout(joined.streams, joined.sources));  // as for a dial-in participant
  return true;
}

void ConferenceService::on_outgoing_failed(sip::CallHandle call, int status, std::string_view reason) {
  auto node = dialing_.extract(call);
  if (node.empty()) return;  // its answer was refused already (published there)
  publish_dial_failed(node.mapped(), status, reason);
}  // the dial's port leases go back to the pool here

}  // namespace chorus::conference
