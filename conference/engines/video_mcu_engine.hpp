// VideoMcuEngine: the video engine of rooms in `mcu` mode (DESIGN §7 "Video model": the MCU
// encodes each layout class once and fans the result out). Per room with participants, one
// mixer::VideoRoom runs on the room's media worker; every participant with media is a tile (an
// audio-only caller too, as a plain tile), each video section where the participant sends becomes
// an input (its camera, or its content stream when the section says a=content:slides, RFC 4796),
// and the first video section where we send carries the composite.
// The layout (grid, speaker, presentation, a pinned participant) is a room setting kept here while
// the server runs; the speaker follows the audio MCU's talking events.
// The room is made with its first participant; its last control-loop reference is posted to the
// worker when the last one leaves, so it dies there after the sinks.
// Threading: control loop; the rooms and their sinks run on the rooms' workers.
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
#include "mixer/video/video_room.hpp"

namespace chorus::conference {

// A room's layout as REST sets and shows it.
struct LayoutSetting {
  mixer::LayoutKind kind = mixer::LayoutKind::kGrid;
  std::optional<std::uint64_t> pinned;  // a participant id
  friend bool operator==(const LayoutSetting&, const LayoutSetting&) = default;
};

class VideoMcuEngine final : public MediaEngine {
 public:
  // What the rooms report, on the control loop.
  class Listener {
   public:
    virtual ~Listener() = default;
    // A sender without RTCP feedback should send a key frame (SIP INFO picture_fast_update).
    virtual void on_keyframe_wanted(std::uint64_t publisher) = 0;
  };

  VideoMcuEngine(mixer::VideoRoomConfig config, Listener& listener);
  ~VideoMcuEngine() override;
  VideoMcuEngine(const VideoMcuEngine&) = delete;
  VideoMcuEngine& operator=(const VideoMcuEngine&) = delete;

  void set_post_to_control(PostToControl post_to_control) { post_ = std::move(post_to_control); }
  // For rooms made from now on.
  void set_config(mixer::VideoRoomConfig config) { config_ = config; }
  [[nodiscard]] std::string_view name() const override { return "video-mcu"; }

  // A participant of an mcu room got media: it is a tile from now on (while admitted). Returns the
  // room's audio level observer when the room was made now (the conference gives it to the audio
  // MCU: the active speaker, sfu::ActiveSpeakerDetector), else an empty one.
  // `on_demand` (an sfu room's composite): the room composes only while someone receives the
  // composite (an EngineStream marked composite, or a recorder), and only such sections get it.
  mixer::AudioRoom::LevelObserver join(const EngineMember& member, bool on_demand = false);
  [[nodiscard]] bool room_closed(std::string_view room_id) const { return !rooms_.contains(room_id); }
  // A video section of a joined participant: an input, the composite's receiver, or both.
  media::SinkFactory attach(const EngineMember& member, const EngineStream& stream) override;
  void detach(std::uint64_t participant_id) override;
  [[nodiscard]] bool has_member(std::uint64_t participant_id) const { return members_.contains(participant_id); }

  void set_admitted(std::uint64_t participant_id, bool admitted);
  // A receiver's SIP INFO picture_fast_update: a key frame of its class.
  void request_keyframe_for(std::uint64_t participant_id);

  void set_layout(std::string_view room_id, LayoutSetting layout);
  [[nodiscard]] LayoutSetting layout_of(std::string_view room_id) const;

  // The meeting's recorder (conference/recording): the composite at the canvas size, in the codec
  // a full-size receiver of the room already takes (VP8, unless only H.264 ones do), so recording
  // adds no encode; VP8 when nobody receives it. nullopt: the room has no compositor.
  [[nodiscard]] std::optional<mixer::VideoCodec> recording_codec(std::string_view room_id) const;
  // The recorder joins that class as a receiver without a session (mixer::VideoRoom::attach_tap);
  // `tap` runs on the room's worker. Nothing when the room has no compositor.
  void attach_recorder(std::string_view room_id, mixer::ParticipantId recorder_id, mixer::VideoCodec codec,
                       mixer::VideoRoom::PacketTap tap);
  void detach_recorder(std::string_view room_id, mixer::ParticipantId recorder_id);

  [[nodiscard]] const mixer::VideoMcuCounters& counters() const { return *counters_; }

 private:
  struct RoomVideo {
    std::shared_ptr<mixer::VideoRoom> room;  // used on `worker` only; the last reference is posted there
    media::MediaWorker* worker = nullptr;
    std::size_t members = 0;
    bool on_demand = false;
  };
  struct MemberState {
    std::string room_id;
    std::string display_name;
    bool admitted = true;
    bool receives = false;                             // has a section carrying the composite
    std::optional<mixer::VideoCodec> full_size_codec;  // it takes the composite at the canvas size in this codec
  };
  class EventsToControl;
  template <typename Work>
  void on_room(std::string_view room_id, Work&& work);
  void apply_layout(std::string_view room_id);

  mixer::VideoRoomConfig config_;
  Listener& listener_;
  PostToControl post_;
  std::shared_ptr<mixer::VideoMcuCounters> counters_ = std::make_shared<mixer::VideoMcuCounters>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted events check it
  std::map<std::string, RoomVideo, std::less<>> rooms_;
  std::map<std::string, LayoutSetting, std::less<>> layouts_;
  std::unordered_map<std::uint64_t, MemberState> members_;
};

// The largest picture (width, height; 0, 0: no limit) a receiver decodes at `fps` frames a second,
// from its offer's format parameters: VP8's max-fs (RFC 7741 §6.1, in 16×16 macroblocks); H.264's
// level (Table A-1 MaxFS, and MaxMBPS / fps), raised by max-fs and max-mbps (RFC 6184 §8.1); the
// largest 16:9 picture of whole macroblocks within it. Exposed for tests.
std::pair<int, int> receiver_max_size(const sdp::VideoFormat& format, int fps = 30);

}  // namespace chorus::conference
