#include "conference/engines/video_mcu_engine.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"
#include "sfu/active_speaker.hpp"
#include "sfu/payload/h264_payload.hpp"
#include "sfu/payload/vp8_descriptor.hpp"
#include "signaling/sdp/format_parameters.hpp"
#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {
namespace {

using mixer::ParticipantId;

bool iequals_ascii(std::string_view a, std::string_view b);

struct VideoFeedbackCaps {
  bool pli = false;
  bool fir = false;
};

VideoFeedbackCaps video_feedback_of(const sdp::NegotiatedStream& stream) {
  VideoFeedbackCaps caps;
  for (const auto& format : stream.video_formats) {
    caps.pli = caps.pli || format.feedback.nack_pli;
    caps.fir = caps.fir || format.feedback.ccm_fir;
  }
  return caps;
}

// The codec the MCU decodes and encodes in this section: the answer's first format.
std::optional<std::pair<mixer::VideoCodec, std::uint8_t>> codec_of(const sdp::NegotiatedStream& stream) {
  auto codec = mixer::video_codec_from_name(stream.codec.name);
  if (!codec || stream.payload_type < 0 || stream.payload_type > 127) return std::nullopt;
  return std::pair{*codec, static_cast<std::uint8_t>(stream.payload_type)};
}

// Runs on the worker inside the audio MCU's tick: the room's levels into the SFU's speaker detection
// (a spurt must last and out-score the holder; coughs never switch), whose dominant speaker the
// video room shows. Members are learnt from the levels and forgotten after a second without one.
mixer::AudioRoom::LevelObserver speaker_observer(const std::shared_ptr<mixer::VideoRoom>& room) {
  struct State {
    sfu::ActiveSpeakerDetector detector;
    std::vector<sfu::SpeakerLevel> levels;
    std::unordered_map<ParticipantId, std::uint64_t> last_heard;  // frame number
    std::uint64_t frame = 0;
    std::optional<ParticipantId> shown;
  };
  constexpr std::uint64_t kForgetAfterFrames = 50;  // 1 s of 20 ms frames
  return [target = std::weak_ptr<mixer::VideoRoom>(room),
          state = std::make_shared<State>()](std::span<const mixer::ParticipantLevel> mixed) {
    auto room = target.lock();
    if (!room) return;
    ++state->frame;
    state->levels.clear();
    for (const auto& level : mixed) {
      if (!state->detector.contains(level.id) && !state->detector.add(level.id)) continue;  // room full
      state->last_heard[level.id] = state->frame;
      state->levels.push_back(sfu::SpeakerLevel{level.id, level.level_dbov, level.voiced});
    }
    if (state->frame % kForgetAfterFrames == 0)
      std::erase_if(state->last_heard, [&](const auto& entry) {
        const bool gone = state->frame - entry.second >= kForgetAfterFrames;
        if (gone) (void)state->detector.remove(entry.first);
        return gone;
      });
    state->detector.update(state->levels);
    if (state->detector.dominant() != state->shown) {
      state->shown = state->detector.dominant();
      room->set_speaker(state->shown);
    }
  };
}

// H.264 Table A-1 by level_idc: MaxFS (macroblocks a frame) and MaxMBPS (macroblocks a second);
// zeros for a level not listed (no limit taken).
struct H264LevelLimits {
  std::uint32_t max_frame_macroblocks = 0;
  std::uint32_t max_macroblocks_per_second = 0;
};

H264LevelLimits h264_level_limits(std::uint8_t level_idc) {
  switch (level_idc) {
    case 9:  // level 1b
    case 10:
      return {99, 1485};
    case 11:  // level 1.1 (or 1b with constraint_set3: 99, the stricter is not assumed)
      return {396, 3000};
    case 12:
      return {396, 6000};
    case 13:
    case 20:
      return {396, 11880};
    case 21:
      return {792, 19800};
    case 22:
      return {1620, 20250};
    case 30:
      return {1620, 40500};
    case 31:
      return {3600, 108000};
    case 32:
      return {5120, 216000};
    case 40:
    case 41:
      return {8192, 245760};
    case 42:
      return {8704, 522240};
    default:
      return {};
  }
}

std::uint32_t format_number(const std::vector<sdp::FormatParameter>& params, std::string_view name) {
  auto text = sdp::format_parameter(params, name);
  if (!text) return 0;
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  return error == std::errc() && end == text->data() + text->size() ? value : 0;
}

// The receiver's frame size limit in macroblocks from its offered fmtp at `fps` frames a second;
// 0: none. VP8 (RFC 7741 §6.1): max-fs is an upper limit. H.264 (RFC 6184 §8.1): the level's MaxFS
// and MaxMBPS, which max-fs and max-mbps may only raise (a receiver of level 1.3 with
// max-fs=3600;max-mbps=108000 decodes 720p30, as room systems offer); the rate limit is a frame
// limit at the canvas's frame rate.
std::uint32_t max_frame_macroblocks(const sdp::VideoFormat& format, int fps) {
  auto params = sdp::parse_format_parameters(format.offered_fmtp);
  if (!params) return 0;
  const std::uint32_t max_fs = format_number(*params, "max-fs");
  if (!iequals_ascii(format.codec.name, "H264")) return max_fs;
  // RFC 6184 §8.1: without profile-level-id, Baseline level 1 is meant.
  auto level = sdp::parse_h264_profile_level_id(
      sdp::format_parameter(*params, "profile-level-id").value_or(sdp::kDefaultH264ProfileLevelId));
  if (!level) return 0;
  const H264LevelLimits limits = h264_level_limits(level->level_idc);
  if (limits.max_frame_macroblocks == 0) return 0;
  const std::uint32_t frame = std::max(limits.max_frame_macroblocks, max_fs);
  const std::uint32_t rate = std::max(limits.max_macroblocks_per_second, format_number(*params, "max-mbps"));
  const std::uint32_t by_rate = fps > 0 ? rate / static_cast<std::uint32_t>(fps) : 0;
  return by_rate > 0 ? std::min(frame, by_rate) : frame;
}

// A simulcast camera (RFC 8853) sends its layers at once; the MCU decodes one. The middle of three
// (Chrome's "h", half size) suits a tile of the composite best: a 2×2 tile of 1280×720 is 640×360;
// with two layers the higher. Without the rtp-stream-id extension (RFC 8852) no packet names its
// layer: the first payload-type match is taken, as without simulcast.
void choose_layer(const sdp::NegotiatedStream& stream, mixer::VideoInputSpec& input) {
  if (stream.receive_rids.size() < 2) return;
  input.rid_extension_id = sdp::one_byte_extension_id(stream.extensions, sdp::kRtpStreamIdUri);
  if (input.rid_extension_id == 0) return;
  const auto& rids = stream.receive_rids;
  input.layer_rid = rids.size() >= 3 ? rids[rids.size() / 2].rid : rids.back().rid;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::pair<int, int> receiver_max_size(const sdp::VideoFormat& format, int fps) {
  const std::uint32_t macroblocks = max_frame_macroblocks(format, fps);
  if (macroblocks == 0) return {0, 0};
  // The widest 16:9 picture of whole macroblocks: w × h ≤ macroblocks with h = w · 9 / 16.
  auto width_mb = static_cast<int>(std::sqrt(static_cast<double>(macroblocks) * 16.0 / 9.0));
  while (width_mb > 1 && static_cast<std::uint32_t>(width_mb * (width_mb * 9 / 16)) > macroblocks) --width_mb;
  const int height_mb = std::max(1, width_mb * 9 / 16);
  return {std::max(1, width_mb) * 16, height_mb * 16};
}

// The rooms' reports, posted from their media workers to the control loop.
class VideoMcuEngine::EventsToControl final : public mixer::VideoRoomListener {
 public:
  EventsToControl(VideoMcuEngine& engine, PostToControl post, std::weak_ptr<bool> alive)
      : engine_(engine), post_(std::move(post)), alive_(std::move(alive)) {}
  void on_keyframe_wanted(ParticipantId sender) override {
    if (!post_) return;
    post_([engine = &engine_, alive = alive_, sender] {
      if (alive.lock() && engine->members_.contains(sender)) engine->listener_.on_keyframe_wanted(sender);
    });
  }

 private:
  VideoMcuEngine& engine_;
  PostToControl post_;
  std::weak_ptr<bool> alive_;
};

VideoMcuEngine::VideoMcuEngine(mixer::VideoRoomConfig config, Listener& listener)
    : config_(config), listener_(listener) {}

// Rooms still alive at shutdown are dropped here: their workers may already be gone, and the
// sinks there hold their own references.
VideoMcuEngine::~VideoMcuEngine() = default;

mixer::AudioRoom::LevelObserver VideoMcuEngine::join(const EngineMember& member, bool on_demand) {
  if (member.worker == nullptr || members_.contains(member.participant_id)) return {};
  RoomVideo& room = rooms_[member.room_id];
  const bool made = !room.room;
  if (made) {
    room.worker = member.worker;
    room.on_demand = on_demand;
    mixer::VideoRoomConfig config = config_;
    config.build_on_demand = on_demand;
    room.room = mixer::VideoRoom::create(*room.worker, config, counters_,
                                         std::make_shared<EventsToControl>(*this, post_, alive_));
    CHORUS_LOG(kInfo, "conference", "video compositor started", {"room", member.room_id},
               {"worker", room.worker->index()});
    apply_layout(member.room_id);
  }
  ++room.members;
  members_.emplace(member.participant_id, MemberState{member.room_id, member.display_name, member.admitted, false});
  if (member.admitted)
    room.worker->post([target = room.room, id = static_cast<ParticipantId>(member.participant_id),
                       name = member.display_name]() mutable { target->add_member(id, std::move(name)); });
  return made ? speaker_observer(room.room) : mixer::AudioRoom::LevelObserver{};
}

media::SinkFactory VideoMcuEngine::attach(const EngineMember& member, const EngineStream& stream) {
  const auto& negotiated = stream.negotiated;
  auto state = members_.find(member.participant_id);
  if (!negotiated.accepted || negotiated.media != "video" || state == members_.end()) return {};
  auto room = rooms_.find(state->second.room_id);
  auto codec = codec_of(negotiated);
  if (room == rooms_.end() || !codec) return {};
  const auto id = static_cast<ParticipantId>(member.participant_id);
  std::optional<mixer::VideoInputSpec> input;
  std::optional<mixer::VideoReceiverSpec> receiver;
  if (sdp::receives(negotiated.local_direction)) {
    const auto caps = video_feedback_of(negotiated);
    const bool content = negotiated.content && negotiated.content->find("slides") != std::string::npos;
    input = mixer::VideoInputSpec{mixer::VideoSource{id, content}, codec->first, codec->second, caps.pli, caps.fir};
    choose_layer(negotiated, *input);
    // Only what a camera up to 1080p makes reaches a decoder (sfu/payload/camera_limits.hpp).
    input->accepts_payload =
        codec->first == mixer::VideoCodec::kH264 ? sfu::is_camera_h264_payload : sfu::is_camera_vp8_payload;
  }
  // One composite per participant: its first section where we send (in an sfu room, the section
  // the conference marked).
  const bool wanted = !room->second.on_demand || stream.composite;
  if (wanted && sdp::sends(negotiated.local_direction) && stream.local_ssrc != 0 && !state->second.receives) {
    state->second.receives = true;
    // The first format is the one we send (codec_of); its offer says how big a picture it decodes.
    const auto [max_width, max_height] = negotiated.video_formats.empty()
                                             ? std::pair{0, 0}
                                             : receiver_max_size(negotiated.video_formats.front(), config_.canvas.fps);
    receiver = mixer::VideoReceiverSpec{
        id, codec->first, codec->second, stream.local_ssrc, max_width, max_height, negotiated.remote_max_bitrate_bps};
    if (max_width == 0 || (max_width >= config_.canvas.width && max_height >= config_.canvas.height))
      state->second.full_size_codec = codec->first;
  }
  if (!input && !receiver) return {};
  return [target = room->second.room, input, receiver] {
    return std::make_unique<mixer::VideoRoomSink>(target, input, receiver);
  };
}

void VideoMcuEngine::detach(std::uint64_t participant_id) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  const std::string room_id = member->second.room_id;
  members_.erase(member);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  RoomVideo& room = it->second;
  room.worker->post(
      [target = room.room, id = static_cast<ParticipantId>(participant_id)] { target->remove_member(id); });
  if (--room.members > 0) return;
  // The last reference the control loop holds goes to the worker, so the room dies there.
  room.worker->post([target = std::move(room.room)]() mutable { target.reset(); });
  CHORUS_LOG(kInfo, "conference", "video compositor stopped", {"room", room_id});
  rooms_.erase(it);
}

template <typename Work>
void VideoMcuEngine::on_room(std::string_view room_id, Work&& work) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  it->second.worker->post([target = it->second.room, work = std::forward<Work>(work)]() mutable { work(*target); });
}

void VideoMcuEngine::set_admitted(std::uint64_t participant_id, bool admitted) {
  auto member = members_.find(participant_id);
  if (member == members_.end() || member->second.admitted == admitted) return;
  member->second.admitted = admitted;
  on_room(member->second.room_id, [id = static_cast<ParticipantId>(participant_id), admitted,
                                   name = member->second.display_name](mixer::VideoRoom& room) mutable {
    if (admitted)
      room.add_member(id, std::move(name));
    else
      room.remove_member(id);
  });
}

void VideoMcuEngine::request_keyframe_for(std::uint64_t participant_id) {
  auto member = members_.find(participant_id);
  if (member == members_.end()) return;
  on_room(member->second.room_id, [id = static_cast<ParticipantId>(participant_id)](mixer::VideoRoom& room) {
    room.on_receiver_feedback(id, media::rtcp::Pli{});
  });
}

std::optional<mixer::VideoCodec> VideoMcuEngine::recording_codec(std::string_view room_id) const {
  if (!rooms_.contains(room_id)) return std::nullopt;
  bool h264 = false;
  for (const auto& [id, member] : members_) {
    if (member.room_id != room_id || !member.full_size_codec) continue;
    if (*member.full_size_codec == mixer::VideoCodec::kVp8) return mixer::VideoCodec::kVp8;
    h264 = true;
  }
  return h264 ? mixer::VideoCodec::kH264 : mixer::VideoCodec::kVp8;
}

void VideoMcuEngine::attach_recorder(std::string_view room_id, mixer::ParticipantId recorder_id,
                                     mixer::VideoCodec codec, mixer::VideoRoom::PacketTap tap) {
  mixer::VideoReceiverSpec spec;
  spec.id = recorder_id;
  spec.codec = codec;
  spec.payload_type = mixer::kClassPayloadType;  // a tap's packets are not rewritten
  on_room(room_id,
          [spec, tap = std::move(tap)](mixer::VideoRoom& room) mutable { room.attach_tap(spec, std::move(tap)); });
}

void VideoMcuEngine::detach_recorder(std::string_view room_id, mixer::ParticipantId recorder_id) {
  on_room(room_id, [recorder_id](mixer::VideoRoom& room) { room.detach_receiver(recorder_id); });
}

void VideoMcuEngine::set_layout(std::string_view room_id, LayoutSetting layout) {
  layouts_.insert_or_assign(std::string(room_id), layout);
  apply_layout(room_id);
}

LayoutSetting VideoMcuEngine::layout_of(std::string_view room_id) const {
  auto it = layouts_.find(room_id);
  return it == layouts_.end() ? LayoutSetting{} : it->second;
}

void VideoMcuEngine::apply_layout(std::string_view room_id) {
  const LayoutSetting layout = layout_of(room_id);
  std::optional<ParticipantId> pinned;
  if (layout.pinned) pinned = static_cast<ParticipantId>(*layout.pinned);
  on_room(room_id, [kind = layout.kind, pinned](mixer::VideoRoom& room) { room.set_layout(kind, pinned); });
}

}  // namespace chorus::conference
