// AudioMcuEngine: every room's audio MCU (DESIGN §3 "Audio MCU", §7: audio is the MCU's in every
// room mode). Per room with audio, one mixer::AudioRoom runs on the room's media worker; it is made
// with the room's first audio member and its last control-loop reference is posted to the worker
// when the last member leaves, so the room and its GStreamer pipeline are torn down there, after the
// sessions that used them.
// The control loop never touches an AudioRoom: the controls below post closures to its worker. The
// rooms' events (RFC 4733 digits, talking, prompts played out) come back through an
// AudioRoomListener that posts them to the control loop, where the EngineListener hears them.
// Threading: control loop; the AudioRooms and their sinks run on the rooms' workers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conference/engines/media_engine.hpp"
#include "mixer/audio/audio_room.hpp"
#include "mixer/mixer_counters.hpp"

namespace chorus::conference {

// What the mixer is told about a member's audio, from its negotiated stream (codec, payload types,
// ptime, the RFC 6464 level extension's id); nullopt when the mixer cannot take it.
[[nodiscard]] std::optional<mixer::AudioMemberSpec> audio_member_spec(const EngineMember& member,
                                                                      const sdp::NegotiatedStream& stream);

class AudioMcuEngine final : public MediaEngine {
 public:
  // `listener` hears the rooms' events on the control loop, through `post_to_control`. Without a way
  // to post there (empty), the engine takes no audio: its rooms' events would have nowhere to go.
  AudioMcuEngine(PostToControl post_to_control, EngineListener& listener);
  // For rooms made from now on (the server wires the control loop after building the conference).
  void set_post_to_control(PostToControl post_to_control);
  ~AudioMcuEngine() override;
  AudioMcuEngine(const AudioMcuEngine&) = delete;
  AudioMcuEngine& operator=(const AudioMcuEngine&) = delete;

  [[nodiscard]] std::string_view name() const override { return "audio-mcu"; }
  // Takes an audio stream whose codec the mixer decodes (PCMU, PCMA, G.722, Opus), once per member.
  media::SinkFactory attach(const EngineMember& member, const EngineStream& stream) override;
  void detach(std::uint64_t participant_id) override;

  [[nodiscard]] bool has_member(std::uint64_t participant_id) const { return members_.contains(participant_id); }
  [[nodiscard]] std::size_t members_in(std::string_view room_id) const;

  // Controls, posted to the member's room; members that are not (or no longer) in a room are ignored.
  void set_admitted(std::uint64_t participant_id, bool admitted);
  void set_muted(std::uint64_t participant_id, bool muted);
  void set_gain(std::uint64_t participant_id, double gain_db);
  // Plays `clip` to one member; the listener hears on_prompt_done(participant, token) when it ends.
  void play(std::uint64_t participant_id, mixer::Clip clip, std::uint64_t token);
  void stop_prompts(std::uint64_t participant_id);
  // Mixed into what every admitted member of the room hears (join and leave tones).
  void announce(std::string_view room_id, mixer::Clip clip);
  // Who hears the room's levels every 20 ms on its worker (the SFU's speaker detection), now and for
  // a room made later; an empty observer removes it.
  void set_level_observer(std::string_view room_id, mixer::AudioRoom::LevelObserver observer);
  // Who hears everyone's mix every 20 ms on the room's worker (its recorder), now and for a room
  // made later; an empty tap removes it.
  void set_mix_tap(std::string_view room_id, mixer::AudioRoom::MixTap tap);

  // Every room's counters (frames sent, late frames), for /metrics and the status line.
  [[nodiscard]] const mixer::MixerCounters& counters() const { return *counters_; }

 private:
  struct RoomAudio {
    std::shared_ptr<mixer::AudioRoom> room;  // used on `worker` only; the last reference is posted there
    media::MediaWorker* worker = nullptr;
    std::size_t members = 0;
  };
  class EventsToControl;
  template <typename Work>
  void on_member_room(std::uint64_t participant_id, Work&& work);
  template <typename Callback, typename Install>
  void set_room_callback(std::map<std::string, Callback, std::less<>>& kept, std::string_view room_id,
                         Callback callback, Install install);

  std::shared_ptr<mixer::MixerCounters> counters_ = std::make_shared<mixer::MixerCounters>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted events check it
  EngineListener& listener_;
  std::shared_ptr<mixer::AudioRoomListener> events_;  // null while there is no way to post to the control loop
  std::map<std::string, RoomAudio, std::less<>> rooms_;
  std::unordered_map<std::uint64_t, std::string> members_;  // participant → room id
  std::map<std::string, mixer::AudioRoom::LevelObserver, std::less<>> level_observers_;
  std::map<std::string, mixer::AudioRoom::MixTap, std::less<>> mix_taps_;
};

}  // namespace chorus::conference
