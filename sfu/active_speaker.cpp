#include "sfu/active_speaker.hpp"

#include <algorithm>

namespace chorus::sfu {
namespace {

constexpr std::uint8_t kNoData = 255;          // an empty noise-floor block
constexpr std::uint32_t kSpurtCap = 1U << 30;  // spurt counters stop here (≈ 8 months)
// The floor is trusted after 200 ms of sound: before, one loud first frame would be the "floor";
// after, a constant noise stops being active long before it could sustain a spurt.
constexpr std::uint32_t kFloorWarmupFrames = 10;

std::uint32_t frames_in(std::chrono::milliseconds d) noexcept {
  return d.count() <= 0 ? 0U : static_cast<std::uint32_t>(std::min<std::int64_t>(d / kSpeakerFrame, kSpurtCap));
}

// A bad config value (NaN, out of range) falls back to the default rather than silently making the
// detector switch on every frame or never.
double in_range_or(double value, double lo, double hi, double fallback) noexcept {
  return (value >= lo && value <= hi) ? value : fallback;
}

}  // namespace

std::string_view to_string(SpeakerError error) noexcept {
  switch (error) {
    case SpeakerError::kAlreadyMember:
      return "participant is already a member of the speaker detector";
    case SpeakerError::kNotMember:
      return "participant is not a member of the speaker detector";
    case SpeakerError::kRoomFull:
      return "speaker detector is full (kMaxRoomParticipants)";
  }
  return "unknown speaker detector error";
}

ActiveSpeakerDetector::ActiveSpeakerDetector(const ActiveSpeakerConfig& config) : config_(config) {
  const ActiveSpeakerConfig defaults;
  config_.min_spurt_density = in_range_or(config.min_spurt_density, 0.0, 1.0, defaults.min_spurt_density);
  // Below 1 a quieter challenger could win and the floor would flap between two voices.
  config_.takeover_ratio = in_range_or(config.takeover_ratio, 1.0, 1000.0, defaults.takeover_ratio);
  takeover_frames_ = std::max(frames_in(config.takeover_after), 1U);
  gap_frames_ = frames_in(config.spurt_gap);
  window_frames_ = std::clamp<std::uint32_t>(frames_in(config.compare_window), 1, kMaxCompareFrames);
}

std::expected<void, SpeakerError> ActiveSpeakerDetector::add(ParticipantId id) {
  if (index_.contains(id)) return std::unexpected(SpeakerError::kAlreadyMember);
  if (members_.size() >= kMaxRoomParticipants) return std::unexpected(SpeakerError::kRoomFull);
  Member member{.id = id, .join_seq = next_join_seq_++};
  member.floor_blocks.fill(kNoData);
  index_.emplace(id, members_.size());
  members_.push_back(member);
  order_.push_back(id);
  ++version_;
  return {};
}

std::expected<void, SpeakerError> ActiveSpeakerDetector::remove(ParticipantId id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::unexpected(SpeakerError::kNotMember);
  const std::size_t at = it->second;
  index_.erase(it);
  if (at + 1 != members_.size()) {
    members_[at] = members_.back();
    index_[members_[at].id] = at;
  }
  members_.pop_back();
  order_.erase(std::find(order_.begin(), order_.end(), id));
  if (dominant_ == id) dominant_.reset();
  ++version_;
  return {};
}

bool ActiveSpeakerDetector::update(std::span<const SpeakerLevel> levels) noexcept {
  ++frame_;
  ++stats_.frames;
  for (const SpeakerLevel& level : levels) {
    const auto it = index_.find(level.id);
    if (it == index_.end()) {
      ++stats_.unknown_levels;
      continue;
    }
    Member& member = members_[it->second];
    if (member.fed_frame == frame_) {
      ++stats_.duplicate_levels;
      continue;
    }
    member.fed_frame = frame_;
    member.voiced = level.voiced;
    member.level = level.level;
    if (level.level > kSilenceLevel) {
      ++stats_.invalid_levels;
      member.level = kSilenceLevel;
    }
  }
  if (frame_ % kNoiseFloorBlockFrames == 0) roll_noise_floor_blocks();

  const Member* best = nullptr;
  const Member* holder = nullptr;
  for (Member& member : members_) {
    step(member, member.fed_frame == frame_);
    if (member.id == dominant_) {
      holder = &member;
    } else if (qualifies(member) && (best == nullptr || outranks(member, *best))) {
      best = &member;
    }
  }
  // The best challenger is the only one that can beat the holder: the test is monotone in score.
  if (best == nullptr) return false;
  if (holder != nullptr &&
      static_cast<double>(best->score) <= config_.takeover_ratio * static_cast<double>(holder->score)) {
    return false;
  }
  take_floor(best->id);
  return true;
}

std::uint8_t ActiveSpeakerDetector::noise_floor(const Member& member) const noexcept {
  if (member.floor_frames < kFloorWarmupFrames) return 0;
  const std::size_t block = (frame_ / kNoiseFloorBlockFrames) % kNoiseFloorBlocks;
  const std::uint8_t floor = std::min(member.floor_history, member.floor_blocks[block]);
  return floor == kNoData ? 0 : floor;
}

// One frame of one member: activity against its floor, the score window, the spurt, the floor.
void ActiveSpeakerDetector::step(Member& member, bool fed) noexcept {
  const std::uint8_t loudness = fed ? static_cast<std::uint8_t>(kSilenceLevel - member.level) : 0;
  const std::uint8_t floor = noise_floor(member);
  const bool active = fed && member.voiced && loudness > 0 && loudness >= floor + config_.noise_margin_db;
  const auto weight =
      active ? static_cast<std::uint8_t>(std::clamp<int>(loudness - floor, 1, config_.score_cap_db)) : std::uint8_t{0};

  const std::size_t slot = frame_ % window_frames_;
  member.score = member.score - member.weights[slot] + weight;
  member.active_in_window = member.active_in_window - (member.weights[slot] != 0 ? 1 : 0) + (active ? 1 : 0);
  member.weights[slot] = weight;

  if (active) {
    if (member.spurt_frames < kSpurtCap) {
      ++member.spurt_frames;
      ++member.spurt_active;
    }
    member.since_active = 0;
  } else if (member.spurt_frames > 0) {
    if (++member.since_active > gap_frames_) {
      member.spurt_frames = 0;
      member.spurt_active = 0;
      member.since_active = 0;
    } else if (member.spurt_frames < kSpurtCap) {
      ++member.spurt_frames;
    }
  }

  if (loudness > 0) {  // 127 is "no signal", not the room's noise
    const std::size_t block = (frame_ / kNoiseFloorBlockFrames) % kNoiseFloorBlocks;
    member.floor_blocks[block] = std::min(member.floor_blocks[block], loudness);
    if (member.floor_frames < kSpurtCap) ++member.floor_frames;
  }
}

// A new one-second block begins: the oldest block leaves the floor's window.
void ActiveSpeakerDetector::roll_noise_floor_blocks() noexcept {
  const std::size_t current = (frame_ / kNoiseFloorBlockFrames) % kNoiseFloorBlocks;
  for (Member& member : members_) {
    member.floor_blocks[current] = kNoData;
    member.floor_history = *std::min_element(member.floor_blocks.begin(), member.floor_blocks.end());
  }
}

bool ActiveSpeakerDetector::qualifies(const Member& member) const noexcept {
  // The spurt counts up to its last active frame: the pause after a short "mm-hm" is no speech.
  const std::uint32_t spoken = member.spurt_frames - member.since_active;
  if (spoken < takeover_frames_) return false;
  const std::uint32_t span = std::min(spoken, window_frames_);
  return static_cast<double>(member.active_in_window) >= config_.min_spurt_density * static_cast<double>(span);
}

bool ActiveSpeakerDetector::outranks(const Member& a, const Member& b) noexcept {
  if (a.score != b.score) return a.score > b.score;
  if (a.spurt_frames != b.spurt_frames) return a.spurt_frames > b.spurt_frames;
  return a.join_seq < b.join_seq;
}

// The new holder moves to the front and everyone else keeps their relative order, so the slots of
// the people still among the last N speakers stay where they are (SlotAllocator).
void ActiveSpeakerDetector::take_floor(ParticipantId id) noexcept {
  dominant_ = id;
  const auto it = std::find(order_.begin(), order_.end(), id);
  std::rotate(order_.begin(), it, it + 1);
  ++stats_.switches;
  ++version_;
}

}  // namespace chorus::sfu
