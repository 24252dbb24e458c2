// TalkerSelector: which of the speaking participants are mixed this round.
//
// At most `max_talkers` (K) are mixed: mixing everyone who makes a sound adds every room's
// background noise, and K bounds the mixer's cost at O(K·frame). The K are the loudest by smoothed
// level, with hysteresis so the floor does not flap between two similar voices: a current talker
// keeps its slot while it speaks unless a newcomer is louder by at least `replace_margin_db`;
// a talker that stops speaking (TalkerDetector's hangover ran out) frees its slot at once.
// Ties are broken by participant id (the lower id ranks higher), so the choice is deterministic.
//
// Cost: O(N·K) per round for N candidates (K is a small constant), no allocation after construction.
// Threading: plain value; owned by the mixer of one room.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

inline constexpr std::size_t kMaxTalkers = 16;  // a named limit on K: buffers are sized by it

struct TalkerSelectorConfig {
  std::size_t max_talkers = 3;     // K, clamped to 1..kMaxTalkers
  double replace_margin_db = 6.0;  // how much louder a newcomer must be to displace a talker
};

// A participant that is speaking this round, with its smoothed level (TalkerDetector).
struct TalkerCandidate {
  ParticipantId id = 0;
  double level_db = 0.0;
};

class TalkerSelector {
 public:
  explicit TalkerSelector(const TalkerSelectorConfig& config = {});

  // `speaking` lists every participant speaking this round (any order, each id once). Returns the
  // talkers for this round, sorted by id; the span is valid until the next select().
  std::span<const ParticipantId> select(std::span<const TalkerCandidate> speaking);

  [[nodiscard]] std::span<const ParticipantId> talkers() const noexcept { return talkers_; }
  [[nodiscard]] std::size_t max_talkers() const noexcept { return config_.max_talkers; }

 private:
  void collect(std::span<const TalkerCandidate> speaking);
  void admit_and_replace();

  TalkerSelectorConfig config_;
  std::vector<ParticipantId> talkers_;      // this round's talkers, sorted by id
  std::vector<TalkerCandidate> kept_;       // current talkers still speaking, weakest first
  std::vector<TalkerCandidate> newcomers_;  // the K loudest others, strongest first
};

}  // namespace chorus::mixer
