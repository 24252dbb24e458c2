#include "sfu/slot_allocator.hpp"

#include <algorithm>

namespace chorus::sfu {

void RankedProducers::rebuild(std::span<const ParticipantId> speaker_order, std::span<const ParticipantId> producers) {
  if (producers.size() > kMaxRoomParticipants) {
    dropped_ += producers.size() - kMaxRoomParticipants;
    producers = producers.first(kMaxRoomParticipants);
  }
  by_id_.clear();
  for (const ParticipantId id : producers) by_id_.push_back(Entry{.id = id});
  const auto by_id = [](const Entry& a, const Entry& b) { return a.id < b.id; };
  std::sort(by_id_.begin(), by_id_.end(), by_id);
  by_id_.erase(std::unique(by_id_.begin(), by_id_.end(), [](const Entry& a, const Entry& b) { return a.id == b.id; }),
               by_id_.end());

  next_.clear();
  const auto place = [&](Entry& entry) {
    entry.rank = static_cast<std::uint32_t>(next_.size());
    entry.ranked = true;
    next_.push_back(entry.id);
  };
  for (const ParticipantId id : speaker_order) {
    const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), Entry{.id = id}, by_id);
    if (it != by_id_.end() && it->id == id && !it->ranked) place(*it);
  }
  for (Entry& entry : by_id_) {
    if (!entry.ranked) place(entry);
  }
  if (next_ != ranked_) ++version_;
  ranked_.swap(next_);
}

std::optional<std::size_t> RankedProducers::rank_of(ParticipantId id) const noexcept {
  const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id,
                                   [](const Entry& entry, ParticipantId value) { return entry.id < value; });
  if (it == by_id_.end() || it->id != id) return std::nullopt;
  return it->rank;
}

std::string_view to_string(SlotError error) noexcept {
  switch (error) {
    case SlotError::kBadSlotCount:
      return "a receiver has 1 to kMaxSlots video slots";
  }
  return "unknown slot allocator error";
}

SlotAllocator::SlotAllocator(ParticipantId receiver, std::size_t slot_count) : receiver_(receiver), slots_(slot_count) {
  wanted_.reserve(kMaxSlots);
  changed_.reserve(kMaxSlots);
}

std::expected<SlotAllocator, SlotError> SlotAllocator::create(ParticipantId receiver, std::size_t slot_count) {
  if (slot_count == 0 || slot_count > kMaxSlots) return std::unexpected(SlotError::kBadSlotCount);
  return SlotAllocator(receiver, slot_count);
}

std::expected<void, SlotError> SlotAllocator::resize(std::size_t slot_count) {
  if (slot_count == 0 || slot_count > kMaxSlots) return std::unexpected(SlotError::kBadSlotCount);
  slots_.resize(slot_count);
  return {};
}

// The K participants this receiver should see, best first: the pinned one, then the ranking
// without the receiver. Reads at most K + 2 entries of the ranking.
void SlotAllocator::choose_wanted(const RankedProducers& producers, std::optional<ParticipantId> pinned) {
  wanted_.clear();
  last_examined_ = 0;
  pinned_shown_ = pinned && *pinned != receiver_ && producers.contains(*pinned);
  if (pinned_shown_) wanted_.push_back(*pinned);
  const std::size_t k = slots_.size();
  for (const ParticipantId id : producers.ranked()) {
    if (wanted_.size() == k) break;
    ++last_examined_;
    if (id == receiver_ || (pinned_shown_ && id == *pinned)) continue;
    wanted_.push_back(id);
  }
}

std::span<const std::size_t> SlotAllocator::assign(const RankedProducers& producers,
                                                   std::optional<ParticipantId> pinned) {
  choose_wanted(producers, pinned);
  const std::size_t k = slots_.size();
  placed_.fill(false);
  slot_changed_.fill(false);

  // Whoever is still wanted keeps its slot; the others leave theirs (K ≤ kMaxSlots: O(K²) is tiny).
  for (std::size_t slot = 0; slot < k; ++slot) {
    if (!slots_[slot]) continue;
    const auto it = std::find(wanted_.begin(), wanted_.end(), *slots_[slot]);
    if (it != wanted_.end()) {
      placed_[static_cast<std::size_t>(it - wanted_.begin())] = true;
    } else {
      slots_[slot].reset();
      slot_changed_[slot] = true;
    }
  }
  // Newcomers, best first, into the free slots, lowest index first.
  std::size_t free_slot = 0;
  for (std::size_t i = 0; i < wanted_.size(); ++i) {
    if (placed_[i]) continue;
    while (free_slot < k && slots_[free_slot]) ++free_slot;
    if (free_slot == k) break;  // cannot happen: |wanted| ≤ K and every kept one holds a slot
    slots_[free_slot] = wanted_[i];
    slot_changed_[free_slot] = true;
  }

  changed_.clear();
  for (std::size_t slot = 0; slot < k; ++slot) {
    if (slot_changed_[slot]) changed_.push_back(slot);
  }
  return changed_;
}

}  // namespace chorus::sfu
