// NMinusOneMixer: the audio MCU's mixing core (DESIGN §3 "Audio MCU"), pure computation.
//
// Every 20 ms round the caller hands in the decoded frame of each participant that sent audio
// (with the RFC 6464 level when the call negotiated it). The mixer
//   1. updates each participant's TalkerDetector (from the RFC 6464 level when present, else
//      from the frame's energy) and lets TalkerSelector pick at most K talkers, with hysteresis;
//   2. sums the K talkers' gain-applied frames ONCE into an int32 buffer;
//   3. gives each talker its own N−1 output, sum − own contribution, and every other listener the
//      same shared output, the full sum ("everyone's mix");
//   4. runs each distinct output through its Limiter into int16;
//   5. groups listeners by what must be encoded: one encode of the shared mix per distinct
//      (codec, ptime) among non-talkers, and one encode per talker.
// The work is O(N + K·frame): per listener only O(1) bookkeeping, samples are touched only for the
// K talkers and the K + 1 outputs (plus, for participants whose level did not come in the RTP
// header, one energy pass over the frame their decoder produced anyway). MixCounters counts those
// sample operations so a test can prove the cost is flat per participant.
//
// A muted participant (server-side mute) is never a talker and contributes nothing; it still
// hears the room. The input gain applies to what a participant contributes and to its level.
// A talker's N−1 output is exact (bit for bit the sum of the other talkers' contributions) while
// it stays under the limiter threshold.
//
// Limits: at most MixerConfig::max_participants participants and kMaxTalkers talkers. Bad input
// (unknown id, a frame of the wrong length, a duplicate in one round) is dropped and counted, never
// thrown.
//
// Threading: not thread-safe; the room's mixing thread owns it. The spans in a MixResult point into
// the mixer and stay valid until the next mix() or participant change.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "mixer/limiter.hpp"
#include "mixer/talker_detector.hpp"
#include "mixer/talker_selector.hpp"

namespace chorus::mixer {

inline constexpr double kMinGainDb = -60.0;
inline constexpr double kMaxGainDb = 20.0;  // 10×: K·32768·10 still fits an int32 sum

// What a listener's audio is encoded as. Listeners with equal formats can share one encoded frame.
// `codec` is the RTP encoding name plus whatever changes the bitstream (e.g. "opus" or
// "opus/48000/2;maxaveragebitrate=20000"); encoding names are case-insensitive (RFC 4855 §3), so it
// is compared in lower case.
struct EncodeFormat {
  std::string codec;
  std::chrono::milliseconds ptime{20};
  bool operator==(const EncodeFormat&) const = default;
};

struct ParticipantSettings {
  EncodeFormat format;
  double gain_db = 0.0;   // input gain, clamped to [kMinGainDb, kMaxGainDb]
  bool muted = false;     // server-side mute: contributes nothing, never a talker
  bool listening = true;  // false when the call does not receive (sendonly, inactive): no output
  // An announcer (join tones, "this meeting is being recorded"): never a talker, so it never takes
  // one of the K talker slots, and its frame is always in the sum. It must not listen: it has no
  // N−1 output of its own. Three steady talkers would otherwise keep a prompt out of the mix.
  bool always_mixed = false;
};

// A participant's frame that its decoder makes only when the mixer asks: the mixer reads the
// samples of the K talkers and the announcers alone, so a narrowband member's interpolation to
// 48 kHz is done for the frames that are mixed and skipped for the rest (mixer/audio's
// ParticipantDecoder). render() is called at most once a round, during mix(); it returns
// kFrameSamples samples (anything else is dropped and counted) that stay valid until mix() returns.
class DeferredFrame {
 public:
  virtual FrameView render() = 0;

 protected:
  ~DeferredFrame() = default;
};

// One participant's audio for this round: its samples in `frame`, or a `deferred` frame with its
// level (a deferred frame without a level is rendered at once, for its energy).
struct MixInput {
  ParticipantId id = 0;
  FrameView frame;                         // kFrameSamples of decoded audio, or empty (loss, DTX)
  std::optional<std::uint8_t> level_dbov;  // RFC 6464 §3 level (header extension or the decoder's)
  std::optional<bool> voice_activity;      // RFC 6464 V flag, only when vad=on (RFC 6464 §4)
  DeferredFrame* deferred = nullptr;       // instead of `frame`: rendered only if it is mixed
};

struct MixOutput {
  std::optional<ParticipantId> excluded;  // nullopt: everyone's mix; else the talker it leaves out
  FrameView pcm;                          // kFrameSamples
};

struct ListenerAssignment {
  ParticipantId listener = 0;
  std::size_t output = 0;  // index into MixResult::outputs
};

struct EncodeGroup {
  std::size_t output = 0;  // index into MixResult::outputs
  const EncodeFormat* format = nullptr;
  std::span<const ParticipantId> listeners;  // who receives this encoded frame
};

// How loud one participant was this round, after its gain (RFC 6464 §3 magnitude: 0 loudest, 127
// silence), and whether its TalkerDetector counts it as talking: what an active-speaker detector
// (the SFU's) needs, computed once here for the whole room.
struct ParticipantLevel {
  ParticipantId id = 0;
  std::uint8_t level_dbov = 127;
  bool voiced = false;
};

struct MixResult {
  std::span<const ParticipantId> talkers;         // sorted by id
  std::span<const MixOutput> outputs;             // [0] everyone's mix, [1 + i] talkers[i]'s N−1
  std::span<const ListenerAssignment> listeners;  // every listening participant, O(1) each
  std::span<const EncodeGroup> encodes;           // shared-mix groups first, then one per talker
};

struct MixCounters {
  std::uint64_t rounds = 0;
  std::uint64_t mix_sample_ops = 0;       // sum, N−1 subtractions, limiter passes
  std::uint64_t analysis_sample_ops = 0;  // energy of frames that came without an RFC 6464 level
  std::uint64_t listener_ops = 0;         // per-listener bookkeeping, one per listener per round
  std::uint64_t encodes = 0;              // encode groups handed out
  std::uint64_t deferred_inputs = 0;      // inputs given as a DeferredFrame
  std::uint64_t deferred_renders = 0;     // of them, rendered because they were mixed
  std::uint64_t limited_outputs = 0;      // outputs whose limiter was reducing gain
  std::uint64_t dropped_unknown_participant = 0;
  std::uint64_t dropped_bad_frame_size = 0;
  std::uint64_t dropped_duplicate_input = 0;
  std::uint64_t ignored_bad_level = 0;  // an RFC 6464 level above 127; the energy is used instead
};

struct MixerConfig {
  TalkerDetectorConfig detector;
  TalkerSelectorConfig selector;
  LimiterConfig limiter;
  std::size_t max_participants = 4096;
};

class NMinusOneMixer {
 public:
  explicit NMinusOneMixer(const MixerConfig& config = {});

  // False when the id is already present or the room is at max_participants.
  bool add_participant(ParticipantId id, const ParticipantSettings& settings);
  // False for an unknown id. Muting resets the participant's talker state.
  bool update_participant(ParticipantId id, const ParticipantSettings& settings);
  bool set_gain_db(ParticipantId id, double gain_db);
  bool set_muted(ParticipantId id, bool muted);
  bool remove_participant(ParticipantId id);
  [[nodiscard]] std::size_t participant_count() const noexcept { return participants_.size(); }

  // One 20 ms round. Inputs may come in any order; a participant with no input this round is
  // silent. The result is valid until the next call.
  const MixResult& mix(std::span<const MixInput> inputs);

  [[nodiscard]] const MixResult& last_result() const noexcept { return result_; }
  // Every participant's level of the last round (muted ones at silence), in no particular order.
  [[nodiscard]] std::span<const ParticipantLevel> levels() const noexcept { return levels_; }
  [[nodiscard]] const MixCounters& counters() const noexcept { return counters_; }

 private:
  struct Participant {
    ParticipantId id = 0;
    std::size_t format_id = 0;
    double gain_db = 0.0;
    std::int32_t gain_q14 = 1 << 14;
    bool muted = false;
    bool listening = true;
    bool always_mixed = false;
    TalkerDetector detector;
    Limiter own_limiter;  // for its N−1 output while it is a talker
    // This round:
    FrameView frame;
    DeferredFrame* deferred = nullptr;  // when frame is empty and the input was deferred
    std::optional<std::uint8_t> level_dbov;
    std::optional<bool> voice_activity;
    bool has_input = false;
    std::optional<std::size_t> talker_slot;
  };
  struct FormatSlot {
    EncodeFormat format;
    std::size_t users = 0;
  };

  Participant* find(ParticipantId id) noexcept;
  void apply_settings(Participant& p, const ParticipantSettings& settings);
  std::size_t intern_format(const EncodeFormat& format);
  void release_format(std::size_t format_id) noexcept;

  // The participant's samples, its deferred frame rendered first when it has one.
  FrameView frame_of(Participant& p) noexcept;

  void begin_round() noexcept;
  void accept_inputs(std::span<const MixInput> inputs) noexcept;
  void detect_talkers() noexcept;
  void select_talkers();
  void accumulate() noexcept;
  void render_outputs() noexcept;
  void assign_listeners() noexcept;
  void group_encodes();

  MixerConfig config_;
  std::vector<Participant> participants_;
  std::unordered_map<ParticipantId, std::size_t> index_;
  std::vector<FormatSlot> formats_;
  TalkerSelector selector_;
  Limiter shared_limiter_;

  // Round buffers, sized once.
  std::vector<TalkerCandidate> candidates_;
  std::vector<ParticipantId> previous_talkers_;
  std::vector<Participant*> talker_participants_;
  std::vector<const Participant*> always_mixed_;  // this round's announcers with a frame
  std::vector<bool> contributed_;
  std::vector<MixBuffer> contributions_;  // K gain-applied talker frames
  MixBuffer sum_{};
  MixBuffer scratch_{};
  AudioFrame shared_pcm_{};
  std::vector<AudioFrame> talker_pcm_;
  std::vector<MixOutput> outputs_;
  std::vector<ListenerAssignment> listeners_;
  std::vector<std::size_t> group_offsets_;  // per format id, into grouped_listeners_
  std::vector<ParticipantId> grouped_listeners_;
  std::vector<EncodeGroup> encodes_;
  std::vector<ParticipantLevel> levels_;
  MixResult result_;
  MixCounters counters_;
};

}  // namespace chorus::mixer
