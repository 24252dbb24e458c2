#include "conference/conference_service.hpp"

#include <unistd.h>

#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "media/echo/echo_sink.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::conference {
namespace {

// RFC 3261 §20.43: Warning: 3xx agent "text" — 304/305 say which media could not be agreed.
std::vector<sip::Header> warning(const sdp::NegotiationError& error) {
  return {{"Warning", error.warning_value("chorus")}};
}

// Where the SDP says to send; nullopt for the RFC 2543 hold address 0.0.0.0, port 0 or a name.
std::optional<media::TransportAddress> signalled(const std::string& address, std::uint16_t port) {
  auto parsed = media::parse_transport_address(address, port);
  if (!parsed || port == 0) return std::nullopt;
  if (std::ranges::all_of(parsed->ip, [](std::uint8_t octet) { return octet == 0; })) return std::nullopt;
  return parsed;
}

sip::CallDecision no_ports() {
  return {503, "No Media Ports", {}, {{"Retry-After", "10"}}};
}

}  // namespace

ConferenceService::ConferenceService(RoomDirectory& rooms, media::UdpPortPool& ports, sdp::MediaPolicy policy,
                                     media::MediaWorkerPool* workers, SecurityOptions security)
    : rooms_(rooms), ports_(ports), policy_(std::move(policy)), workers_(workers), security_(std::move(security)) {
  policy_.accept_srtp = workers_ != nullptr;
}

sdp::MediaPolicy ConferenceService::policy_for(const Room& room) const {
  sdp::MediaPolicy policy = policy_;
  policy.require_srtp = room.encryption == RoomEncryption::kRequired;
  return policy;
}

std::size_t ConferenceService::participants_in(std::string_view room_id) const {
  auto it = occupancy_.find(room_id);
  return it == occupancy_.end() ? 0 : it->second;
}

void ConferenceService::publish(std::string_view type, const Participant& participant, std::string_view reason) {
  if (!events_) return;
  nlohmann::json data{{"conference_id", participant.room_id}, {"room_id", participant.room_id}};
  if (type.starts_with("participant.")) {
    data["participant_id"] = participant.id;
    data["call_id"] = participant.call_id;
    data["caller_id"] = participant.from_uri;
    data["display_name"] = participant.display_name;
  }
  if (!reason.empty()) data["reason"] = std::string(reason);
  events_->publish(type, std::move(data));
}

std::vector<std::string> ConferenceService::active_rooms() const {
  std::vector<std::string> out;
  for (const auto& [room, count] : occupancy_) out.push_back(room);
  return out;
}

std::vector<const Participant*> ConferenceService::participants_of(std::string_view room_id) const {
  std::vector<const Participant*> out;
  for (const auto& [call, participant] : participants_)
    if (participant.room_id == room_id) out.push_back(&participant);
  std::ranges::sort(out, {}, &Participant::id);
  return out;
}

const Participant* ConferenceService::find_participant(std::uint64_t participant_id) const {
  for (const auto& [call, participant] : participants_)
    if (participant.id == participant_id) return &participant;
  return nullptr;
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

std::expected<std::string, sdp::NegotiationError> ConferenceService::answer_for(
    Participant& participant, const sdp::AnswerPlan& plan, const std::vector<StreamTransport>& security) {
  auto ports = leased_ports(participant);
  std::vector<sdp::NegotiatedStream> accepted;
  for (auto& stream : plan.streams())
    if (stream.accepted) accepted.push_back(std::move(stream));
  bool ice = false;
  std::string bundle_group;
  for (std::size_t i = 0; i < security.size() && i < ports.rtp_ports.size(); ++i) {
    if (!security[i].bundle_mid.empty()) bundle_group += (bundle_group.empty() ? "" : " ") + security[i].bundle_mid;
    auto attributes = security[i].answer_attributes;
    if (security[i].ice) {
      ice = true;
      const bool mux = i < accepted.size() && accepted[i].rtcp_mux;
      auto candidates = host_candidates(media_address_, ports.rtp_ports[i], mux);
      attributes.insert(attributes.end(), candidates.begin(), candidates.end());
    }
    ports.extra_attributes.push_back(std::move(attributes));
  }
  auto answer = sdp::build_answer(plan, sdp::LocalMediaAddress{media_address_}, ports, next_origin(participant));
  if (!answer) return std::unexpected(answer.error());
  if (ice) answer->add_attribute("ice-lite");  // RFC 8839 §5.3: session level only
  // RFC 8843 §7.3.2: the answer's group lists the bundled sections it accepted.
  if (!bundle_group.empty()) answer->add_attribute("group", "BUNDLE " + bundle_group);
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

Participant ConferenceService::new_participant(const sip::CallInfo& call, const Room& room) {
  Participant participant;
  participant.id = next_participant_id_++;
  participant.call = call.handle;
  participant.room_id = room.id;
  participant.call_id = call.call_id;
  participant.from_uri = call.from_uri;
  participant.display_name = call.from_display;
  participant.user_agent = call.user_agent;
  participant.joined_at = std::chrono::system_clock::now();
  participant.sdp_session_id = random_u64() % 1000000000ULL + 1;
  return participant;
}

sip::CallDecision ConferenceService::on_incoming_call(const sip::CallInfo& call, const sip::SipMessage&,
                                                      const std::optional<std::string>& offer_text) {
  const Room* room = rooms_.find_by_dial_string(call.request_user);
  if (!room) return {404, "Room Not Found", {}, {}};
  if (participants_in(room->id) >= room->max_participants) return {486, "Room Full", {}, {}};
  if (room->locked) return {403, "Conference Locked", {}, {}};
  // A room with meetings opens only inside an occurrence's join window (meeting_not_started.cpp).
  if (calendar_ && calendar_->has_meetings(room->id) &&
      !calendar_->open_window(room->id, std::chrono::system_clock::now()))
    return answer_not_started(call, *room, offer_text);

  Participant participant = new_participant(call, *room);
  // A room with a PIN holds the caller in PIN entry (conference/conference_audio.cpp).
  if (!room->pin.empty() || !room->moderator_pin.empty()) {
    participant.admitted = false;
    participant.pin.emplace(PinPolicy{room->pin, room->moderator_pin});
  }

  std::string body;
  if (offer_text) {
    auto decision = answer_offer(participant, *room, *offer_text);
    if (decision.status != 200) return decision;
    body = std::move(decision.sdp);
  } else {
    if (!lease_ports(participant, 1)) return no_ports();
    auto offer = offer_for(participant);
    if (!offer) return {offer.error().sip_status, offer.error().reason, {}, {}};
    body = std::move(*offer);
  }
  CHORUS_LOG(kInfo, "conference", "participant joined", {"room", room->id}, {"call_id", call.call_id},
             {"participant", participant.id}, {"from", call.from_uri},
             {"rtp_port", participant.ports.empty() ? 0 : participant.ports.front()->rtp_port()});
  const bool first = ++occupancy_[participant.room_id] == 1;
  auto& joined = participants_.emplace(call.handle, std::move(participant)).first->second;
  if (first) publish(event_type::kConferenceStarted, joined);
  publish(event_type::kParticipantJoined, joined);
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
  apply_media(participant, {});
  return true;
}

sip::OfferDecision ConferenceService::on_remote_offer(sip::CallHandle call, std::string_view sdp_text) {
  auto it = participants_.find(call);
  if (it == participants_.end()) return {481, {}, {}, {}};
  Participant& participant = it->second;
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  if (!room) return {480, "Room Closed", {}, {}};
  // RFC 3264 §8: a re-offer we cannot accept is refused; the session stays as it was.
  auto decision = answer_offer(participant, *room, sdp_text);
  if (decision.status != 200) return {decision.status, decision.reason, {}, decision.extra_headers};
  CHORUS_LOG(kDebug, "conference", "session updated", {"call_id", participant.call_id});
  return {200, {}, std::move(decision.sdp), {}};
}

sip::CallDecision ConferenceService::answer_offer(Participant& participant, const Room& room,
                                                  std::string_view offer_text) {
  auto offer = sdp::parse_sdp(offer_text);
  if (!offer) return {400, "Bad SDP: " + offer.error(), {}, {}};
  auto plan = sdp::plan_answer(*offer, policy_for(room));
  if (!plan) return {plan.error().sip_status, plan.error().reason, {}, warning(plan.error())};
  std::vector<StreamTransport> security;
  for (const auto& section : plan->sections) {
    if (!section.stream.accepted) continue;
    const StreamTransport* previous =
        security.size() < participant.media.size() ? &participant.media[security.size()].security : nullptr;
    const auto& offered = offer->media[section.stream.index];
    auto negotiated = negotiate_security(*offer, offered, security_, previous);
    if (!negotiated) return {negotiated.error().sip_status, negotiated.error().reason, {}, warning(negotiated.error())};
    std::vector<std::uint8_t> payload_types{static_cast<std::uint8_t>(section.stream.payload_type)};
    if (section.stream.telephone_event_pt)
      payload_types.push_back(static_cast<std::uint8_t>(*section.stream.telephone_event_pt));
    negotiate_bundle(*offer, offered, payload_types, *negotiated);
    security.push_back(std::move(*negotiated));
  }
  if (!lease_ports(participant, plan->ports_needed())) return no_ports();
  auto answer = answer_for(participant, *plan, security);
  if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
  apply_media(participant, security);
  return {200, {}, std::move(*answer), {}};
}

void ConferenceService::apply_media(Participant& participant, const std::vector<StreamTransport>& security) {
  if (!workers_) return;
  std::size_t accepted = 0;
  for (const auto& stream : participant.streams) {
    if (!stream.accepted) continue;
    const std::size_t slot = accepted++;
    StreamTransport stream_security = slot < security.size() ? security[slot] : StreamTransport{};
    if (slot >= participant.ports.size()) break;
    if (slot < participant.media.size()) {
      media::MediaSessionUpdate update;
      update.remote_rtp = signalled(stream.remote_address, stream.remote_port);
      update.remote_rtcp = signalled(stream.remote_address, stream.remote_rtcp_port);
      update.send_enabled = sdp::sends(stream.local_direction);
      if (const auto* sdes = std::get_if<media::SdesKeying>(&stream_security.keying))
        update.remote_sdes_key_salt = sdes->remote_key_salt;
      participant.worker->update_session(participant.media[slot].session_id, std::move(update));
      participant.media[slot].security = std::move(stream_security);
    } else {
      start_session(participant, slot, std::move(stream_security));
    }
  }
}

void ConferenceService::start_session(Participant& participant, std::size_t slot, StreamTransport security) {
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  std::size_t accepted = 0;
  const sdp::NegotiatedStream* stream = nullptr;
  for (const auto& candidate : participant.streams)
    if (candidate.accepted && accepted++ == slot) stream = &candidate;
  if (!stream || !room) return;
  if (!participant.worker) participant.worker = &workers_->acquire(participant.room_id);
  const auto& lease = *participant.ports[slot];
  media::MediaSessionSpec spec;
  spec.id = next_session_id_++;
  spec.label = participant.call_id;
  spec.rtp_fd = ::dup(lease.rtp_fd());
  spec.rtcp_fd = ::dup(lease.rtcp_fd());
  spec.remote_rtp = signalled(stream->remote_address, stream->remote_port);
  spec.remote_rtcp = signalled(stream->remote_address, stream->remote_rtcp_port);
  spec.rtcp_mux = stream->rtcp_mux;
  spec.send_enabled = sdp::sends(stream->local_direction);
  spec.keying = security.keying;
  spec.ice = security.ice;
  spec.bundle = security.bundle;
  spec.local_ssrc = static_cast<std::uint32_t>(random_u64() | 1U);
  spec.cname = random_alphanumeric(16);
  spec.clock_rate = stream->codec.clock_rate;
  media::SinkFactory sink;
  if (room->mode == RoomMode::kEcho)
    sink = [] { return std::make_unique<media::EchoSink>(); };
  else
    sink = audio_sink(participant, *stream);
  const bool audio = sink && room->mode != RoomMode::kEcho;
  participant.worker->add_session(std::move(spec), std::move(sink));
  participant.media.push_back(ParticipantStream{next_session_id_ - 1, std::move(security)});
  if (audio) start_audio(participant);
}

void ConferenceService::stop_media(Participant& participant) {
  if (!participant.worker) return;
  leave_audio(participant);
  for (const auto& stream : participant.media) participant.worker->remove_session(stream.session_id);
  participant.media.clear();
  workers_->release(participant.room_id);
  participant.worker = nullptr;
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
  // SIP INFO digits (RFC 4733 ones come from the mixer, on_audio_dtmf): PIN entry, keypad.
  CHORUS_LOG(kDebug, "conference", "dtmf (INFO)", {"room", it->second.room_id}, {"call_id", it->second.call_id},
             {"digit", std::string(1, digit)}, {"duration_ms", duration_ms});
  handle_digit(it->second, digit);
}

void ConferenceService::on_call_ended(sip::CallHandle call, std::string_view reason) {
  if (end_early(call)) return;
  auto it = participants_.find(call);
  if (it == participants_.end()) return;
  CHORUS_LOG(kInfo, "conference", "participant left", {"room", it->second.room_id}, {"call_id", it->second.call_id},
             {"participant", it->second.id}, {"reason", reason});
  publish(event_type::kParticipantLeft, it->second, reason);
  if (auto room = occupancy_.find(it->second.room_id); room != occupancy_.end() && --room->second == 0) {
    occupancy_.erase(room);
    if (auto muted = guests_muted_rooms_.find(it->second.room_id); muted != guests_muted_rooms_.end())
      guests_muted_rooms_.erase(muted);
    publish(event_type::kConferenceEnded, it->second);
  }
  stop_media(it->second);
  participants_.erase(it);  // its port leases go back to the pool here
}

}  // namespace chorus::conference
