// AudioRoom: one room's audio MCU on its media worker (DESIGN §3 "Audio MCU").
//
//   RTP (decrypted by the session) → ParticipantDecoder (playout buffer → decode → 48 kHz mono)
//   every 20 ms: one frame per member → NMinusOneMixer (talkers, one sum, N−1 per talker)
//             → one FrameEncoder per encode group → RTP per listener (its SSRC, sequence, timestamp)
//             → MediaSession::send_rtp (SRTP protect) → socket
//
// Members. Every session the conference gives an AudioRoomSink becomes a member. A member is
// either admitted (mixed both ways) or held (PIN entry, waiting for the moderator): a held member
// contributes nothing and hears only its prompts, or silence, so its RTP keeps flowing. Prompts
// play to one member; while a member's prompt plays it hears the prompt instead of the room.
// Announcements (join/leave tones) are mixed into what every admitted member hears, through a
// reserved announcer input of the mixer.
// DTMF: RFC 4733 telephone-events on the negotiated payload type are detected here (one report per
// key press) and handed to the listener, like the talking started/stopped changes and the end of
// each prompt; the listener is the conference, which posts them to the control loop.
// Lifecycle: the conference makes the room when its first participant gets media and drops its
// reference by posting it to the worker when the last leaves; the sinks hold the other
// references, so the room and its encoders go away on the worker after the last member.
// The 20 ms tick runs while the room has members, on absolute deadlines; a frame that leaves more
// than kLateFrameMargin after its deadline counts as late (MixerCounters::frames_late).
//
// Chains: a member's decoder and own encoder, and each shared encoder, are built and torn down on
// the chain thread (mixer/gst/chain_thread.hpp), never on the worker: attach asks for them, the
// next tick installs what was built (until then the member is not heard and hears silence), and
// detach hands them back to be torn down. (They were GStreamer chains, milliseconds to build; now
// no codec uses GStreamer and building them is microseconds, so the hop is a candidate to go.)
//
// Threading: constructed on any thread (the conference's); every other call on the room's media
// worker, which also decodes (ParticipantDecoder has no thread). The chain thread meets the worker
// only in the ChainMailbox.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/timer_queue.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/rtp/telephone_event.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/transport/media_counters.hpp"
#include "media/transport/media_session.hpp"
#include "media/transport/media_sink.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/frame_encoder.hpp"
#include "mixer/audio/participant_decoder.hpp"
#include "mixer/gst/chain_thread.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/n_minus_one_mixer.hpp"

namespace chorus::mixer {

inline constexpr std::chrono::milliseconds kLateFrameMargin{10};

// What the conference negotiated for one member's audio.
struct AudioMemberSpec {
  ParticipantId id = 0;
  AudioCodec codec = AudioCodec::kPcmu;
  std::uint8_t payload_type = 0;
  std::optional<std::uint8_t> telephone_event_payload_type;  // RFC 4733, when negotiated
  std::chrono::milliseconds ptime{20};
  // RFC 6464's ssrc-audio-level, when negotiated (its one-byte id, RFC 8285 §4.2; 0: not): an Opus
  // member's frames it marks quiet are not decoded unless mixed (mixer/audio/lazy_opus_stream.hpp).
  std::uint8_t audio_level_extension_id = 0;
  bool admitted = true;  // false: held (PIN entry, waiting room) until set_admitted
  bool muted = false;
  double gain_db = 0.0;  // input gain (NMinusOneMixer clamps it to [kMinGainDb, kMaxGainDb])
};

// Events from the room, on its media worker.
class AudioRoomListener {
 public:
  virtual ~AudioRoomListener() = default;
  virtual void on_dtmf(ParticipantId member, char digit) = 0;
  virtual void on_talking(ParticipantId member, bool talking) = 0;
  virtual void on_prompt_done(ParticipantId member, std::uint64_t token) = 0;
};

using Clip = std::shared_ptr<const std::vector<Sample>>;  // 48 kHz mono

class AudioRoom : public std::enable_shared_from_this<AudioRoom> {
 public:
  // `counters` are shared by every room of the engine (a room of its own when null). `chains`
  // builds and tears down the GStreamer chains (ChainThread::shared() when null); it must outlive
  // the room.
  AudioRoom(std::string name, std::shared_ptr<AudioRoomListener> listener, MixerConfig config = {},
            std::shared_ptr<MixerCounters> counters = nullptr, gst::ChainThread* chains = nullptr);
  AudioRoom(const AudioRoom&) = delete;
  AudioRoom& operator=(const AudioRoom&) = delete;
  ~AudioRoom();

  // From the members' sinks.
  void attach(media::MediaSession& session, const AudioMemberSpec& spec);
  void detach(ParticipantId member);
  void on_rtp(ParticipantId member, const media::RtpPacket& packet);

  // From the conference (posted to the worker). Unknown members are ignored.
  void set_admitted(ParticipantId member, bool admitted);
  void set_muted(ParticipantId member, bool muted);
  void set_gain_db(ParticipantId member, double gain_db);
  // Queues `clip` for `member`; on_prompt_done(member, token) when it has played (or was dropped
  // because the member left or stop_prompts was called: then no event).
  void play(ParticipantId member, Clip clip, std::uint64_t token);
  void stop_prompts(ParticipantId member);
  // Mixed into what every admitted member hears.
  void announce(Clip clip);
  // Called on the worker after every 20 ms round with each admitted member's level (the SFU's
  // active-speaker detection runs on the same worker and feeds on it). Empty: none.
  using LevelObserver = std::function<void(std::span<const ParticipantLevel>)>;
  void set_level_observer(LevelObserver observer) { level_observer_ = std::move(observer); }
  // Called on the worker after every 20 ms round with everyone's mix (what a listener who is not a
  // member hears: every talker and the announcements), always kFrameSamples long (silence when
  // nobody spoke). The recorder of the room's meeting takes it. Empty: none.
  using MixTap = std::function<void(std::span<const Sample>)>;
  void set_mix_tap(MixTap tap) { mix_tap_ = std::move(tap); }

  [[nodiscard]] std::size_t member_count() const { return members_.size(); }
  // The member's decoder and own encoder have been installed (worker thread).
  [[nodiscard]] bool chains_ready(ParticipantId member) const;
  [[nodiscard]] const MixCounters& mix_counters() const { return mixer_.counters(); }

 private:
  struct Prompt {
    Clip clip;
    std::uint64_t token = 0;
    std::size_t position = 0;
  };
  struct Member {
    AudioMemberSpec spec;
    media::MediaSession* session = nullptr;       // valid between attach and detach
    std::uint64_t generation = 0;                 // which attach the chains being built are for
    std::unique_ptr<ParticipantDecoder> decoder;  // null until built (or when it cannot be)
    std::unique_ptr<FrameEncoder> own_encoder;    // its talker output, prompts, silence; null until built
    media::TelephoneEventDetector dtmf;
    std::deque<Prompt> prompts;
    bool in_mixer = false;
    // RTP we send it (RFC 3550 §5.1): random start, continuous across encoder changes.
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    bool marker = true;
    std::vector<std::uint8_t> octets;  // sample codecs with ptime ≠ 20 ms: packetizer FIFO
  };

  // What the chain thread built for the room; the tick collects it. Shared with the jobs, so a
  // job that finishes after the room is gone finds it closed and drops what it built itself.
  struct BuiltMemberChains {
    ParticipantId id = 0;
    std::uint64_t generation = 0;
    std::unique_ptr<ParticipantDecoder> decoder;
    std::unique_ptr<FrameEncoder> encoder;
  };
  struct BuiltSharedEncoder {
    std::string key;
    std::unique_ptr<FrameEncoder> encoder;  // null: it cannot be built (logged); not asked again
  };
  struct ChainMailbox {
    std::mutex mutex;
    bool closed = false;
    std::vector<BuiltMemberChains> members;
    std::vector<BuiltSharedEncoder> shared;
  };

  void request_member_chains(const Member& member);
  void request_shared_encoder(const std::string& key, AudioCodec codec);
  void collect_built_chains(bool wait);  // the tick only tries the mailbox's lock
  void retire(std::unique_ptr<ParticipantDecoder> decoder, std::unique_ptr<FrameEncoder> encoder);
  // The tick at next_deadline_ mixes and sends; the frames it mixes are read and decoded by
  // prepare(), as late before it as that work allows (prepare_lead()), so a packet waits as little
  // as it can between its arrival and its mix (issue 13: the bridge's added delay).
  void schedule_tick();
  void schedule_prepare();
  void tick();
  void prepare();
  [[nodiscard]] std::chrono::nanoseconds prepare_lead() const;
  void gather_inputs();
  void forget_input(ParticipantId id);  // a member that leaves the mixer or the room
  void report_talkers(const MixResult& result);
  void report_levels();
  void tap_mix(const MixResult& result);
  void send_mix(const MixResult& result);
  void send_private(Member& member);
  // Null while being built or when the codec's encoder cannot be built (the error is logged).
  FrameEncoder* shared_encoder(const EncodeFormat& format, AudioCodec codec);
  static FrameEncoder* own_encoder(Member& member) { return member.own_encoder.get(); }
  void send_payload(Member& member, std::span<const std::uint8_t> payload);
  void send_packet(Member& member, std::span<const std::uint8_t> payload, std::chrono::milliseconds duration);
  void begin_send_burst();
  void end_send_burst();
  void update_mixer_membership(Member& member);
  Member* find(ParticipantId id);

  std::string name_;
  std::shared_ptr<AudioRoomListener> listener_;
  NMinusOneMixer mixer_;
  std::unordered_map<ParticipantId, Member> members_;
  std::unordered_map<std::string, std::unique_ptr<FrameEncoder>> shared_encoders_;  // by format codec
  std::unordered_set<std::string> shared_encoders_building_;
  gst::ChainThread* chains_;
  std::shared_ptr<ChainMailbox> mailbox_ = std::make_shared<ChainMailbox>();
  std::uint64_t last_generation_ = 0;
  std::deque<Prompt> announcements_;
  AudioFrame announcer_frame_{};
  std::vector<MixInput> inputs_;            // the frames the next tick mixes; each points into its member
  std::vector<ParticipantId> talkers_;      // as last reported
  std::vector<ParticipantId> talkers_now_;  // this tick's, before they are compared (scratch)
  // The worker's, from the first member's session.
  TimerQueue* timers_ = nullptr;
  media::ReadinessPoller* poller_ = nullptr;  // the worker's: the tick reads its members' sockets
  media::SendBatch* send_batch_ = nullptr;    // the worker's: the tick's sends leave together
  bool in_burst_ = false;                     // between begin_send_burst() and end_send_burst()
  std::uint64_t frames_in_burst_ = 0;
  std::shared_ptr<MixerCounters> counters_;
  LevelObserver level_observer_;
  MixTap mix_tap_;
  std::vector<ParticipantLevel> member_levels_;  // the round's levels without the announcer; capacity kept
  TimerQueue::TimerId tick_timer_ = TimerQueue::kNoTimer;
  TimerQueue::TimerId prepare_timer_ = TimerQueue::kNoTimer;
  TimePoint next_deadline_{};
  std::chrono::nanoseconds prepare_peak_{0};                  // the longest recent prepare(), decaying
  alignas(16) std::array<std::uint8_t, 1500 + 64> packet_{};  // header + payload + room for the SRTP tag
};

// The MediaSink the conference gives a member's audio session: it joins the session to its room.
class AudioRoomSink final : public media::MediaSink {
 public:
  AudioRoomSink(std::shared_ptr<AudioRoom> room, AudioMemberSpec spec) : room_(std::move(room)), spec_(spec) {}
  void on_attached(media::MediaSession& session) override { room_->attach(session, spec_); }
  void on_detached(media::MediaSession& /*session*/) override { room_->detach(spec_.id); }
  void on_rtp(media::MediaSession& /*session*/, media::RtpPacket& packet, std::span<std::uint8_t> /*buffer*/) override {
    room_->on_rtp(spec_.id, packet);
  }
  // The room decodes a member's packets on its tick, which polls the worker's tick set first.
  [[nodiscard]] bool consumes_at_tick() const override { return true; }

 private:
  std::shared_ptr<AudioRoom> room_;
  AudioMemberSpec spec_;
};

}  // namespace chorus::mixer
