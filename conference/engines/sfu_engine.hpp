// SfuEngine: the video engine of rooms in `sfu` mode (DESIGN §7). Per room with participants, one
// sfu::Router runs on the room's media worker; every participant who gets media joins it (the
// speaker detection must know everyone, audio-only callers too), and each video section becomes a
// VideoSink: a producer where the participant sends us video, a slot where we send it someone's.
// The router fills slots with the last-N speakers from the audio MCU's levels (the conference wires
// the room's AudioRoom to it), and reports slot maps and keyframe requests for endpoints without
// RTCP feedback; those come back here on the control loop, where the listener acts on them.
// The router is made with the room's first participant and its last control-loop reference is posted
// to the worker when the last one leaves, so it dies there after the sinks.
// Threading: control loop; the routers and sinks run on the rooms' workers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conference/engines/media_engine.hpp"
#include "mixer/audio/audio_room.hpp"
#include "sfu/router.hpp"

namespace chorus::conference {

class SfuEngine final : public MediaEngine {
 public:
  // What the routers report, on the control loop.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_video_slots(std::uint64_t receiver, const std::vector<sfu::SlotView>& slots) = 0;
    virtual void on_keyframe_wanted(std::uint64_t publisher) = 0;
  };

  SfuEngine(sfu::RouterConfig config, Listener& listener);
  // For routers made from now on.
  void set_config(sfu::RouterConfig config) { config_ = config; }
  ~SfuEngine() override;
  SfuEngine(const SfuEngine&) = delete;
  SfuEngine& operator=(const SfuEngine&) = delete;

  // The routers' events reach the control loop through this (unset: they are dropped).
  void set_post_to_control(PostToControl post_to_control) { post_ = std::move(post_to_control); }
  [[nodiscard]] std::string_view name() const override { return "sfu"; }

  // A participant of an sfu room got media: its room's router counts it from now on. Returns the
  // room's audio level observer when the router was made now (the conference gives it to the audio
  // MCU), else an empty one.
  mixer::AudioRoom::LevelObserver join(const EngineMember& member);
  // A video section of a joined participant: a VideoSink, or empty for anything else.
  media::SinkFactory attach(const EngineMember& member, const EngineStream& stream) override;
  void detach(std::uint64_t participant_id) override;
  // Whether the participant's room has no router any more (its last member left).
  [[nodiscard]] bool room_closed(std::string_view room_id) const { return !rooms_.contains(room_id); }

  // Admitted past PIN entry / the waiting room: from now on it sees and is seen.
  void set_admitted(std::uint64_t participant_id, bool admitted);
  [[nodiscard]] bool has_member(std::uint64_t participant_id) const { return members_.contains(participant_id); }
  // REST max_receive_kbps (0: no cap); SIP INFO picture_fast_update from a receiver.
  void set_receive_cap(std::uint64_t participant_id, std::uint64_t bps);
  void request_keyframes_for(std::uint64_t participant_id);
  // The participant's slots as last reported (REST); empty when it has none.
  [[nodiscard]] const std::vector<sfu::SlotView>& slots_of(std::uint64_t participant_id) const;
  [[nodiscard]] std::uint64_t receive_cap(std::uint64_t participant_id) const;

  [[nodiscard]] const sfu::SfuCounters& counters() const { return *counters_; }

 private:
  struct RoomVideo {
    std::shared_ptr<sfu::Router> router;  // used on `worker` only; the last reference is posted there
    media::MediaWorker* worker = nullptr;
    std::size_t members = 0;
  };
  class EventsToControl;
  template <typename Work>
  void on_member_router(std::uint64_t participant_id, Work&& work);

  sfu::RouterConfig config_;
  Listener& listener_;
  PostToControl post_;
  std::shared_ptr<sfu::SfuCounters> counters_ = std::make_shared<sfu::SfuCounters>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted events check it
  std::map<std::string, RoomVideo, std::less<>> rooms_;
  std::unordered_map<std::uint64_t, std::string> members_;  // participant → room id
  std::unordered_map<std::uint64_t, std::vector<sfu::SlotView>> slots_;
  std::unordered_map<std::uint64_t, std::uint64_t> caps_;
};

// The router's view of a negotiated video section (exposed for tests).
sfu::ProducerSpec producer_spec(std::uint64_t participant_id, const sdp::NegotiatedStream& stream);
sfu::SlotSpec slot_spec(std::uint64_t participant_id, const EngineStream& stream);

}  // namespace chorus::conference
