#include "conference/engines/audio_mcu_engine.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {

std::optional<mixer::AudioMemberSpec> audio_member_spec(const EngineMember& member,
                                                        const sdp::NegotiatedStream& stream) {
  auto codec = mixer::audio_codec_from_name(stream.codec.name);
  if (!codec || stream.payload_type < 0 || stream.payload_type > 127) return std::nullopt;
  mixer::AudioMemberSpec spec;
  spec.id = static_cast<mixer::ParticipantId>(member.participant_id);
  spec.codec = *codec;
  spec.payload_type = static_cast<std::uint8_t>(stream.payload_type);
  if (stream.telephone_event_pt && *stream.telephone_event_pt >= 0 && *stream.telephone_event_pt <= 127)
    spec.telephone_event_payload_type = static_cast<std::uint8_t>(*stream.telephone_event_pt);
  spec.ptime = std::chrono::milliseconds(std::clamp(stream.ptime_ms, 10, 120) / 10 * 10);
  spec.audio_level_extension_id = sdp::one_byte_extension_id(stream.extensions, sdp::kAudioLevelUri);
  spec.admitted = member.admitted;
  spec.muted = member.muted;
  spec.gain_db = member.gain_db;
  return spec;
}

// The rooms' events, posted from their media workers to the control loop.
class AudioMcuEngine::EventsToControl final : public mixer::AudioRoomListener {
 public:
  EventsToControl(PostToControl post, EngineListener& listener, std::weak_ptr<bool> alive)
      : post_(std::move(post)), listener_(listener), alive_(std::move(alive)) {}
  void on_dtmf(mixer::ParticipantId member, char digit) override {
    deliver([member, digit](EngineListener& l) { l.on_dtmf(member, digit); });
  }
  void on_talking(mixer::ParticipantId member, bool talking) override {
    deliver([member, talking](EngineListener& l) { l.on_talking(member, talking); });
  }
  void on_prompt_done(mixer::ParticipantId member, std::uint64_t token) override {
    deliver([member, token](EngineListener& l) { l.on_prompt_done(member, token); });
  }

 private:
  template <typename Event>
  void deliver(Event event) {
    post_([listener = &listener_, alive = alive_, event] {
      if (alive.lock()) event(*listener);  // the engine is gone at shutdown: drop the event
    });
  }
  PostToControl post_;
  EngineListener& listener_;
  std::weak_ptr<bool> alive_;
};

AudioMcuEngine::AudioMcuEngine(PostToControl post_to_control, EngineListener& listener) : listener_(listener) {
  set_post_to_control(std::move(post_to_control));
}

void AudioMcuEngine::set_post_to_control(PostToControl post_to_control) {
  events_ =
      post_to_control ? std::make_shared<EventsToControl>(std::move(post_to_control), listener_, alive_) : nullptr;
}

// Rooms still alive at shutdown are dropped here: their workers may already be gone, and the sinks
// there hold their own references.
AudioMcuEngine::~AudioMcuEngine() = default;

std::size_t AudioMcuEngine::members_in(std::string_view room_id) const {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? 0 : it->second.members;
}

media::SinkFactory AudioMcuEngine::attach(const EngineMember& member, const EngineStream& attached) {
  const sdp::NegotiatedStream& stream = attached.negotiated;
  if (!events_ || members_.contains(member.participant_id) || stream.media != "audio" || member.worker == nullptr)
    return {};
  auto spec = audio_member_spec(member, stream);
  if (!spec) return {};
  RoomAudio& audio = rooms_[member.room_id];
  if (!audio.room) {
    audio.worker = member.worker;
    audio.room = std::make_shared<mixer::AudioRoom>(member.room_id, events_, mixer::MixerConfig{}, counters_);
    // Not on the worker yet: nothing reads the observer before the first sink attaches there.
    if (auto observer = level_observers_.find(member.room_id); observer != level_observers_.end())
      audio.room->set_level_observer(observer->second);
    if (auto tap = mix_taps_.find(member.room_id); tap != mix_taps_.end()) audio.room->set_mix_tap(tap->second);
    CHORUS_LOG(kInfo, "conference", "audio engine started", {"room", member.room_id},
               {"worker", audio.worker->index()});
  }
  ++audio.members;
  members_.emplace(member.participant_id, member.room_id);
  return [room = audio.room, spec = *spec] { return std::make_unique<mixer::AudioRoomSink>(room, spec); };
}

void AudioMcuEngine::detach(std::uint64_t participant_id) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  auto it = rooms_.find(member->second);
  members_.erase(member);
  if (it == rooms_.end() || --it->second.members > 0) return;
  // The last reference the control loop holds goes to the worker with this closure, so the room
  // and its GStreamer pipeline are destroyed there, after the sessions that used them.
  it->second.worker->post([room = std::move(it->second.room)]() mutable { room.reset(); });
  CHORUS_LOG(kInfo, "conference", "audio engine stopped", {"room", it->first});
  rooms_.erase(it);
}

template <typename Work>
void AudioMcuEngine::on_member_room(std::uint64_t participant_id, Work&& work) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  auto it = rooms_.find(member->second);
  if (it == rooms_.end()) return;
  it->second.worker->post([room = it->second.room, work = std::forward<Work>(work)] { work(*room); });
}

void AudioMcuEngine::set_admitted(std::uint64_t participant_id, bool admitted) {
  on_member_room(participant_id, [id = static_cast<mixer::ParticipantId>(participant_id),
                                  admitted](mixer::AudioRoom& room) { room.set_admitted(id, admitted); });
}

void AudioMcuEngine::set_muted(std::uint64_t participant_id, bool muted) {
  on_member_room(participant_id, [id = static_cast<mixer::ParticipantId>(participant_id),
                                  muted](mixer::AudioRoom& room) { room.set_muted(id, muted); });
}

void AudioMcuEngine::set_gain(std::uint64_t participant_id, double gain_db) {
  on_member_room(participant_id, [id = static_cast<mixer::ParticipantId>(participant_id),
                                  gain_db](mixer::AudioRoom& room) { room.set_gain_db(id, gain_db); });
}

void AudioMcuEngine::play(std::uint64_t participant_id, mixer::Clip clip, std::uint64_t token) {
  on_member_room(participant_id, [id = static_cast<mixer::ParticipantId>(participant_id), clip = std::move(clip),
                                  token](mixer::AudioRoom& room) { room.play(id, clip, token); });
}

void AudioMcuEngine::stop_prompts(std::uint64_t participant_id) {
  on_member_room(participant_id, [id = static_cast<mixer::ParticipantId>(participant_id)](mixer::AudioRoom& room) {
    room.stop_prompts(id);
  });
}

// Kept for rooms made later, and handed to the room now on its worker.
template <typename Callback, typename Install>
void AudioMcuEngine::set_room_callback(std::map<std::string, Callback, std::less<>>& kept, std::string_view room_id,
                                       Callback callback, Install install) {
  if (callback)
    kept.insert_or_assign(std::string(room_id), callback);
  else
    kept.erase(std::string(room_id));
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  it->second.worker->post([room = it->second.room, callback = std::move(callback), install]() mutable {
    install(*room, std::move(callback));
  });
}

void AudioMcuEngine::set_level_observer(std::string_view room_id, mixer::AudioRoom::LevelObserver observer) {
  set_room_callback(level_observers_, room_id, std::move(observer),
                    [](mixer::AudioRoom& room, auto callback) { room.set_level_observer(std::move(callback)); });
}

void AudioMcuEngine::set_mix_tap(std::string_view room_id, mixer::AudioRoom::MixTap tap) {
  set_room_callback(mix_taps_, room_id, std::move(tap),
                    [](mixer::AudioRoom& room, auto callback) { room.set_mix_tap(std::move(callback)); });
}

void AudioMcuEngine::announce(std::string_view room_id, mixer::Clip clip) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  it->second.worker->post([room = it->second.room, clip = std::move(clip)] { room->announce(clip); });
}

}  // namespace chorus::conference
