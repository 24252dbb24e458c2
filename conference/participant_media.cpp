// ConferenceService, media: each accepted stream of a participant gets a media::MediaSession on the
// room's worker (posted, named by id; the session works on dups of the port lease's sockets, so the
// port stays bound until both sides let go), whose sink comes from the engine that serves the stream
// in the room: the echo engine in the echo room, the audio MCU (through the AudioBridge) for audio
// everywhere else. A re-offer updates the sessions in place (RFC 3264 §8); the call's end stops them
// and detaches the participant from its engines.
// Threading: control loop only.
#include <unistd.h>

#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "conference/conference_service.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::conference {
namespace {

// Where the SDP says to send; nullopt for the RFC 2543 hold address 0.0.0.0, port 0 or a name.
std::optional<media::TransportAddress> signalled(const std::string& address, std::uint16_t port) {
  auto parsed = media::parse_transport_address(address, port);
  if (!parsed || port == 0) return std::nullopt;
  if (std::ranges::all_of(parsed->ip, [](std::uint8_t octet) { return octet == 0; })) return std::nullopt;
  return parsed;
}

}  // namespace

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
  const bool was_in_audio = participant.in_audio_room;
  auto sink = sink_for(participant, *room, *stream);
  participant.worker->add_session(std::move(spec), std::move(sink));
  participant.media.push_back(ParticipantStream{next_session_id_ - 1, std::move(security)});
  if (!was_in_audio && participant.in_audio_room) audio_.start(participant);
}

media::SinkFactory ConferenceService::sink_for(Participant& participant, const Room& room,
                                               const sdp::NegotiatedStream& stream) {
  if (room.mode == RoomMode::kEcho) return echo_.attach(engine_member(participant, false), stream);
  if (stream.media == "audio") return audio_.attach(participant, stream);
  return {};  // video: the SFU (sfu rooms) and the video MCU (mcu rooms) take it
}

void ConferenceService::stop_media(Participant& participant) {
  if (!participant.worker) return;
  audio_.leave(participant);
  echo_.detach(participant.id);
  for (const auto& stream : participant.media) participant.worker->remove_session(stream.session_id);
  participant.media.clear();
  workers_->release(participant.room_id);
  participant.worker = nullptr;
}

}  // namespace chorus::conference
