// ConferenceService, media: each transport of a participant (one accepted section, or the sections a
// BUNDLE group shares, media_layout.hpp) gets a media::MediaSession on the room's worker (posted,
// named by id; the session works on dups of the port lease's sockets, so the port stays bound until
// both sides let go), with one sink per section from the engine that serves it in the room: the echo
// engine in the echo room; elsewhere the audio MCU (through the AudioBridge) for audio; for video,
// the video MCU in mcu rooms, and in sfu rooms the SFU paired with the room's on-demand composite
// (PairedSink: a camera feeds both; a composite receiver gets no SFU slot). A re-offer of the same shape updates the
// sessions in place (RFC 3264 §8); the call's end stops them and detaches the participant from its engines. Threading:
// control loop only.
#include <unistd.h>

#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "conference/conference_service.hpp"
#include "conference/engines/paired_sink.hpp"
#include "media/transport/socket_address.hpp"
#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {
namespace {

// RFC 8827's transport: what browsers offer, and what marks a participant as WebRTC.
constexpr std::string_view kWebRtcProtocol = "UDP/TLS/RTP/SAVPF";

// Where the SDP says to send; nullopt for the RFC 2543 hold address 0.0.0.0, port 0 or a name.
std::optional<media::TransportAddress> signalled(const std::string& address, std::uint16_t port) {
  auto parsed = media::parse_transport_address(address, port);
  if (!parsed || port == 0) return std::nullopt;
  if (std::ranges::all_of(parsed->ip, [](std::uint8_t octet) { return octet == 0; })) return std::nullopt;
  return parsed;
}

// The SDP's address is the IP the call's signaling came from, and that source is verified
// (Participant::signaling_verified): proven, media may go there at once.
bool proven(const Participant& participant, const sdp::NegotiatedStream& stream) {
  return participant.signaling_verified && participant.signaling_source &&
         proven_by_signaling(stream.remote_address, *participant.signaling_source);
}

}  // namespace

void ConferenceService::apply_media(Participant& participant, MediaLayout layout) {
  if (!workers_) {
    participant.sources = std::move(layout.sources);
    return;
  }
  const bool same_shape = participant.media.size() == layout.transports.size() &&
                          std::ranges::equal(participant.media, layout.transports,
                                             [](const auto& a, const auto& b) { return a.sections == b.sections; });
  if (!participant.media.empty() && !same_shape) {
    // A re-offer that regroups the sections (BUNDLE changed, sections added): new sessions.
    CHORUS_LOG(kInfo, "conference", "media re-laid out", {"call_id", participant.call_id},
               {"transports", layout.transports.size()});
    stop_media(participant);
  }
  participant.sources = layout.sources;
  if (participant.media.empty()) {
    start_media(participant, layout);
    return;
  }
  const auto accepted = accepted_streams(participant);
  for (std::size_t t = 0; t < layout.transports.size(); ++t) {
    const auto& transport = layout.transports[t];
    const auto& tagged = *accepted[transport.sections.front()];
    media::MediaSessionUpdate update;
    update.remote_rtp = signalled(tagged.remote_address, tagged.remote_port);
    update.remote_rtcp = signalled(tagged.remote_address, tagged.remote_rtcp_port);
    update.remote_proven = proven(participant, tagged);
    update.send_enabled = false;
    for (std::size_t section : transport.sections) {
      const bool sends = sdp::sends(accepted[section]->local_direction);
      update.stream_send_enabled.push_back(sends);
      update.send_enabled = update.send_enabled || sends;
    }
    if (const auto* sdes = std::get_if<media::SdesKeying>(&transport.security.keying))
      update.remote_sdes_key_salt = sdes->remote_key_salt;
    participant.worker->update_session(participant.media[t].session_id, std::move(update));
    participant.media[t].security = transport.security;
  }
}

std::vector<const sdp::NegotiatedStream*> ConferenceService::accepted_streams(const Participant& participant) {
  std::vector<const sdp::NegotiatedStream*> out;
  for (const auto& stream : participant.streams)
    if (stream.accepted) out.push_back(&stream);
  return out;
}

void ConferenceService::start_media(Participant& participant, const MediaLayout& layout) {
  const Room* room = rooms_.find_by_dial_string(participant.room_id);
  if (!room || participant.ports.size() < layout.transports.size()) return;
  if (!participant.worker) participant.worker = &workers_->acquire(participant.room_id);
  // An sfu room's router knows every participant with media (speaker detection), audio-only too,
  // and so does its composite, built only while someone receives it (sip_video composite, a recorder).
  if (room->mode == RoomMode::kSfu) {
    auto routed = sfu_.join(engine_member(participant, false));
    auto composed = video_mcu_.join(engine_member(participant, false), /*on_demand=*/true);
    if (routed && composed)
      audio_.set_level_observer(participant.room_id, [routed = std::move(routed), composed = std::move(composed)](
                                                         std::span<const mixer::ParticipantLevel> levels) {
        routed(levels);
        composed(levels);
      });
    else if (routed || composed)
      audio_.set_level_observer(participant.room_id, routed ? std::move(routed) : std::move(composed));
  }
  // An mcu room's active speaker (the speaker layout, the framed tile) comes from the same levels.
  if (room->mode == RoomMode::kMcu)
    if (auto observer = video_mcu_.join(engine_member(participant, false)))
      audio_.set_level_observer(participant.room_id, std::move(observer));
  const bool was_in_audio = participant.in_audio_room;
  for (std::size_t t = 0; t < layout.transports.size(); ++t) start_session(participant, *room, layout, t);
  if (!was_in_audio && participant.in_audio_room) audio_.start(participant);
}

void ConferenceService::start_session(Participant& participant, const Room& room, const MediaLayout& layout,
                                      std::size_t index) {
  const auto accepted = accepted_streams(participant);
  const auto& transport = layout.transports[index];
  const auto& tagged = *accepted[transport.sections.front()];
  const auto& lease = participant.ports[index];
  media::MediaSessionSpec spec;
  spec.id = next_session_id_++;
  spec.label = participant.call_id;
  spec.rtp_fd = lease->rtp_fd();
  spec.rtcp_fd = lease->rtcp_fd();
  spec.sockets_owner = lease;
  spec.sockets_family = lease->family();
  spec.sockets_dscp = lease->dscp();
  spec.remote_rtp = signalled(tagged.remote_address, tagged.remote_port);
  spec.remote_rtcp = signalled(tagged.remote_address, tagged.remote_rtcp_port);
  spec.rtcp_mux = tagged.rtcp_mux;
  // Issue 12: nothing is sent until the peer proved its address (media/transport/source_latch.hpp).
  spec.remote_proven = proven(participant, tagged);
  spec.peer = participant.id;
  spec.latch_window = guard_.latch_window;
  spec.media_timeout = guard_.media_timeout;
  spec.hold_timeout = guard_.hold_timeout;
  spec.keying = transport.security.keying;
  spec.ice = transport.security.ice;
  if (transport.bundled) spec.bundle = transport.security.bundle;
  spec.cname = participant.cname;
  spec.clock_rate = tagged.codec.clock_rate;
  spec.send_enabled = false;
  std::vector<media::SinkFactory> sinks;
  for (std::size_t section : transport.sections) {
    const auto& stream = *accepted[section];
    const auto& sources = layout.sources[section];
    media::MediaStreamSpec stream_spec;
    for (auto ssrc : {sources.ssrc, sources.rtx_ssrc})
      if (ssrc != 0) stream_spec.local_ssrcs.push_back(ssrc);
    stream_spec.clock_rate = stream.codec.clock_rate;
    add_remote_payload_types(stream, spec.remote_payload_types);
    stream_spec.send_enabled = sdp::sends(stream.local_direction);
    spec.send_enabled = spec.send_enabled || stream_spec.send_enabled;
    // The session's own SSRC is what the audio MCU sends from: the audio section's, when there is one.
    if (sources.ssrc != 0 && (spec.local_ssrc == 0 || stream.media == "audio")) spec.local_ssrc = sources.ssrc;
    if (stream.media == "video") spec.session_bandwidth_bps = 2'000'000;  // RFC 3550 §6.2: RTCP's share
    spec.streams.push_back(std::move(stream_spec));
    sinks.push_back(sink_for(participant, room,
                             EngineStream{stream, sources.ssrc, sources.rtx_ssrc, send_order(participant, section)}));
  }
  if (spec.local_ssrc == 0) spec.local_ssrc = static_cast<std::uint32_t>(random_u64() | 1U);
  // The peer stamps transport-wide numbers when it negotiated the extension: report them back.
  for (const auto& extension : tagged.extensions)
    if (extension.uri == sdp::kTransportWideCcUri && extension.id >= 1 && extension.id <= 14)
      spec.transport_cc_extension_id = static_cast<std::uint8_t>(extension.id);
  participant.worker->add_session(std::move(spec), std::move(sinks));
  participant.media.push_back(ParticipantStream{next_session_id_ - 1, transport.security, transport.sections});
}

std::size_t ConferenceService::send_order(const Participant& participant, std::size_t section) {
  const auto accepted = accepted_streams(participant);
  std::size_t order = 0;
  for (std::size_t i = 0; i < section && i < accepted.size(); ++i)
    if (accepted[i]->media == "video" && sdp::sends(accepted[i]->local_direction)) ++order;
  return order;
}

media::SinkFactory ConferenceService::sink_for(Participant& participant, const Room& room, const EngineStream& stream) {
  if (room.mode == RoomMode::kEcho) return echo_.attach(engine_member(participant, false), stream);
  if (stream.negotiated.media == "audio") return audio_.attach(participant, stream);
  if (stream.negotiated.media == "video" && room.mode == RoomMode::kSfu) {
    // A SIP endpoint (not WebRTC: a room system, a softphone) in a room whose sip_video is
    // composite gets the composite in its first sending section instead of the speaker's slot.
    EngineStream routed = stream;
    routed.composite = room.sip_video == SipVideo::kComposite && stream.send_order == 0 &&
                       stream.negotiated.protocol != kWebRtcProtocol && sdp::sends(stream.negotiated.local_direction);
    const EngineMember member = engine_member(participant, false);
    return PairedSink::pair(video_mcu_.attach(member, routed), sfu_.attach(member, routed));
  }
  if (stream.negotiated.media == "video" && room.mode == RoomMode::kMcu)
    return video_mcu_.attach(engine_member(participant, false), stream);
  return {};
}

void ConferenceService::stop_media(Participant& participant) {
  if (!participant.worker) return;
  audio_.leave(participant);
  sfu_.detach(participant.id);
  video_mcu_.detach(participant.id);
  // The level observer is the room's video engine's (speaker detection): gone with the last member.
  if (sfu_.room_closed(participant.room_id) && video_mcu_.room_closed(participant.room_id))
    audio_.set_level_observer(participant.room_id, {});
  echo_.detach(participant.id);
  for (const auto& stream : participant.media) participant.worker->remove_session(stream.session_id);
  participant.media.clear();
  workers_->release(participant.room_id);
  participant.worker = nullptr;
}

void ConferenceService::on_acknowledged(sip::CallHandle call) {
  Participant* participant = participants_.find(call);
  if (!participant || participant->signaling_verified || !participant->signaling_source) return;
  participant->signaling_verified = true;
  // The sessions started unproven: the ACK proves the signaling IP for each of them whose SDP names it
  // (the same path as one stream proving another, MediaWorker::prove_peer; a latch is kept).
  if (participant->worker)
    if (auto at = media::parse_transport_address(participant->signaling_source->to_string(), 0))
      participant->worker->prove_peer(participant->id, *at);
}

void ConferenceService::on_media_timeout(std::uint64_t session_id) {
  auto owns = [&](const Participant& participant) {
    return std::ranges::any_of(participant.media,
                               [&](const ParticipantStream& stream) { return stream.session_id == session_id; });
  };
  const Participant* silent = nullptr;
  for (const auto& room : participants_.active_rooms())
    for (const Participant* participant : participants_.in_room(room))
      if (owns(*participant)) silent = participant;
  for (const auto& entry : early_)
    if (owns(entry.second)) silent = &entry.second;
  if (silent == nullptr) return;  // ended meanwhile
  // Issue 12: a peer that sends nothing (not even RTCP) holds a call slot and ports forever otherwise.
  CHORUS_LOG(kInfo, "conference", "media timeout: hanging up", {"room", silent->room_id}, {"call_id", silent->call_id},
             {"participant", silent->id},
             {"source", silent->signaling_source ? silent->signaling_source->to_string() : std::string("-")});
  const auto call = silent->call;
  if (silent->early) {
    if (!reject_early_ || !reject_early_(call, 408, "Media Timeout", {})) end_early(call);
    return;
  }
  if (hang_up_) hang_up_(call, "media timeout");
}

}  // namespace chorus::conference
