#include "conference/conference_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "conference/participant_events.hpp"
#include "conference/trunks/trunk_dial_in.hpp"

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

ConferenceService::ConferenceService(RoomDirectory& rooms, media::UdpPortPool& ports, sdp::MediaPolicy policy,
                                     media::MediaWorkerPool* workers, SecurityOptions security)
    : rooms_(rooms),
      ports_(ports),
      policy_(std::move(policy)),
      workers_(workers),
      security_(std::move(security)),
      audio_(participants_, rooms_),
      sfu_(sfu::RouterConfig{}, *this),
      video_mcu_(mixer::VideoRoomConfig{}, *this) {
  policy_.accept_srtp = workers_ != nullptr;
}

void ConferenceService::set_event_log(EventLog* events) {
  events_ = events;
  audio_.set_event_log(events);
}

void ConferenceService::set_audio_hooks(AudioHooks hooks) {
  reject_early_ = std::move(hooks.reject_early);
  hang_up_ = hooks.hang_up;
  audio_.set_hooks(AudioBridge::Hooks{std::move(hooks.post_to_control), std::move(hooks.hang_up), hooks.prompts,
                                      hooks.store,
                                      [this](std::uint64_t participant_id) { on_not_started_played(participant_id); },
                                      [this](std::uint64_t participant_id) {
                                        on_admission_changed(participant_id);
                                        if (const Participant* admitted = participants_.find_by_id(participant_id);
                                            admitted != nullptr && roster_changed_)
                                          roster_changed_(admitted->room_id);
                                      },
                                      hooks.timers,
                                      [this](std::string_view room_id) {
                                        if (roster_changed_) roster_changed_(room_id);
                                      }});
}

sdp::MediaPolicy ConferenceService::policy_for(const Room& room) const {
  sdp::MediaPolicy policy = policy_;
  policy.require_srtp = room.encryption == RoomEncryption::kRequired;
  // DESIGN §7: video is forwarded in sfu rooms (a slot per video section we send in) and composed
  // in mcu rooms, where a participant takes one composite: further sections we would send in are
  // answered with port 0.
  policy.video.enabled = (room.mode == RoomMode::kSfu || room.mode == RoomMode::kMcu) && workers_ != nullptr;
  policy.video.max_send_streams = room.mode == RoomMode::kMcu ? 1 : video_.max_slots;
  policy.video.max_receive_streams = video_.max_producers;
  return policy;
}

void ConferenceService::publish(std::string_view type, const Participant& participant, std::string_view reason) {
  publish_participant_event(events_, type, participant, reason);
}

Participant& ConferenceService::join(Participant participant) {
  const bool first = participants_.count_in(participant.room_id) == 0;
  auto& joined = participants_.add(std::move(participant));
  if (first) publish(event_type::kConferenceStarted, joined);
  publish(event_type::kParticipantJoined, joined);
  return joined;
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
                                                                                const sdp::AnswerPlan& plan,
                                                                                const MediaLayout& layout,
                                                                                bool webrtc) {
  sdp::MediaPorts ports;
  std::size_t accepted = 0;
  for (const auto& section : plan.sections) {
    if (!section.stream.accepted) continue;
    const auto port = participant.ports[layout.transport_of[accepted]]->rtp_port();
    ports.rtp_ports.push_back(port);
    ports.extra_attributes.push_back(
        section_attributes(layout, accepted, section.stream, media_address_, port, participant.cname, webrtc));
    ++accepted;
  }
  auto answer = sdp::build_answer(plan, sdp::LocalMediaAddress{media_address_}, ports, next_origin(participant));
  if (!answer) return std::unexpected(answer.error());
  const bool ice = std::ranges::any_of(layout.transports, [](const auto& t) { return t.security.ice.has_value(); });
  if (ice) answer->add_attribute("ice-lite");  // RFC 8839 §5.3: session level only
  // RFC 8843 §7.3.2: each group the answer accepted lists its bundled sections.
  const auto streams = plan.streams();
  std::vector<const sdp::NegotiatedStream*> accepted_streams;
  for (const auto& stream : streams)
    if (stream.accepted) accepted_streams.push_back(&stream);
  for (const auto& transport : layout.transports) {
    if (!transport.bundled) continue;
    std::string group = "BUNDLE";
    for (std::size_t section : transport.sections) group += " " + accepted_streams[section]->mid;
    answer->add_attribute("group", group);
  }
  participant.streams = streams;
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
  // Issue 12: what the caller wrote is bounded before it reaches events, webhooks, logs and REST.
  participant.from_uri = bounded_text(call.from_uri, kMaxCallerUriBytes);
  participant.display_name = bounded_text(call.from_display);
  participant.user_agent = bounded_text(call.user_agent);
  participant.source_ip = call.source.address.to_string();
  // Unset (a test's CallInfo): no proof by signaling, and no loopback rule to apply.
  if (!call.source.address.is_unspecified()) participant.signaling_source = call.source.address;
  participant.signaling_verified = call.source.kind != sip::TransportKind::kUdp;
  participant.joined_at = std::chrono::system_clock::now();
  participant.sdp_session_id = random_u64() % 1000000000ULL + 1;
  participant.cname = random_alphanumeric(16);
  participant.receives_slot_info = std::ranges::find(call.recv_info, kVideoSlotsInfoPackage) != call.recv_info.end();
  return participant;
}

sip::CallDecision ConferenceService::on_incoming_call(const sip::CallInfo& call, const sip::SipMessage& invite,
                                                      const std::optional<std::string>& offer_text) {
  const Room* room = rooms_.find_by_dial_string(call.request_user);
  if (room == nullptr && trunks_ != nullptr) room = find_trunk_room(rooms_, *trunks_, call.source.address, invite);
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
             {"participant", participant.id}, {"from", participant.from_uri},
             {"rtp_port", participant.ports.empty() ? 0 : participant.ports.front()->rtp_port()});
  auto& joined = join(std::move(participant));
  if (joined.pin) audio_.begin_pin_entry(joined);
  return {200, {}, std::move(body), {}};
}

bool ConferenceService::on_remote_answer(sip::CallHandle call, std::string_view sdp_text) {
  Participant* found = participants_.find(call);
  if (found == nullptr) return false;
  Participant& participant = *found;
  if (!participant.our_pending_offer) return true;  // an answer to nothing new: keep the session
  auto answer = sdp::parse_sdp(sdp_text);
  if (!answer) return false;
  if (participant.signaling_source)
    if (auto refused = check_media_addresses(*answer, *participant.signaling_source, guard_)) {
      CHORUS_LOG(kWarn, "conference", "media address refused", {"call_id", participant.call_id},
                 {"source", participant.signaling_source->to_string()}, {"reason", refused->reason});
      return false;
    }
  auto streams = sdp::accept_answer(*participant.our_pending_offer, *answer);
  participant.our_pending_offer.reset();
  if (!streams) {
    CHORUS_LOG(kInfo, "conference", "answer not acceptable", {"call_id", participant.call_id},
               {"reason", streams.error().reason});
    return false;
  }
  participant.streams = std::move(*streams);
  apply_media(participant, plain_layout(participant.streams, participant.sources));
  return true;
}

sip::OfferDecision ConferenceService::on_remote_offer(sip::CallHandle call, std::string_view sdp_text) {
  Participant* found = participants_.find(call);
  if (found == nullptr) return {481, {}, {}, {}};
  Participant& participant = *found;
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  if (!room) return {480, "Room Closed", {}, {}};
  // RFC 3264 §8: a re-offer we cannot accept is refused; the session stays as it was.
  auto decision = answer_offer(participant, *room, sdp_text);
  if (decision.status != 200) return {decision.status, decision.reason, {}, decision.extra_headers};
  CHORUS_LOG(kDebug, "conference", "session updated", {"call_id", participant.call_id});
  if (roster_changed_) roster_changed_(participant.room_id);  // its media may have changed (hold)
  return {200, {}, std::move(decision.sdp), {}};
}

sip::CallDecision ConferenceService::answer_offer(Participant& participant, const Room& room,
                                                  std::string_view offer_text) {
  // A browser's offer for a grid of video slots runs to a thousand lines (kVideoSdpLimits); the SIP
  // message limit (64 KiB) bounds it anyway.
  auto offer = sdp::parse_sdp(offer_text, sdp::kVideoSdpLimits);
  if (!offer) return {400, "Bad SDP: " + offer.error(), {}, {}};
  // Issue 12: an offer may not aim our media at multicast, loopback, link-local or denied ranges.
  if (participant.signaling_source)
    if (auto refused = check_media_addresses(*offer, *participant.signaling_source, guard_)) {
      CHORUS_LOG(kWarn, "conference", "media address refused", {"call_id", participant.call_id},
                 {"source", participant.signaling_source->to_string()}, {"reason", refused->reason});
      return {refused->sip_status, refused->reason, {}, warning(*refused)};
    }
  auto plan = sdp::plan_answer(*offer, policy_for(room));
  if (!plan) return {plan.error().sip_status, plan.error().reason, {}, warning(plan.error())};
  for (const auto& section : plan->sections)
    for (const auto& note : section.notes)
      CHORUS_LOG(kDebug, "conference", "offer section note", {"call_id", participant.call_id},
                 {"section", section.stream.index}, {"note", note});
  std::vector<const StreamTransport*> previous;
  for (const auto& transport : participant.media) previous.push_back(&transport.security);
  auto layout = plan_media_layout(*offer, *plan, security_, previous, participant.sources);
  if (!layout) return {layout.error().sip_status, layout.error().reason, {}, warning(layout.error())};
  if (!lease_ports(participant, layout->transports.size())) return no_ports();
  const bool webrtc = std::ranges::any_of(offer->media, [](const sdp::MediaDescription& m) {
    return m.transport() == sdp::TransportProtocol::kUdpTlsRtpSavpf;
  });
  auto answer = answer_for(participant, *plan, *layout, webrtc);
  if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
  apply_media(participant, std::move(*layout));
  return {200, {}, std::move(*answer), {}};
}

std::string ConferenceService::on_offer_requested(sip::CallHandle call) {
  Participant* participant = participants_.find(call);
  if (participant == nullptr) return {};
  if (participant->ports.empty() && !lease_ports(*participant, 1)) return {};
  return offer_for(*participant).value_or(std::string());
}

void ConferenceService::on_dtmf(sip::CallHandle call, char digit, int duration_ms) {
  Participant* participant = participants_.find(call);
  if (participant == nullptr) return;
  // SIP INFO digits (RFC 4733 ones come from the mixer): PIN entry, keypad.
  // Never the digit: while the caller is in PIN entry it is a digit of the PIN (DESIGN §7).
  CHORUS_LOG(kDebug, "conference", "dtmf (INFO)", {"room", participant->room_id}, {"call_id", participant->call_id},
             {"pin_entry", !participant->admitted}, {"duration_ms", duration_ms});
  audio_.on_digit(*participant, digit);
}

void ConferenceService::on_call_ended(sip::CallHandle call, std::string_view reason) {
  if (end_early(call)) return;
  Participant* found = participants_.find(call);
  if (found == nullptr) return;
  CHORUS_LOG(kInfo, "conference", "participant left", {"room", found->room_id}, {"call_id", found->call_id},
             {"participant", found->id}, {"reason", reason});
  publish(event_type::kParticipantLeft, *found, reason);
  audio_.end_pin_entry(*found);
  stop_media(*found);
  auto left = participants_.extract(call);  // its port leases go back to the pool with it
  if (participants_.count_in(left->room_id) == 0) {
    audio_.conference_ended(left->room_id);
    publish(event_type::kConferenceEnded, *left);
  }
}

}  // namespace chorus::conference
