#include "mixer/video/video_room.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

#include "common/log.hpp"
#include "common/random.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "mixer/gst/chain_thread.hpp"

namespace chorus::mixer {
namespace {

// The largest size of the canvas's aspect that fits in max_width × max_height, even.
std::pair<int, int> fit(const VideoCanvas& canvas, int max_width, int max_height) {
  int width = canvas.width;
  int height = canvas.height;
  if (max_width > 0 && width > max_width) {
    height = height * max_width / width;
    width = max_width;
  }
  if (max_height > 0 && height > max_height) {
    width = width * max_height / height;
    height = max_height;
  }
  return {std::max(2, width & ~1), std::max(2, height & ~1)};
}

}  // namespace

// The compositor's reports, from GStreamer's threads to the room's worker. The room clears the
// target when it goes, so nothing is posted to a room (or a worker) that is gone.
class VideoRoom::Reports final : public VideoCompositorListener {
 public:
  Reports(media::MediaWorker& worker, std::weak_ptr<VideoRoom> room) : worker_(&worker), room_(std::move(room)) {}
  void detach() {
    std::lock_guard lock(mutex_);
    worker_ = nullptr;
  }
  void on_packet(std::uint32_t class_id, std::vector<std::uint8_t> rtp, bool keyframe) override {
    post([class_id, rtp = std::move(rtp), keyframe](VideoRoom& room) mutable {
      room.on_class_packet(class_id, std::move(rtp), keyframe);
    });
  }
  void on_keyframe_wanted(VideoSource source) override {
    post([source](VideoRoom& room) { room.on_keyframe_wanted(source); });
  }
  void on_decode_error(const std::string& element, const std::string& error) override {
    post([element, error](VideoRoom& room) { room.on_decode_error(element, error); });
  }
  void on_resolution_change(VideoSource source, int width, int height) override {
    post([source, width, height](VideoRoom& room) { room.on_resolution_change(source, width, height); });
  }
  void feed_ready(VideoSource source, std::uint64_t generation, std::shared_ptr<InputFeed> feed) {
    post([source, generation, feed = std::move(feed)](VideoRoom& room) mutable {
      room.install_feed(source, generation, std::move(feed));
    });
  }

 private:
  template <typename Work>
  void post(Work&& work) {
    std::lock_guard lock(mutex_);
    if (worker_ == nullptr) return;
    worker_->post([room = room_, work = std::forward<Work>(work)]() mutable {
      if (auto alive = room.lock()) work(*alive);
    });
  }
  std::mutex mutex_;
  media::MediaWorker* worker_;  // under mutex_; null once the room is gone
  std::weak_ptr<VideoRoom> room_;
};

std::shared_ptr<VideoRoom> VideoRoom::create(media::MediaWorker& worker, VideoRoomConfig config,
                                             std::shared_ptr<VideoMcuCounters> counters,
                                             std::shared_ptr<VideoRoomListener> listener) {
  std::shared_ptr<VideoRoom> room(new VideoRoom(worker, config, std::move(counters), std::move(listener)));
  room->reports_ = std::make_shared<Reports>(worker, room);
  if (!config.build_on_demand) room->start_composing();
  return room;
}

// On the chain thread, before every change queued after it; the room's state so far follows.
void VideoRoom::start_composing() {
  if (composing_) return;
  composing_ = true;
  gst::run_on_chain_thread(gst::ChainThread::shared(),
                           [slot = compositor_, canvas = config_.canvas, reports = reports_] {
                             try {
                               *slot = std::make_unique<VideoCompositor>(canvas, reports);
                             } catch (const std::exception& error) {
                               CHORUS_LOG(kError, "video-mcu", "no compositor for the room", {"error", error.what()});
                             }
                           });
  for (const auto& [id, name] : names_)
    on_compositor([id, name](VideoCompositor& compositor) { compositor.set_name(id, name); });
  for (auto& [source, input] : inputs_) add_source(source, input);
  on_compositor([tiles = tiles_](VideoCompositor& compositor) { compositor.set_tiles(tiles); });
}

// The last receiver left an on-demand room: nothing is decoded or composed until the next one.
void VideoRoom::stop_composing() {
  if (!composing_) return;
  composing_ = false;
  for (auto& [source, input] : inputs_) {
    input.feed.reset();
    input.generation = next_generation_++;  // a feed the old compositor still reports is not taken
  }
  gst::run_on_chain_thread(gst::ChainThread::shared(), [slot = compositor_] { slot->reset(); });
}

void VideoRoom::add_source(VideoSource source, Input& input) {
  input.generation = next_generation_++;
  input.feed.reset();
  on_compositor(
      [source, spec = input.spec, generation = input.generation, reports = reports_](VideoCompositor& compositor) {
        reports->feed_ready(source, generation, compositor.add_source(spec.source, spec.codec, spec.payload_type));
      });
}

VideoRoom::VideoRoom(media::MediaWorker& worker, VideoRoomConfig config, std::shared_ptr<VideoMcuCounters> counters,
                     std::shared_ptr<VideoRoomListener> listener)
    : worker_(worker),
      config_(config),
      counters_(counters ? std::move(counters) : std::make_shared<VideoMcuCounters>()),
      listener_(std::move(listener)) {}

VideoRoom::~VideoRoom() {
  if (reports_) reports_->detach();
  // No TMMBN is owed here: only a session's receiver owes one, and its session detached it (a
  // session's sink holds the room). A timer that outlived the room would find it gone anyway.
  // The pipeline stops (its threads joined) on the chain thread, after every change queued before.
  gst::run_on_chain_thread(gst::ChainThread::shared(), [slot = compositor_] { slot->reset(); });
}

template <typename Job>
void VideoRoom::on_compositor(Job&& job) {
  gst::run_on_chain_thread(gst::ChainThread::shared(), [slot = compositor_, job = std::forward<Job>(job)]() mutable {
    if (!*slot) return;
    try {
      job(**slot);
    } catch (const std::exception& error) {
      CHORUS_LOG(kWarn, "video-mcu", "compositor change failed", {"error", error.what()});
    }
  });
}

void VideoRoom::add_member(ParticipantId id, std::string name) {
  if (std::ranges::find(members_, id) != members_.end()) return;
  members_.push_back(id);
  names_[id] = name;
  on_compositor(
      [id, name = std::move(name)](VideoCompositor& compositor) mutable { compositor.set_name(id, std::move(name)); });
  relayout();
}

void VideoRoom::remove_member(ParticipantId id) {
  std::erase(members_, id);
  names_.erase(id);
  if (pinned_ == id) pinned_.reset();
  if (speaker_ == id) speaker_.reset();
  relayout();
}

void VideoRoom::set_layout(LayoutKind kind, std::optional<ParticipantId> pinned) {
  layout_ = kind;
  pinned_ = pinned;
  relayout();
}

void VideoRoom::set_speaker(std::optional<ParticipantId> speaker) {
  if (speaker_ == speaker) return;
  speaker_ = speaker;
  relayout();
}

void VideoRoom::relayout() {
  LayoutRequest request;
  request.kind = layout_;
  request.canvas_width = config_.canvas.width;
  request.canvas_height = config_.canvas.height;
  request.speaker = speaker_;
  request.pinned = pinned_;
  for (ParticipantId id : members_)
    request.members.push_back(LayoutMember{id, inputs_.contains(VideoSource{id, false})});
  for (const auto& [source, input] : inputs_)
    if (source.content && std::ranges::find(members_, source.participant) != members_.end())
      request.content = source.participant;
  auto tiles = compose_layout(request);
  if (tiles == tiles_) return;
  tiles_ = std::move(tiles);
  on_compositor([tiles = tiles_](VideoCompositor& compositor) { compositor.set_tiles(tiles); });
}

void VideoRoom::attach_input(media::MediaSession& session, const VideoInputSpec& spec) {
  Input& input = inputs_[spec.source] = Input{&session, spec, 0, nullptr, std::nullopt, std::nullopt};
  if (composing_) add_source(spec.source, input);
  relayout();  // after the source exists, so its tile shows it
}

void VideoRoom::install_feed(VideoSource source, std::uint64_t generation, std::shared_ptr<InputFeed> feed) {
  auto it = inputs_.find(source);
  if (it == inputs_.end() || it->second.generation != generation) return;
  it->second.feed = std::move(feed);
  it->second.last_request.reset();
  on_keyframe_wanted(source);  // the decoder starts at a key frame
}

void VideoRoom::detach_input(VideoSource source) {
  if (inputs_.erase(source) == 0) return;
  on_compositor([source](VideoCompositor& compositor) { compositor.remove_source(source); });
  relayout();
}

// Whether `packet` is of the stream the input decodes. A decoder takes one stream: with simulcast
// (RFC 8853) that is the layer whose rid the spec names, learnt from the first packet that carries
// it in the rtp-stream-id extension (RFC 8852 §3; later packets of the layer may leave it out).
bool VideoRoom::takes(Input& input, const media::RtpPacket& packet) {
  if (packet.payload_type() != input.spec.payload_type) return false;
  if (input.spec.layer_rid.empty()) {
    input.sender_ssrc = packet.ssrc();
    return true;
  }
  if (input.sender_ssrc) return packet.ssrc() == *input.sender_ssrc;
  if (input.spec.rid_extension_id == 0) return false;
  auto rid = packet.extension(input.spec.rid_extension_id);
  if (!rid || std::string_view(reinterpret_cast<const char*>(rid->data()), rid->size()) != input.spec.layer_rid)
    return false;
  input.sender_ssrc = packet.ssrc();
  return true;
}

void VideoRoom::on_input_rtp(VideoSource source, const media::RtpPacket& packet) {
  if (!composing_) return;  // an on-demand room nobody receives: not decoded, not counted
  auto it = inputs_.find(source);
  if (it == inputs_.end() || !takes(it->second, packet)) return;
  Input& input = it->second;
  if (input.spec.accepts_payload && !input.spec.accepts_payload(packet.payload())) {
    bump(counters_->packets_malformed);
    return;
  }
  if (input.feed && input.feed->push(packet.bytes()))
    bump(counters_->packets_received);
  else
    bump(counters_->packets_refused);
}

// Issue 11, bad input: a corrupt or truncated frame is concealed by its decoder (the tile keeps its
// last good picture until the next key frame, which the depayloader asks for), and a new size is
// fitted into the same tile. Each is counted; lines are logged at most once a second per room, so a
// sender of garbage (or of a new size with every key frame) cannot flood the log.
bool VideoRoom::may_log_bad_input() {
  const auto now = Clock::now();
  if (last_bad_input_log_ && now - *last_bad_input_log_ < std::chrono::seconds(1)) {
    ++bad_input_unlogged_;
    return false;
  }
  last_bad_input_log_ = now;
  return true;
}

void VideoRoom::on_decode_error(const std::string& element, const std::string& error) {
  bump(counters_->decode_errors);
  if (!may_log_bad_input()) return;
  CHORUS_LOG(kInfo, "video-mcu", "a video source's frame could not be decoded", {"element", element}, {"error", error},
             {"unlogged_before", std::exchange(bad_input_unlogged_, 0)});
}

void VideoRoom::on_resolution_change(VideoSource source, int width, int height) {
  bump(counters_->resolution_changes);
  if (!may_log_bad_input()) return;
  CHORUS_LOG(kInfo, "video-mcu", "a video source changed resolution", {"participant", source.participant},
             {"content", source.content}, {"width", width}, {"height", height},
             {"unlogged_before", std::exchange(bad_input_unlogged_, 0)});
}

void VideoRoom::on_keyframe_wanted(VideoSource source) {
  auto it = inputs_.find(source);
  if (it == inputs_.end()) return;
  Input& input = it->second;
  const auto now = Clock::now();
  if (input.last_request && now - *input.last_request < config_.keyframe_request_interval) return;
  input.last_request = now;
  bump(counters_->keyframe_requests);
  const std::uint32_t sender = input.session->spec().local_ssrc;
  std::optional<std::size_t> length;
  if (input.sender_ssrc && input.spec.pli)  // RFC 4585 §6.3.1
    length = media::rtcp::Pli{sender, *input.sender_ssrc}.write(buffer_);
  else if (input.sender_ssrc && input.spec.fir)  // RFC 5104 §4.3.1
    length = media::rtcp::Fir{sender, {{*input.sender_ssrc, fir_sequence_++}}}.write(buffer_);
  if (length && *length > 0)
    input.session->send_rtcp(buffer_, *length);
  else if (listener_ && !input.spec.pli && !input.spec.fir)  // RFC 5168: SIP INFO instead
    listener_->on_keyframe_wanted(source.participant);
}

VideoClassKey VideoRoom::class_key_for(const VideoReceiverSpec& spec) const {
  auto [width, height] = fit(config_.canvas, spec.max_width, spec.max_height);
  return VideoClassKey{spec.codec, width, height};
}

void VideoRoom::attach_receiver(media::MediaSession& session, const VideoReceiverSpec& spec) {
  join_class(Receiver{.session = &session, .spec = spec});
}

void VideoRoom::attach_tap(const VideoReceiverSpec& spec, PacketTap tap) {
  if (tap) join_class(Receiver{.tap = std::move(tap), .spec = spec});
}

void VideoRoom::join_class(Receiver receiver) {
  const VideoReceiverSpec spec = receiver.spec;
  detach_receiver(spec.id);
  const VideoClassKey key = class_key_for(spec);
  auto found = std::ranges::find_if(classes_, [&](const auto& entry) { return entry.second.key == key; });
  std::uint32_t class_id = 0;
  if (found != classes_.end()) {
    class_id = found->first;
  } else {
    start_composing();  // an on-demand room's first receiver
    class_id = next_class_id_++;
    classes_[class_id].key = key;
    classes_[class_id].bitrate_bps = config_.class_bitrate_bps;
    on_compositor([class_id, key, bitrate = config_.class_bitrate_bps](VideoCompositor& compositor) {
      compositor.add_class(class_id, key, bitrate);
    });
  }
  classes_[class_id].receivers.push_back(spec.id);
  receiver.class_id = class_id;
  receiver.sequence_offset = static_cast<std::uint16_t>(random_u64());
  receiver.timestamp_offset = static_cast<std::uint32_t>(random_u64());
  receivers_[spec.id] = std::move(receiver);
  update_class_bitrate(class_id);
  request_class_keyframe(class_id, Clock::now());  // it starts at a key frame
}

void VideoRoom::detach_receiver(ParticipantId id) {
  auto it = receivers_.find(id);
  if (it == receivers_.end()) return;
  const std::uint32_t class_id = it->second.class_id;
  // Its session goes: the TMMBN it is owed goes nowhere.
  if (it->second.tmmbn_timer != TimerQueue::kNoTimer) timers_->cancel(it->second.tmmbn_timer);
  receivers_.erase(it);
  auto cls = classes_.find(class_id);
  if (cls == classes_.end()) return;
  std::erase(cls->second.receivers, id);
  if (!cls->second.receivers.empty()) {
    update_class_bitrate(class_id);  // the slowest may have gone
    return;
  }
  classes_.erase(cls);
  on_compositor([class_id](VideoCompositor& compositor) { compositor.remove_class(class_id); });
  if (config_.build_on_demand && classes_.empty()) stop_composing();
}

bool VideoRoom::on_receiver_feedback(ParticipantId id, const media::RtcpFeedback& feedback) {
  auto it = receivers_.find(id);
  if (it == receivers_.end()) return false;
  if (std::holds_alternative<media::rtcp::Pli>(feedback) || std::holds_alternative<media::rtcp::Fir>(feedback)) {
    request_class_keyframe(it->second.class_id, Clock::now());
    return true;
  }
  if (const auto* remb = std::get_if<media::rtcp::Remb>(&feedback)) {
    it->second.estimate_bps = remb->bitrate_bps;
    update_class_bitrate(it->second.class_id);
    return true;
  }
  if (const auto* tmmbr = std::get_if<media::rtcp::Tmmbr>(&feedback)) return on_receiver_tmmbr(it->second, *tmmbr);
  return false;
}

// RFC 5104 §4.2.1: a TMMBR asks the media sender its entry names (§4.2.1.1; the header's media
// SSRC is 0) to stay at or under the entry's MxTBR. A receiver's stream is its own, so its bounding
// set is its latest request, which becomes its ceiling. The entry's per-packet overhead is not
// taken off: the encoder's target is a media rate, and the room does not count packets per second.
bool VideoRoom::on_receiver_tmmbr(Receiver& receiver, const media::rtcp::Tmmbr& tmmbr) {
  const auto entry = std::ranges::find(tmmbr.items, receiver.spec.ssrc, &media::rtcp::TmmbItem::ssrc);
  if (entry == tmmbr.items.end() || receiver.session == nullptr) return false;
  // An MxTBR of 0 would stop the stream: like an estimate, a request lowers the class no further
  // than its configured minimum.
  const std::uint64_t applied = std::max<std::uint64_t>(entry->bitrate_bps, config_.min_class_bitrate_bps);
  receiver.tmmbr_bps = applied;
  update_class_bitrate(receiver.class_id);
  // §4.2.1.2: the media sender answers with a TMMBN holding the bounding set, from the SSRC the
  // request named; §4.2.2.1: each entry names the TMMBR sender that owns it, with the limit kept.
  receiver.tmmbn_owed = media::rtcp::TmmbItem{tmmbr.sender_ssrc, applied, entry->overhead};
  // One TMMBN answers every TMMBR received since the last one (§4.2.1.2), and like all feedback it
  // keeps to RFC 4585's timing rules (§3.5: early feedback is rate-limited), so a receiver that
  // floods requests does not get a notification for each: inside the interval the limit takes
  // effect now and the TMMBN waits for the interval's end, carrying the latest bounding set.
  if (timers_ == nullptr) timers_ = &receiver.session->environment().timers;
  const TimePoint now = timers_->now();
  if (receiver.tmmbn_timer != TimerQueue::kNoTimer) {
    bump(counters_->tmmbn_coalesced);  // the TMMBN already owed will carry this request instead
    return true;
  }
  if (receiver.last_tmmbn && now - *receiver.last_tmmbn < config_.tmmbn_min_interval) {
    bump(counters_->tmmbn_coalesced);
    const auto wait = std::chrono::ceil<Millis>(*receiver.last_tmmbn + config_.tmmbn_min_interval - now);
    receiver.tmmbn_timer =
        timers_->schedule(std::max(wait, Millis{0}), [weak = weak_from_this(), id = receiver.spec.id] {
          if (auto room = weak.lock()) room->send_owed_tmmbn(id);
        });
    return true;
  }
  send_owed_tmmbn(receiver.spec.id);
  return true;
}

void VideoRoom::send_owed_tmmbn(ParticipantId id) {
  auto it = receivers_.find(id);
  if (it == receivers_.end()) return;
  Receiver& receiver = it->second;
  receiver.tmmbn_timer = TimerQueue::kNoTimer;
  if (!receiver.tmmbn_owed || receiver.session == nullptr) return;
  const media::rtcp::Tmmbn tmmbn{receiver.spec.ssrc, {*receiver.tmmbn_owed}};
  receiver.tmmbn_owed.reset();
  receiver.last_tmmbn = timers_->now();
  if (auto length = tmmbn.write(buffer_)) receiver.session->send_rtcp(buffer_, *length);
}

std::optional<std::uint32_t> VideoRoom::class_bitrate_of(ParticipantId id) const {
  auto receiver = receivers_.find(id);
  if (receiver == receivers_.end()) return std::nullopt;
  auto cls = classes_.find(receiver->second.class_id);
  if (cls == classes_.end()) return std::nullopt;
  return cls->second.bitrate_bps;
}

// One encode serves every receiver of the class, so it runs at what the slowest can take: the
// least of their estimates (REMB), requests (TMMBR) and SDP limits (b=TIAS/b=AS), within the
// configured range. An estimate wobbles with every report, so a change of a tenth or less does not
// reach the encoder, unless the encoder runs above a receiver's limit: a TMMBR (RFC 5104 §4.2.1.2)
// and b=TIAS/b=AS (RFC 3890 §6.2, RFC 8866 §5.8) are maxima, not estimates.
void VideoRoom::update_class_bitrate(std::uint32_t class_id) {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return;
  std::uint64_t estimate = config_.class_bitrate_bps;
  std::uint64_t limit = config_.class_bitrate_bps;
  for (ParticipantId id : it->second.receivers)
    if (auto found = receivers_.find(id); found != receivers_.end()) {
      const Receiver& receiver = found->second;
      if (receiver.estimate_bps > 0) estimate = std::min(estimate, receiver.estimate_bps);
      if (receiver.tmmbr_bps) limit = std::min(limit, *receiver.tmmbr_bps);
      if (receiver.spec.max_bitrate_bps > 0) limit = std::min(limit, receiver.spec.max_bitrate_bps);
    }
  const std::uint64_t floor = config_.min_class_bitrate_bps;
  const auto bitrate = static_cast<std::uint32_t>(std::max(std::min(estimate, limit), floor));
  const std::uint32_t current = it->second.bitrate_bps;
  const bool small_change = current != 0 && bitrate > current * 9 / 10 && bitrate < current * 11 / 10;
  if (small_change && current <= std::max(limit, floor)) return;
  it->second.bitrate_bps = bitrate;
  on_compositor([class_id, bitrate](VideoCompositor& compositor) { compositor.set_class_bitrate(class_id, bitrate); });
}

void VideoRoom::request_class_keyframe(std::uint32_t class_id, Clock::time_point now) {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return;
  EncodeClass& cls = it->second;
  if (cls.last_forced && now - *cls.last_forced < config_.keyframe_min_interval) {
    cls.keyframe_pending = true;  // served when the interval ends (on_class_packet)
    return;
  }
  cls.last_forced = now;
  cls.keyframe_pending = false;
  bump(counters_->keyframes_forced);
  on_compositor([class_id](VideoCompositor& compositor) { compositor.force_keyframe(class_id); });
}

void VideoRoom::on_class_packet(std::uint32_t class_id, std::vector<std::uint8_t> rtp, bool keyframe) {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return;
  EncodeClass& cls = it->second;
  auto packet = media::RtpPacket::parse(rtp);
  if (!packet) return;
  const bool frame_start = cls.previous_ended_frame;
  cls.previous_ended_frame = packet->marker();
  if (cls.keyframe_pending && cls.last_forced && Clock::now() - *cls.last_forced >= config_.keyframe_min_interval)
    request_class_keyframe(class_id, Clock::now());
  for (ParticipantId id : cls.receivers) {
    auto receiver = receivers_.find(id);
    if (receiver == receivers_.end()) continue;
    if (!receiver->second.started) {
      if (!keyframe || !frame_start) continue;
      receiver->second.started = true;
    }
    send_to(receiver->second, rtp);
  }
}

void VideoRoom::send_to(Receiver& receiver, std::span<const std::uint8_t> rtp) {
  if (receiver.tap) {
    receiver.tap(rtp);
    return;
  }
  if (rtp.size() > media::kMaxDatagramSize) return;
  std::ranges::copy(rtp, buffer_.begin());
  auto packet = media::RtpPacket::parse(std::span<std::uint8_t>(buffer_.data(), rtp.size()));
  if (!packet) return;
  // RFC 3550 §5.1: the receiver's own stream — our SSRC in its section, its payload type, and
  // sequence numbers and timestamps at a random offset of the class's.
  packet->set_ssrc(receiver.spec.ssrc);
  packet->set_payload_type(receiver.spec.payload_type);
  packet->set_sequence_number(static_cast<std::uint16_t>(packet->sequence_number() + receiver.sequence_offset));
  packet->set_timestamp(packet->timestamp() + receiver.timestamp_offset);
  if (receiver.session->send_rtp(buffer_, rtp.size())) bump(counters_->packets_sent);
}

void VideoRoomSink::on_attached(media::MediaSession& session) {
  if (input_) room_->attach_input(session, *input_);
  if (receiver_) room_->attach_receiver(session, *receiver_);
}

void VideoRoomSink::on_detached(media::MediaSession& /*session*/) {
  if (input_) room_->detach_input(input_->source);
  if (receiver_) room_->detach_receiver(receiver_->id);
}

void VideoRoomSink::on_rtp(media::MediaSession& /*session*/, media::RtpPacket& packet,
                           std::span<std::uint8_t> /*buffer*/) {
  if (input_) room_->on_input_rtp(input_->source, packet);
}

void VideoRoomSink::on_feedback(media::MediaSession& /*session*/, const media::RtcpFeedback& feedback) {
  if (receiver_) room_->on_receiver_feedback(receiver_->id, feedback);
}

bool VideoRoomSink::on_transport_feedback(media::MediaSession& /*session*/, const media::RtcpFeedback& feedback) {
  return receiver_ && room_->on_receiver_feedback(receiver_->id, feedback);
}

}  // namespace chorus::mixer
