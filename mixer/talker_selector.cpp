#include "mixer/talker_selector.hpp"

#include <algorithm>

namespace chorus::mixer {
namespace {

// Strict rank order: louder first, then the lower id.
bool ranks_above(const TalkerCandidate& a, const TalkerCandidate& b) noexcept {
  if (a.level_db != b.level_db) return a.level_db > b.level_db;
  return a.id < b.id;
}

}  // namespace

TalkerSelector::TalkerSelector(const TalkerSelectorConfig& config) : config_(config) {
  config_.max_talkers = std::clamp<std::size_t>(config_.max_talkers, 1, kMaxTalkers);
  talkers_.reserve(kMaxTalkers);
  kept_.reserve(kMaxTalkers);
  newcomers_.reserve(kMaxTalkers + 1);
}

std::span<const ParticipantId> TalkerSelector::select(std::span<const TalkerCandidate> speaking) {
  collect(speaking);
  admit_and_replace();
  return talkers_;
}

// One pass: current talkers still speaking go to kept_, the others compete for the K best
// newcomer places (an insertion into a list of at most K + 1 entries).
void TalkerSelector::collect(std::span<const TalkerCandidate> speaking) {
  kept_.clear();
  newcomers_.clear();
  const std::size_t k = config_.max_talkers;
  for (const TalkerCandidate& candidate : speaking) {
    if (std::binary_search(talkers_.begin(), talkers_.end(), candidate.id)) {
      kept_.push_back(candidate);
      continue;
    }
    if (newcomers_.size() == k && !ranks_above(candidate, newcomers_.back())) continue;
    const auto at = std::find_if(newcomers_.begin(), newcomers_.end(),
                                 [&](const TalkerCandidate& other) { return ranks_above(candidate, other); });
    newcomers_.insert(at, candidate);
    if (newcomers_.size() > k) newcomers_.pop_back();
  }
  std::sort(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) { return ranks_above(b, a); });
}

// Free slots go to the loudest newcomers; then the loudest remaining newcomer displaces the
// weakest kept talker only when louder by the margin, pairing strongest-new with weakest-kept
// until a pair fails (both lists are ordered, so no later pair can succeed).
void TalkerSelector::admit_and_replace() {
  const std::size_t k = config_.max_talkers;
  std::size_t next_new = 0;
  talkers_.clear();
  while (kept_.size() + talkers_.size() < k && next_new < newcomers_.size()) {
    talkers_.push_back(newcomers_[next_new++].id);
  }
  std::size_t weakest = 0;
  while (next_new < newcomers_.size() && weakest < kept_.size() &&
         newcomers_[next_new].level_db >= kept_[weakest].level_db + config_.replace_margin_db) {
    talkers_.push_back(newcomers_[next_new++].id);
    ++weakest;
  }
  for (std::size_t i = weakest; i < kept_.size(); ++i) talkers_.push_back(kept_[i].id);
  std::sort(talkers_.begin(), talkers_.end());
}

}  // namespace chorus::mixer
