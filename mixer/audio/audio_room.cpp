#include "mixer/audio/audio_room.hpp"

#include <algorithm>
#include <cstring>

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "media/rtp/rtp_header_writer.hpp"

namespace chorus::mixer {
namespace {

// The mixer input that carries announcements (join/leave tones): never a listener.
constexpr ParticipantId kAnnouncerId = 0xFFFF'FFFF;
constexpr std::size_t kMaxQueuedClips = 16;         // per member and for announcements
constexpr std::size_t kMaxPacketizerOctets = 4096;  // a sample codec's FIFO for ptime ≠ 20 ms
// After a stall longer than this the tick starts afresh instead of catching up in a burst.
constexpr std::chrono::milliseconds kMaxTickBacklog{200};
// prepare() runs three times its recent longest run plus a margin before the tick, and at least
// kMinPrepareLead before it. A lead from kPrepareRightAfterSends on means a large room whose reads
// and decodes take a good part of a tick: there one late prepare would delay every send of the tick
// (bench/mixer_capacity.py at 800 members showed late frames), so it runs right after the previous
// tick's sends, as all of it did before.
constexpr std::chrono::milliseconds kMinPrepareLead{3};
constexpr std::chrono::milliseconds kPrepareMargin{2};
constexpr std::chrono::milliseconds kPrepareRightAfterSends{6};

EncodeFormat format_of(const AudioMemberSpec& spec) {
  return EncodeFormat{ascii_lowercase(codec_info(spec.codec).encoding_name), spec.ptime};
}

std::string encoder_key(const EncodeFormat& format) {
  return format.codec + "/" + std::to_string(format.ptime.count());
}

// On the chain thread. Null when the codec's encoder cannot be made (out of memory: logged, the
// listeners get nothing).
std::unique_ptr<FrameEncoder> make_encoder(const std::string& room, AudioCodec codec) {
  try {
    return std::make_unique<FrameEncoder>(codec);
  } catch (const std::exception& error) {
    CHORUS_LOG(kError, "mixer", "cannot encode", {"room", room}, {"codec", codec_info(codec).encoding_name},
               {"error", error.what()});
    return nullptr;
  }
}

// On the chain thread, with the member's encoder. Null when the member cannot be decoded (out of
// memory: logged, the member still hears the room).
std::unique_ptr<ParticipantDecoder> make_decoder(const std::string& room, const AudioMemberSpec& spec,
                                                 std::shared_ptr<MixerCounters> counters) {
  try {
    return std::make_unique<ParticipantDecoder>(spec.codec, std::move(counters));
  } catch (const std::exception& error) {
    CHORUS_LOG(kError, "mixer", "cannot decode participant", {"room", room}, {"participant", spec.id},
               {"error", error.what()});
    return nullptr;
  }
}

// Copies the next 20 ms of `prompt` into `frame` (zero-padded at the end); true when it is done.
bool next_prompt_frame(auto& prompt, AudioFrame& frame) {
  const auto& samples = *prompt.clip;
  const std::size_t run = std::min(kFrameSamples, samples.size() - std::min(prompt.position, samples.size()));
  std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(prompt.position), run, frame.begin());
  std::fill(frame.begin() + static_cast<std::ptrdiff_t>(run), frame.end(), Sample{0});
  prompt.position += run;
  return prompt.position >= samples.size();
}

}  // namespace

AudioRoom::AudioRoom(std::string name, std::shared_ptr<AudioRoomListener> listener, MixerConfig config,
                     std::shared_ptr<MixerCounters> counters, gst::ChainThread* chains)
    : name_(std::move(name)),
      listener_(std::move(listener)),
      mixer_(config),
      chains_(chains != nullptr ? chains : &gst::ChainThread::shared()),
      counters_(counters ? std::move(counters) : std::make_shared<MixerCounters>()) {
  ParticipantSettings announcer;
  announcer.format = EncodeFormat{"announcer", kFrameDuration};
  announcer.listening = false;
  announcer.always_mixed = true;  // a prompt is heard however many talk
  mixer_.add_participant(kAnnouncerId, announcer);
}

AudioRoom::~AudioRoom() {
  if (timers_ != nullptr) {
    timers_->cancel(tick_timer_);
    timers_->cancel(prepare_timer_);
  }
  {
    std::lock_guard lock(mailbox_->mutex);
    mailbox_->closed = true;  // from now on the chain thread drops what it builds
  }
  collect_built_chains(/*wait=*/true);  // what arrived since the last tick: retired with the rest
  for (auto& [id, member] : members_) retire(std::move(member.decoder), std::move(member.own_encoder));
  for (auto& [key, encoder] : shared_encoders_) retire(nullptr, std::move(encoder));
}

AudioRoom::Member* AudioRoom::find(ParticipantId id) {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

void AudioRoom::attach(media::MediaSession& session, const AudioMemberSpec& spec) {
  if (timers_ == nullptr) {
    timers_ = &session.environment().timers;
    poller_ = &session.environment().poller;
    send_batch_ = session.environment().send_batch;
  }
  if (members_.contains(spec.id)) detach(spec.id);  // a new session for the same participant
  Member& member = members_[spec.id];
  member.spec = spec;
  member.session = &session;
  member.sequence = static_cast<std::uint16_t>(random_u64());
  member.timestamp = static_cast<std::uint32_t>(random_u64());
  member.generation = ++last_generation_;
  update_mixer_membership(member);
  // Asked for now rather than on the tick that first needs them, and built on the chain thread:
  // building a GStreamer chain takes milliseconds, which on the worker made ticks late.
  request_member_chains(member);
  shared_encoder(format_of(spec), spec.codec);
  CHORUS_LOG(kDebug, "mixer", "member attached", {"room", name_}, {"participant", spec.id},
             {"codec", codec_info(spec.codec).encoding_name}, {"members", members_.size()});
  if (tick_timer_ == TimerQueue::kNoTimer) {
    next_deadline_ = timers_->now() + kFrameDuration;
    schedule_prepare();
    schedule_tick();
  }
}

void AudioRoom::detach(ParticipantId id) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  if (it->second.in_mixer) mixer_.remove_participant(id);
  forget_input(id);  // its frame is its decoder's, which goes now
  if (std::erase(talkers_, id) > 0) listener_->on_talking(id, false);
  retire(std::move(it->second.decoder), std::move(it->second.own_encoder));
  members_.erase(it);
  if (members_.empty() && timers_ != nullptr) {
    timers_->cancel(tick_timer_);
    timers_->cancel(prepare_timer_);
    tick_timer_ = prepare_timer_ = TimerQueue::kNoTimer;
  }
}

void AudioRoom::on_rtp(ParticipantId id, const media::RtpPacket& packet) {
  Member* member = find(id);
  if (member == nullptr) return;
  if (member->spec.telephone_event_payload_type &&
      packet.payload_type() == *member->spec.telephone_event_payload_type) {
    if (auto digit = member->dtmf.on_packet(packet.timestamp(), packet.payload())) listener_->on_dtmf(id, *digit);
    return;
  }
  // Comfort noise (RFC 3389) and anything not negotiated are not decoded.
  if (packet.payload_type() != member->spec.payload_type || !member->decoder) return;
  std::uint8_t sender_level = kNoSenderLevel;
  if (member->spec.audio_level_extension_id != 0)
    if (const auto level = media::read_audio_level(packet, member->spec.audio_level_extension_id))
      sender_level = level->level_dbov;
  member->decoder->push_rtp(packet, sender_level);
}

void AudioRoom::update_mixer_membership(Member& member) {
  if (member.spec.admitted && !member.in_mixer) {
    ParticipantSettings settings;
    settings.format = format_of(member.spec);
    settings.muted = member.spec.muted;
    settings.gain_db = member.spec.gain_db;
    member.in_mixer = mixer_.add_participant(member.spec.id, settings);
  } else if (!member.spec.admitted && member.in_mixer) {
    mixer_.remove_participant(member.spec.id);
    member.in_mixer = false;
    forget_input(member.spec.id);
    if (std::erase(talkers_, member.spec.id) > 0) listener_->on_talking(member.spec.id, false);
  }
}

void AudioRoom::set_admitted(ParticipantId id, bool admitted) {
  if (Member* member = find(id)) {
    member->spec.admitted = admitted;
    update_mixer_membership(*member);
  }
}

void AudioRoom::set_muted(ParticipantId id, bool muted) {
  if (Member* member = find(id)) {
    member->spec.muted = muted;
    if (member->in_mixer) mixer_.set_muted(id, muted);
  }
}

void AudioRoom::set_gain_db(ParticipantId id, double gain_db) {
  if (Member* member = find(id)) {
    member->spec.gain_db = gain_db;
    if (member->in_mixer) mixer_.set_gain_db(id, gain_db);
  }
}

void AudioRoom::play(ParticipantId id, Clip clip, std::uint64_t token) {
  Member* member = find(id);
  if (member == nullptr || !clip || member->prompts.size() >= kMaxQueuedClips) return;
  member->prompts.push_back(Prompt{std::move(clip), token, 0});
}

void AudioRoom::stop_prompts(ParticipantId id) {
  if (Member* member = find(id)) member->prompts.clear();
}

void AudioRoom::announce(Clip clip) {
  if (clip && announcements_.size() < kMaxQueuedClips) announcements_.push_back(Prompt{std::move(clip), 0, 0});
}

void AudioRoom::schedule_tick() {
  const auto wait = std::chrono::ceil<Millis>(next_deadline_ - timers_->now());
  tick_timer_ = timers_->schedule(std::max(wait, Millis{0}), [weak = weak_from_this()] {
    if (auto room = weak.lock()) room->tick();
  });
}

std::chrono::nanoseconds AudioRoom::prepare_lead() const {
  return std::max<std::chrono::nanoseconds>(kMinPrepareLead, 3 * prepare_peak_ + kPrepareMargin);
}

void AudioRoom::schedule_prepare() {
  const auto lead = prepare_lead();
  const TimePoint at = next_deadline_ - lead;
  if (lead >= kPrepareRightAfterSends || at <= timers_->now()) {
    prepare();
    return;
  }
  // Rounded down to the timer's millisecond: early rather than after the tick's deadline.
  const auto wait = std::chrono::floor<Millis>(at - timers_->now());
  prepare_timer_ = timers_->schedule(wait, [weak = weak_from_this()] {
    if (auto room = weak.lock()) room->prepare();
  });
}

void AudioRoom::prepare() {
  prepare_timer_ = TimerQueue::kNoTimer;
  const TimePoint started = timers_->now();
  // The members' sockets are read here, not as each packet arrives (media/transport/readiness_poller.hpp).
  if (poller_ != nullptr) poller_->poll_tick_set();
  gather_inputs();
  // Peak-hold with a decay of about a second (50 ticks): one slow prepare moves the lead at once,
  // a room that has shrunk gets its short lead back gradually.
  const auto took = timers_->now() - started;
  prepare_peak_ = std::max<std::chrono::nanoseconds>(took, prepare_peak_ - prepare_peak_ / 50);
}

void AudioRoom::tick() {
  tick_timer_ = TimerQueue::kNoTimer;
  // Due before the tick, but a busy worker can run both late: the frames are decoded first.
  if (prepare_timer_ != TimerQueue::kNoTimer) {
    timers_->cancel(prepare_timer_);
    prepare();
  }
  collect_built_chains(/*wait=*/false);
  const MixResult& result = mixer_.mix(inputs_);  // read and decoded by prepare()
  report_talkers(result);
  report_levels();
  if (mix_tap_) tap_mix(result);
  begin_send_burst();
  send_mix(result);
  for (auto& [id, member] : members_)
    if (!member.in_mixer || !member.prompts.empty()) send_private(member);
  end_send_burst();
  if (members_.empty()) return;
  next_deadline_ += kFrameDuration;
  const TimePoint now = timers_->now();
  if (now - next_deadline_ > kMaxTickBacklog) next_deadline_ = now + kFrameDuration;
  // The next tick's frames are decoded off its deadline, never before this tick's sends: decoding
  // 400 G.711 members took ~12 ms, and done first it made the last sends of every tick late.
  schedule_prepare();
  schedule_tick();
}

void AudioRoom::forget_input(ParticipantId id) {
  std::erase_if(inputs_, [id](const MixInput& input) { return input.id == id; });
}

void AudioRoom::gather_inputs() {
  inputs_.clear();
  for (auto& [id, member] : members_) {
    // Pulled even while held, so a member's backlog never plays when it is admitted.
    const bool decoded = member.decoder && member.decoder->pull();
    // The decoder is the deferred frame: the mixer has it interpolated to 48 kHz only if it mixes it.
    if (decoded && member.in_mixer)
      inputs_.push_back(
          MixInput{.id = id, .level_dbov = member.decoder->level_dbov(), .deferred = member.decoder.get()});
  }
  if (!announcements_.empty()) {
    if (next_prompt_frame(announcements_.front(), announcer_frame_)) announcements_.pop_front();
    inputs_.push_back(MixInput{kAnnouncerId, FrameView(announcer_frame_), {}, {}});
  }
}

void AudioRoom::report_levels() {
  if (!level_observer_) return;
  member_levels_.clear();
  for (const ParticipantLevel& level : mixer_.levels())
    if (level.id != kAnnouncerId) member_levels_.push_back(level);
  level_observer_(member_levels_);
}

void AudioRoom::tap_mix(const MixResult& result) {
  static constexpr std::array<Sample, kFrameSamples> kSilence{};
  const FrameView everyone = result.outputs.empty() ? FrameView{} : result.outputs.front().pcm;
  mix_tap_(everyone.size() == kFrameSamples ? everyone : FrameView(kSilence));
}

void AudioRoom::report_talkers(const MixResult& result) {
  // talkers_now_ keeps its capacity (at most kMaxTalkers + the announcer): no allocation per tick.
  talkers_now_.clear();
  for (ParticipantId id : result.talkers)
    if (id != kAnnouncerId) talkers_now_.push_back(id);
  if (talkers_now_ == talkers_) return;
  for (ParticipantId id : talkers_now_)
    if (std::ranges::find(talkers_, id) == talkers_.end()) listener_->on_talking(id, true);
  for (ParticipantId id : talkers_)
    if (std::ranges::find(talkers_now_, id) == talkers_now_.end()) listener_->on_talking(id, false);
  talkers_.swap(talkers_now_);
}

void AudioRoom::send_mix(const MixResult& result) {
  for (const EncodeGroup& group : result.encodes) {
    const MixOutput& output = result.outputs[group.output];
    std::span<const std::uint8_t> payload;
    if (output.excluded) {  // a talker's own N−1
      Member* talker = find(*output.excluded);
      if (talker == nullptr || !talker->prompts.empty()) continue;
      if (FrameEncoder* encoder = own_encoder(*talker)) payload = encoder->encode(output.pcm);
    } else {
      Member* first = nullptr;
      for (ParticipantId id : group.listeners)
        if (Member* member = find(id); member != nullptr && member->prompts.empty()) first = member;
      if (first == nullptr) continue;  // everyone in the group hears a prompt: nothing to encode
      if (FrameEncoder* encoder = shared_encoder(*group.format, first->spec.codec))
        payload = encoder->encode(output.pcm);
    }
    for (ParticipantId id : group.listeners)
      if (Member* member = find(id); member != nullptr && member->prompts.empty()) send_payload(*member, payload);
  }
}

void AudioRoom::send_private(Member& member) {
  FrameEncoder* encoder = own_encoder(member);
  if (encoder == nullptr) return;  // still being built: its prompt waits rather than play to no one
  AudioFrame frame{};
  if (!member.prompts.empty()) {
    Prompt& prompt = member.prompts.front();
    if (next_prompt_frame(prompt, frame)) {
      const std::uint64_t token = prompt.token;
      member.prompts.pop_front();
      listener_->on_prompt_done(member.spec.id, token);
    }
  }
  send_payload(member, encoder->encode(frame));
}

FrameEncoder* AudioRoom::shared_encoder(const EncodeFormat& format, AudioCodec codec) {
  const std::string key = encoder_key(format);
  if (auto it = shared_encoders_.find(key); it != shared_encoders_.end()) return it->second.get();
  request_shared_encoder(key, codec);
  return nullptr;
}

bool AudioRoom::chains_ready(ParticipantId id) const {
  auto it = members_.find(id);
  return it != members_.end() && it->second.decoder && it->second.own_encoder;
}

void AudioRoom::request_member_chains(const Member& member) {
  gst::run_on_chain_thread(*chains_, [mailbox = mailbox_, spec = member.spec, generation = member.generation,
                                      room = name_, counters = counters_] {
    BuiltMemberChains built{spec.id, generation, make_decoder(room, spec, counters), make_encoder(room, spec.codec)};
    std::lock_guard lock(mailbox->mutex);
    if (!mailbox->closed) mailbox->members.push_back(std::move(built));
    // else: the room is gone and `built` is torn down here, on this thread
  });
}

void AudioRoom::request_shared_encoder(const std::string& key, AudioCodec codec) {
  if (!shared_encoders_building_.insert(key).second) return;
  gst::run_on_chain_thread(*chains_, [mailbox = mailbox_, key, codec, room = name_] {
    BuiltSharedEncoder built{key, make_encoder(room, codec)};
    std::lock_guard lock(mailbox->mutex);
    if (!mailbox->closed) mailbox->shared.push_back(std::move(built));
  });
}

void AudioRoom::collect_built_chains(bool wait) {
  std::vector<BuiltMemberChains> members;
  std::vector<BuiltSharedEncoder> shared;
  {
    // The tick never waits: the chain thread (lower priority) may have been preempted holding the
    // lock; what it delivers is collected by the next tick.
    std::unique_lock lock(mailbox_->mutex, std::defer_lock);
    if (wait) {
      lock.lock();
    } else if (!lock.try_lock()) {
      return;
    }
    members.swap(mailbox_->members);
    shared.swap(mailbox_->shared);
  }
  for (BuiltMemberChains& built : members) {
    Member* member = find(built.id);
    if (member != nullptr && member->generation == built.generation) {
      if (member->decoder) forget_input(built.id);  // this round's frame is the old decoder's
      member->decoder = std::move(built.decoder);
      member->own_encoder = std::move(built.encoder);
    } else {  // the member left (or attached again) while they were built
      retire(std::move(built.decoder), std::move(built.encoder));
    }
  }
  for (BuiltSharedEncoder& built : shared) {
    shared_encoders_building_.erase(built.key);
    shared_encoders_[built.key] = std::move(built.encoder);
  }
}

void AudioRoom::retire(std::unique_ptr<ParticipantDecoder> decoder, std::unique_ptr<FrameEncoder> encoder) {
  if (!decoder && !encoder) return;
  gst::run_on_chain_thread(*chains_, [decoder = std::move(decoder), encoder = std::move(encoder)]() mutable {
    decoder.reset();
    encoder.reset();
  });
}

void AudioRoom::send_payload(Member& member, std::span<const std::uint8_t> payload) {
  const auto& info = codec_info(member.spec.codec);
  if (payload.empty()) {  // the encoder is still filling: the gap is silence to the receiver
    member.timestamp += rtp_ticks(info, kFrameDuration);
    return;
  }
  if (!info.sample_stream || member.spec.ptime == kFrameDuration) {
    send_packet(member, payload, kFrameDuration);
    return;
  }
  // G.711/G.722 at another ptime (RFC 3551 §4.5: any multiple of the sample): repacketize.
  const std::size_t per_packet = info.bytes_per_20ms * static_cast<std::size_t>(member.spec.ptime.count()) / 20;
  if (per_packet == 0) return;
  if (member.octets.size() + payload.size() <= kMaxPacketizerOctets)
    member.octets.insert(member.octets.end(), payload.begin(), payload.end());
  std::size_t offset = 0;
  for (; member.octets.size() - offset >= per_packet; offset += per_packet)
    send_packet(member, std::span(member.octets).subspan(offset, per_packet), member.spec.ptime);
  member.octets.erase(member.octets.begin(), member.octets.begin() + static_cast<std::ptrdiff_t>(offset));
}

void AudioRoom::send_packet(Member& member, std::span<const std::uint8_t> payload, std::chrono::milliseconds duration) {
  media::RtpHeaderFields fields;
  fields.marker = member.marker;  // RFC 3551 §4.1: the first packet of a talkspurt
  fields.payload_type = member.spec.payload_type;
  fields.sequence_number = member.sequence;
  fields.timestamp = member.timestamp;
  fields.ssrc = member.session->spec().local_ssrc;
  auto header = media::write_rtp_header(packet_, fields);
  member.timestamp += rtp_ticks(codec_info(member.spec.codec), duration);
  if (!header || *header + payload.size() + media::kSrtcpMaxTrailer > packet_.size()) return;
  std::memcpy(packet_.data() + *header, payload.data(), payload.size());
  ++member.sequence;
  member.marker = false;
  member.session->send_rtp(packet_, *header + payload.size());
  bump(counters_->frames);
  if (in_burst_)
    ++frames_in_burst_;  // late or not when the burst leaves (end_send_burst)
  else if (timers_->now() > next_deadline_ + kLateFrameMargin)
    bump(counters_->frames_late);
}

// A tick's sends, one per listener on the listener's own socket, leave in one submission when the
// worker can batch them (media/transport/send_batch.hpp): one system call a tick instead of one a
// listener, the largest cost of a G.711 member (issue 13).
void AudioRoom::begin_send_burst() {
  in_burst_ = send_batch_ != nullptr && send_batch_->available();
  frames_in_burst_ = 0;
  if (in_burst_) send_batch_->open();
}

void AudioRoom::end_send_burst() {
  if (!in_burst_) return;
  send_batch_->flush();
  in_burst_ = false;
  // The burst's frames left now: each is late if now is past the margin.
  if (frames_in_burst_ > 0 && timers_->now() > next_deadline_ + kLateFrameMargin)
    bump(counters_->frames_late, frames_in_burst_);
}

}  // namespace chorus::mixer
