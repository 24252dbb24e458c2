#include "conference/engines/sfu_engine.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "sfu/video_sink.hpp"
#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {
namespace {

std::vector<sfu::CodecMapping> codecs_of(const sdp::NegotiatedStream& stream) {
  std::vector<sfu::CodecMapping> out;
  for (const auto& format : stream.video_formats) {
    auto codec = sfu::video_codec_from_name(format.codec.name);
    if (!codec || format.payload_type < 0 || format.payload_type > 127) continue;
    sfu::CodecMapping mapping{*codec, static_cast<std::uint8_t>(format.payload_type), std::nullopt,
                              static_cast<std::uint32_t>(format.codec.clock_rate)};
    if (format.rtx_payload_type && *format.rtx_payload_type >= 0 && *format.rtx_payload_type <= 127)
      mapping.rtx_payload_type = static_cast<std::uint8_t>(*format.rtx_payload_type);
    out.push_back(mapping);
  }
  return out;
}

// RFC 8285 §4.2: ids 1..14 are what the one-byte form carries; two-byte ids (RFC 8285 §4.3, with
// extmap-allow-mixed) are read but never written by us, so they count as not negotiated here.
sfu::ExtensionIds extensions_of(const sdp::NegotiatedStream& stream) {
  const auto id_of = [&](std::string_view uri) { return sdp::one_byte_extension_id(stream.extensions, uri); };
  sfu::ExtensionIds ids;
  ids.mid = id_of(sdp::kMidExtensionUri);
  ids.rid = id_of(sdp::kRtpStreamIdUri);
  ids.repaired_rid = id_of(sdp::kRepairedRtpStreamIdUri);
  ids.abs_send_time = id_of(sdp::kAbsSendTimeUri);
  ids.transport_cc = id_of(sdp::kTransportWideCcUri);
  return ids;
}

sfu::FeedbackCaps feedback_of(const sdp::NegotiatedStream& stream) {
  sfu::FeedbackCaps caps;
  for (const auto& format : stream.video_formats) {
    caps.nack = caps.nack || format.feedback.nack;
    caps.pli = caps.pli || format.feedback.nack_pli;
    caps.fir = caps.fir || format.feedback.ccm_fir;
    caps.remb = caps.remb || format.feedback.goog_remb;
    caps.transport_cc = caps.transport_cc || format.feedback.transport_cc;
  }
  return caps;
}

bool is_video(const sdp::NegotiatedStream& stream) {
  return stream.accepted && stream.media == "video" && !stream.video_formats.empty();
}

}  // namespace

sfu::ProducerSpec producer_spec(std::uint64_t participant_id, const sdp::NegotiatedStream& stream) {
  sfu::ProducerSpec spec;
  spec.participant = static_cast<sfu::ParticipantId>(participant_id);
  spec.codecs = codecs_of(stream);
  spec.extensions = extensions_of(stream);
  for (const auto& rid : stream.receive_rids) spec.rids.push_back(rid.rid);
  // RFC 5576 §4.2: SIM lists the layers; FID pairs a media SSRC with its retransmission SSRC.
  for (const auto& group : stream.remote_ssrc_groups) {
    if (group.semantics == "SIM" && spec.ssrcs.empty()) spec.ssrcs = group.ssrcs;
    if (group.semantics == "FID" && group.ssrcs.size() == 2)
      spec.rtx_pairs.emplace_back(group.ssrcs[0], group.ssrcs[1]);
  }
  if (spec.ssrcs.empty() && !stream.remote_ssrcs.empty()) {
    // One stream: the signalled SSRC that is not some FID pair's retransmission SSRC.
    for (auto ssrc : stream.remote_ssrcs)
      if (std::ranges::none_of(spec.rtx_pairs, [ssrc](const auto& pair) { return pair.second == ssrc; })) {
        spec.ssrcs.push_back(ssrc);
        break;
      }
  }
  spec.feedback = feedback_of(stream);
  return spec;
}

sfu::SlotSpec slot_spec(std::uint64_t participant_id, const EngineStream& stream) {
  sfu::SlotSpec spec;
  spec.receiver = static_cast<sfu::ParticipantId>(participant_id);
  spec.mid = stream.negotiated.mid;
  spec.order = stream.send_order;
  spec.ssrc = stream.local_ssrc;
  spec.rtx_ssrc = stream.local_rtx_ssrc;
  spec.codecs = codecs_of(stream.negotiated);
  spec.extensions = extensions_of(stream.negotiated);
  spec.feedback = feedback_of(stream.negotiated);
  spec.max_bitrate_bps = stream.negotiated.remote_max_bitrate_bps;
  return spec;
}

// The routers' events, posted from their media workers to the control loop.
class SfuEngine::EventsToControl final : public sfu::RouterListener {
 public:
  // `post` is copied: the router may report after the engine is gone (shutdown), and then only the
  // posted closure, which checks `alive`, may touch it.
  EventsToControl(SfuEngine& engine, PostToControl post, std::weak_ptr<bool> alive)
      : engine_(engine), post_(std::move(post)), alive_(std::move(alive)) {}
  void on_slots_changed(sfu::ParticipantId receiver, std::vector<sfu::SlotView> slots) override {
    deliver([receiver, slots = std::move(slots)](SfuEngine& engine) mutable {
      if (!engine.members_.contains(receiver)) return;  // left meanwhile
      auto& stored = engine.slots_[receiver];
      stored = std::move(slots);
      engine.listener_.on_video_slots(receiver, stored);
    });
  }
  void on_keyframe_request(sfu::ParticipantId publisher) override {
    deliver([publisher](SfuEngine& engine) {
      if (engine.members_.contains(publisher)) engine.listener_.on_keyframe_wanted(publisher);
    });
  }

 private:
  template <typename Event>
  void deliver(Event event) {
    if (!post_) return;
    post_([engine = &engine_, alive = alive_, event = std::move(event)]() mutable {
      if (alive.lock()) event(*engine);  // the engine is gone at shutdown: drop the event
    });
  }
  SfuEngine& engine_;
  PostToControl post_;
  std::weak_ptr<bool> alive_;
};

SfuEngine::SfuEngine(sfu::RouterConfig config, Listener& listener) : config_(config), listener_(listener) {}

// Routers still alive at shutdown are dropped here: their workers may already be gone, and the
// sinks there hold their own references.
SfuEngine::~SfuEngine() = default;

mixer::AudioRoom::LevelObserver SfuEngine::join(const EngineMember& member) {
  if (member.worker == nullptr || members_.contains(member.participant_id)) return {};
  RoomVideo& room = rooms_[member.room_id];
  const bool made = !room.router;
  if (made) {
    room.worker = member.worker;
    room.router = std::make_shared<sfu::Router>(member.room_id, config_,
                                                std::make_shared<EventsToControl>(*this, post_, alive_), counters_);
    CHORUS_LOG(kInfo, "conference", "video router started", {"room", member.room_id}, {"worker", room.worker->index()});
  }
  ++room.members;
  members_.emplace(member.participant_id, member.room_id);
  room.worker->post([router = room.router, id = static_cast<sfu::ParticipantId>(member.participant_id),
                     name = member.display_name,
                     admitted = member.admitted]() mutable { router->add_participant(id, std::move(name), admitted); });
  if (!made) return {};
  // Runs on the worker inside the audio MCU's tick: RFC 6464-style levels into speaker detection.
  return [router = std::weak_ptr<sfu::Router>(room.router),
          levels = std::vector<sfu::SpeakerLevel>()](std::span<const mixer::ParticipantLevel> mixed) mutable {
    auto target = router.lock();
    if (!target) return;
    levels.clear();
    for (const auto& level : mixed) levels.push_back(sfu::SpeakerLevel{level.id, level.level_dbov, level.voiced});
    target->on_audio_levels(levels);
  };
}

media::SinkFactory SfuEngine::attach(const EngineMember& member, const EngineStream& stream) {
  const auto& negotiated = stream.negotiated;
  auto member_room = members_.find(member.participant_id);
  if (!is_video(negotiated) || member_room == members_.end()) return {};
  auto room = rooms_.find(member_room->second);
  if (room == rooms_.end()) return {};
  std::optional<sfu::ProducerSpec> producer;
  std::optional<sfu::SlotSpec> slot;
  if (sdp::receives(negotiated.local_direction)) producer = producer_spec(member.participant_id, negotiated);
  if (sdp::sends(negotiated.local_direction) && stream.local_ssrc != 0 && !stream.composite)
    slot = slot_spec(member.participant_id, stream);
  if (!producer && !slot) return {};
  return [router = room->second.router, producer = std::move(producer), slot = std::move(slot)] {
    return std::make_unique<sfu::VideoSink>(router, producer, slot);
  };
}

void SfuEngine::detach(std::uint64_t participant_id) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  auto it = rooms_.find(member->second);
  members_.erase(member);
  slots_.erase(participant_id);
  caps_.erase(participant_id);
  if (it == rooms_.end()) return;
  RoomVideo& room = it->second;
  room.worker->post(
      [router = room.router, id = static_cast<sfu::ParticipantId>(participant_id)] { router->remove_participant(id); });
  if (--room.members > 0) return;
  // The last reference the control loop holds goes to the worker, so the router dies there.
  room.worker->post([router = std::move(room.router)]() mutable { router.reset(); });
  CHORUS_LOG(kInfo, "conference", "video router stopped", {"room", it->first});
  rooms_.erase(it);
}

template <typename Work>
void SfuEngine::on_member_router(std::uint64_t participant_id, Work&& work) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  auto it = rooms_.find(member->second);
  if (it == rooms_.end()) return;
  it->second.worker->post([router = it->second.router, work = std::forward<Work>(work)] { work(*router); });
}

void SfuEngine::set_receive_cap(std::uint64_t participant_id, std::uint64_t bps) {
  if (!members_.contains(participant_id)) return;
  caps_[participant_id] = bps;
  on_member_router(participant_id, [id = static_cast<sfu::ParticipantId>(participant_id), bps](sfu::Router& router) {
    router.set_receive_cap(id, bps);
  });
}

void SfuEngine::set_admitted(std::uint64_t participant_id, bool admitted) {
  on_member_router(participant_id, [id = static_cast<sfu::ParticipantId>(participant_id),
                                    admitted](sfu::Router& router) { router.set_admitted(id, admitted); });
}

void SfuEngine::request_keyframes_for(std::uint64_t participant_id) {
  on_member_router(participant_id, [id = static_cast<sfu::ParticipantId>(participant_id)](sfu::Router& router) {
    router.request_keyframes_for(id);
  });
}

const std::vector<sfu::SlotView>& SfuEngine::slots_of(std::uint64_t participant_id) const {
  static const std::vector<sfu::SlotView> no_slots;
  auto it = slots_.find(participant_id);
  return it == slots_.end() ? no_slots : it->second;
}

std::uint64_t SfuEngine::receive_cap(std::uint64_t participant_id) const {
  auto it = caps_.find(participant_id);
  return it == caps_.end() ? 0 : it->second;
}

}  // namespace chorus::conference
