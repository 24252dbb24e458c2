// ActiveSpeakerDetector: who holds the floor, and in which order the room's members last held it.
//
// Fed once per 20 ms audio frame with what the audio MCU measured for each member: the RFC 6464
// level (0..127, the magnitude of dBov; 127 is silence) and whether the frame was voiced
// (mixer::TalkerDetector). In the spirit of Volfin & Cohen's dominant speaker identification (as
// Jitsi applies it to RFC 6464 levels), but with one time scale for "is this a sustained speaker"
// and one for "who is louder now" instead of three likelihood models:
//
//  - A frame is *active* when it is voiced and at least `noise_margin_db` louder than the member's
//    noise floor (the quietest non-silent frame of the last 7–8 s, once 200 ms of sound have been
//    heard), so a constant fan or a noisy room is not speech even when the sender's VAD says it is.
//    (A noise that starts, flagged as voice, counts as speech until the floor catches up with it:
//    long enough to take an empty floor. Real VADs — RFC 6464's V flag — rarely flag a fan.)
//    Level 127 (no signal: digital silence, DTX, nothing arrived) never lowers the floor.
//  - Active frames form a *spurt* that survives pauses up to `spurt_gap` (the gaps between words and
//    breaths). A member *qualifies* to take the floor once its spurt has lasted `takeover_after`
//    from its first to its latest active frame and at least `min_spurt_density` of its recent
//    frames (the last `compare_window`) were active: a cough, a click or an "mm-hm" never lasts
//    that long, a fit of coughing is too sparse.
//  - A member's *score* is the sum, over the last `compare_window`, of how far each active frame
//    rose above its noise floor (dB, capped at `score_cap_db` so a studio microphone does not beat
//    a laptop's by its signal-to-noise ratio alone). A qualifying challenger takes the floor when
//    its score is above `takeover_ratio` times the dominant speaker's: the dominant one has gone
//    quiet, or is only murmuring under the challenger. Two people talking over each other at
//    similar levels leave the floor where it is. Silence never takes the floor away: only a
//    challenger does.
//  - Among several qualifying challengers the highest score wins, then the longer spurt, then the
//    earlier join, so every decision is deterministic.
//
// The speaker order is most recently dominant first; members who were never dominant follow in
// join order; a leaver is removed (and when it was dominant, nobody holds the floor until the next
// challenger qualifies). version() moves whenever the order or the dominant speaker changes, so the
// router recomputes slots only then.
//
// Cost per update(): O(N) for N members plus O(1) per level given (one hash look-up), no
// allocation; the per-second noise-floor roll is O(N·kNoiseFloorBlocks). Changing the order (a
// switch, a join, a leave) is O(N). Durations are counted in frames, one per update(); a late tick
// stretches them, it never breaks them.
// Threading: plain value; owned by one room's router on its media worker.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfu/participant_id.hpp"

namespace chorus::sfu {

inline constexpr std::chrono::milliseconds kSpeakerFrame{20};  // one update() per audio frame
inline constexpr std::uint8_t kSilenceLevel = 127;             // RFC 6464 §3: 127 is -127 dBov or less
inline constexpr std::size_t kMaxCompareFrames = 100;          // compare_window ≤ 2 s
inline constexpr std::size_t kNoiseFloorBlocks = 8;            // blocks of kNoiseFloorBlockFrames
inline constexpr std::uint32_t kNoiseFloorBlockFrames = 50;    // 1 s

struct ActiveSpeakerConfig {
  std::chrono::milliseconds takeover_after{700};  // sustained speech before a challenger can win
  std::chrono::milliseconds spurt_gap{300};       // a longer pause ends the spurt
  double min_spurt_density = 0.5;                 // share of a spurt's frames that were active
  std::chrono::milliseconds compare_window{700};  // score window, 1 frame .. kMaxCompareFrames
  double takeover_ratio = 1.5;                    // challenger's score over the dominant one's
  std::uint8_t noise_margin_db = 6;               // active: this far above the noise floor
  std::uint8_t score_cap_db = 30;                 // a frame adds at most this much to a score
};

// One member's frame: the RFC 6464 level and the voiced decision. Members missing from an
// update() had no audio this frame (silence, DTX, muted).
struct SpeakerLevel {
  ParticipantId id = 0;
  std::uint8_t level = kSilenceLevel;  // 0..127; above 127 is not RFC 6464 and is read as silence
  bool voiced = false;
};

enum class SpeakerError : std::uint8_t { kAlreadyMember, kNotMember, kRoomFull };
[[nodiscard]] std::string_view to_string(SpeakerError error) noexcept;

// What the detector dropped or corrected, for the room's metrics.
struct ActiveSpeakerStats {
  std::uint64_t frames = 0;            // update() calls
  std::uint64_t switches = 0;          // times the floor changed hands
  std::uint64_t unknown_levels = 0;    // levels for ids that are not members (ignored)
  std::uint64_t duplicate_levels = 0;  // a second level for a member in one frame (ignored)
  std::uint64_t invalid_levels = 0;    // levels above 127 (read as silence)
};

class ActiveSpeakerDetector {
 public:
  explicit ActiveSpeakerDetector(const ActiveSpeakerConfig& config = {});

  // Control path (joins and leaves). A new member goes to the end of the order.
  [[nodiscard]] std::expected<void, SpeakerError> add(ParticipantId id);
  [[nodiscard]] std::expected<void, SpeakerError> remove(ParticipantId id);

  // One audio frame. Returns true when the order or the dominant speaker changed.
  bool update(std::span<const SpeakerLevel> levels) noexcept;

  [[nodiscard]] std::optional<ParticipantId> dominant() const noexcept { return dominant_; }
  // Most recently dominant first, then never-dominant members in join order.
  [[nodiscard]] std::span<const ParticipantId> order() const noexcept { return order_; }
  // Moves on every change of order() or dominant().
  [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  [[nodiscard]] bool contains(ParticipantId id) const noexcept { return index_.contains(id); }
  [[nodiscard]] const ActiveSpeakerStats& stats() const noexcept { return stats_; }

 private:
  struct Member {
    ParticipantId id = 0;
    std::uint64_t join_seq = 0;
    std::uint64_t fed_frame = 0;  // the frame whose level `level`/`voiced` hold (0: none yet)
    std::uint8_t level = kSilenceLevel;
    bool voiced = false;
    // Noise floor as loudness (127 - level): the minimum per 1 s block, 255 while a block is empty.
    std::array<std::uint8_t, kNoiseFloorBlocks> floor_blocks{};
    std::uint8_t floor_history = 255;  // min over the completed blocks
    std::uint32_t floor_frames = 0;    // sound frames seen (saturating): the floor counts after 200 ms
    // Score window: dB above the floor of each of the last compare frames (0: inactive).
    std::array<std::uint8_t, kMaxCompareFrames> weights{};
    std::uint32_t score = 0;
    std::uint32_t active_in_window = 0;
    // Current spurt (frames counted from its first active frame).
    std::uint32_t spurt_frames = 0;  // 0: not in a spurt
    std::uint32_t spurt_active = 0;
    std::uint32_t since_active = 0;
  };

  void step(Member& member, bool fed) noexcept;
  void roll_noise_floor_blocks() noexcept;
  [[nodiscard]] bool qualifies(const Member& member) const noexcept;
  [[nodiscard]] static bool outranks(const Member& a, const Member& b) noexcept;
  [[nodiscard]] std::uint8_t noise_floor(const Member& member) const noexcept;
  void take_floor(ParticipantId id) noexcept;

  ActiveSpeakerConfig config_;
  std::uint32_t takeover_frames_;
  std::uint32_t gap_frames_;
  std::uint32_t window_frames_;
  std::vector<Member> members_;                           // dense, any order
  std::unordered_map<ParticipantId, std::size_t> index_;  // id → members_ index
  std::vector<ParticipantId> order_;
  std::optional<ParticipantId> dominant_;
  std::uint64_t frame_ = 0;
  std::uint64_t next_join_seq_ = 1;
  std::uint64_t version_ = 0;
  ActiveSpeakerStats stats_;
};

}  // namespace chorus::sfu
