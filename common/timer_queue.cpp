#include "common/timer_queue.hpp"

#include <cstdint>

namespace chorus {

TimerQueue::TimerId TimerQueue::schedule(Millis after, std::function<void()> fn) {
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& entry = slots_[slot];
  entry.live = true;
  entry.fn = std::move(fn);
  ++live_count_;
  const TimePoint when = now() + after;
  const bool earliest = heap_.empty() || when < heap_.front().when;
  heap_.push_back(Entry{when, next_sequence_++, slot, entry.generation});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  if (earliest) on_earliest_changed(when);
  return (TimerId{entry.generation} << 32) | slot;
}

void TimerQueue::release(std::uint32_t slot) noexcept {
  Slot& entry = slots_[slot];
  entry.live = false;
  entry.fn = nullptr;  // what it captured goes now, not when its heap entry surfaces
  // Never 0, so that no id is kNoTimer; a wrap takes 2^32 reuses of one slot.
  entry.generation = entry.generation == UINT32_MAX ? 1 : entry.generation + 1;
  free_slots_.push_back(slot);
  --live_count_;
}

void TimerQueue::cancel(TimerId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xFFFF'FFFFU);
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size() || !slots_[slot].live || slots_[slot].generation != generation) return;
  release(slot);
  if (heap_.size() > 2 * live_count_ + 1024) compact();
}

void TimerQueue::compact() {
  std::erase_if(heap_, [this](const Entry& e) { return !is_live(e); });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

std::optional<TimePoint> TimerQueue::run_due(TimePoint until) {
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    if (is_live(top) && top.when > until) return top.when;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    if (!is_live(top)) continue;  // cancelled: discarded lazily
    std::function<void()> fn = std::move(slots_[top.slot].fn);
    release(top.slot);
    fn();  // may schedule or cancel other timers
  }
  return std::nullopt;
}

void ManualTimerQueue::advance(Millis by) {
  const TimePoint target = now_ + by;
  // Step through each deadline so callbacks observe now() equal to their own deadline.
  for (int guard = 0; guard < 1'000'000; ++guard) {
    auto next = run_due(now_);
    if (!next || *next > target) break;
    now_ = *next;
  }
  now_ = target;
  run_due(now_);
}

}  // namespace chorus
