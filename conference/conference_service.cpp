#include "conference/conference_service.hpp"

#include "common/random.hpp"

#include "common/log.hpp"

namespace chorus::conference {
namespace {

// RFC 3261 §20.43: Warning: 3xx agent "text" — 304/305 say which media could not be agreed.
std::vector<sip::Header> warning(const sdp::NegotiationError& error) {
  return {{"Warning", error.warning_value("chorus")}};
}

sip::CallDecision no_ports() {
  return {503, "No Media Ports", {}, {{"Retry-After", "10"}}};
}

}  // namespace

ConferenceService::ConferenceService(RoomDirectory& rooms, media::UdpPortPool& ports, sdp::MediaPolicy policy)
    : rooms_(rooms), ports_(ports), policy_(std::move(policy)) {}

std::size_t ConferenceService::participants_in(std::string_view room_id) const {
  auto it = occupancy_.find(room_id);
  return it == occupancy_.end() ? 0 : it->second;
}

const Participant* ConferenceService::participant(sip::CallHandle call) const {
  auto it = participants_.find(call);
  return it == participants_.end() ? nullptr : &it->second;
}

bool ConferenceService::lease_ports(Participant& participant, std::size_t count) {
  while (participant.ports.size() > count) participant.ports.pop_back();
  while (participant.ports.size() < count) {
    auto lease = ports_.allocate();
    if (!lease) return false;
    participant.ports.push_back(std::move(lease));
  }
  return true;
}

sdp::OriginInfo ConferenceService::next_origin(Participant& participant) const {
  sdp::OriginInfo origin;
  origin.session_id = participant.sdp_session_id;
  origin.session_version = ++participant.sdp_version;
  return origin;
}

sdp::MediaPorts ConferenceService::leased_ports(const Participant& participant) {
  sdp::MediaPorts ports;
  for (const auto& lease : participant.ports) ports.rtp_ports.push_back(lease->rtp_port());
  return ports;
}

std::expected<std::string, sdp::NegotiationError> ConferenceService::answer_for(Participant& participant,
                                                                                const sdp::AnswerPlan& plan) {
  auto answer = sdp::build_answer(plan, sdp::LocalMediaAddress{media_address_}, leased_ports(participant),
                                  next_origin(participant));
  if (!answer) return std::unexpected(answer.error());
  participant.streams = plan.streams();
  participant.current_local = *answer;
  return sdp::serialize_sdp(*answer);
}

std::expected<std::string, sdp::NegotiationError> ConferenceService::offer_for(Participant& participant) {
  auto offer = sdp::build_offer(policy_, sdp::LocalMediaAddress{media_address_}, leased_ports(participant),
                                next_origin(participant));
  if (!offer) return std::unexpected(offer.error());
  participant.our_pending_offer = *offer;
  participant.current_local = *offer;
  return sdp::serialize_sdp(*offer);
}

sip::CallDecision ConferenceService::on_incoming_call(const sip::CallInfo& call, const sip::SipMessage&,
                                                      const std::optional<std::string>& offer_text) {
  const Room* room = rooms_.find_by_dial_string(call.request_user);
  if (!room) return {404, "Room Not Found", {}, {}};
  if (participants_in(room->id) >= room->max_participants) return {486, "Room Full", {}, {}};

  Participant participant;
  participant.id = next_participant_id_++;
  participant.call = call.handle;
  participant.room_id = room->id;
  participant.call_id = call.call_id;
  participant.from_uri = call.from_uri;
  participant.display_name = call.from_display;
  participant.user_agent = call.user_agent;
  participant.joined_at = std::chrono::system_clock::now();
  participant.sdp_session_id = random_u64() % 1000000000ULL + 1;

  std::string body;
  if (offer_text) {
    auto offer = sdp::parse_sdp(*offer_text);
    if (!offer) return {400, "Bad SDP: " + offer.error(), {}, {}};
    auto plan = sdp::plan_answer(*offer, policy_);
    if (!plan) return {plan.error().sip_status, plan.error().reason, {}, warning(plan.error())};
    if (!lease_ports(participant, plan->ports_needed())) return no_ports();
    auto answer = answer_for(participant, *plan);
    if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
    body = std::move(*answer);
  } else {
    if (!lease_ports(participant, 1)) return no_ports();
    auto offer = offer_for(participant);
    if (!offer) return {offer.error().sip_status, offer.error().reason, {}, {}};
    body = std::move(*offer);
  }
  CHORUS_LOG(kInfo, "conference", "participant joined", {"room", room->id}, {"call_id", call.call_id},
             {"participant", participant.id}, {"from", call.from_uri},
             {"rtp_port", participant.ports.empty() ? 0 : participant.ports.front()->rtp_port()});
  ++occupancy_[participant.room_id];
  participants_.emplace(call.handle, std::move(participant));
  return {200, {}, std::move(body), {}};
}

bool ConferenceService::on_remote_answer(sip::CallHandle call, std::string_view sdp_text) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return false;
  Participant& participant = it->second;
  if (!participant.our_pending_offer) return true;  // an answer to nothing new: keep the session
  auto answer = sdp::parse_sdp(sdp_text);
  if (!answer) return false;
  auto streams = sdp::accept_answer(*participant.our_pending_offer, *answer);
  participant.our_pending_offer.reset();
  if (!streams) {
    CHORUS_LOG(kInfo, "conference", "answer not acceptable", {"call_id", participant.call_id},
               {"reason", streams.error().reason});
    return false;
  }
  participant.streams = std::move(*streams);
  return true;
}

sip::OfferDecision ConferenceService::on_remote_offer(sip::CallHandle call, std::string_view sdp_text) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return {481, {}, {}, {}};
  Participant& participant = it->second;
  auto offer = sdp::parse_sdp(sdp_text);
  if (!offer) return {400, "Bad SDP: " + offer.error(), {}, {}};
  auto plan = sdp::plan_answer(*offer, policy_);
  // RFC 3264 §8: a re-offer we cannot accept is refused; the session stays as it was.
  if (!plan) return {plan.error().sip_status, plan.error().reason, {}, warning(plan.error())};
  if (!lease_ports(participant, plan->ports_needed())) {
    auto refused = no_ports();
    return {refused.status, refused.reason, {}, refused.extra_headers};
  }
  auto answer = answer_for(participant, *plan);
  if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
  CHORUS_LOG(kDebug, "conference", "session updated", {"call_id", participant.call_id},
             {"hold", plan->hold ? "yes" : "no"});
  return {200, {}, std::move(*answer), {}};
}

std::string ConferenceService::on_offer_requested(sip::CallHandle call) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return {};
  if (it->second.ports.empty() && !lease_ports(it->second, 1)) return {};
  return offer_for(it->second).value_or(std::string());
}

void ConferenceService::on_dtmf(sip::CallHandle call, char digit, int duration_ms) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return;
  // The audio issue acts on digits (PIN entry, *6 mute); here they are recorded in the log.
  CHORUS_LOG(kInfo, "conference", "dtmf", {"room", it->second.room_id}, {"call_id", it->second.call_id},
             {"digit", std::string(1, digit)}, {"duration_ms", duration_ms});
}

void ConferenceService::on_call_ended(sip::CallHandle call, std::string_view reason) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return;
  CHORUS_LOG(kInfo, "conference", "participant left", {"room", it->second.room_id}, {"call_id", it->second.call_id},
             {"participant", it->second.id}, {"reason", reason});
  if (auto room = occupancy_.find(it->second.room_id); room != occupancy_.end() && --room->second == 0)
    occupancy_.erase(room);
  participants_.erase(it);  // its port leases go back to the pool here
}

}  // namespace chorus::conference
