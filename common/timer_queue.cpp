#include "common/timer_queue.hpp"

namespace chorus {

TimerQueue::TimerId TimerQueue::schedule(Millis after, std::function<void()> fn) {
  const TimerId id = next_id_++;
  const TimePoint when = now() + after;
  const bool earliest = heap_.empty() || when < heap_.front().when;
  heap_.push_back(Entry{when, id, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  live_.insert(id);
  if (earliest) on_earliest_changed(when);
  return id;
}

void TimerQueue::cancel(TimerId id) {
  if (live_.erase(id) != 0 && heap_.size() > 2 * live_.size() + 1024) compact();
}

void TimerQueue::compact() {
  std::erase_if(heap_, [this](const Entry& e) { return !live_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

std::optional<TimePoint> TimerQueue::run_due(TimePoint until) {
  while (!heap_.empty()) {
    if (!live_.contains(heap_.front().id)) {  // cancelled: discard lazily
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      heap_.pop_back();
      continue;
    }
    if (heap_.front().when > until) return heap_.front().when;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Entry entry = std::move(heap_.back());
    heap_.pop_back();
    live_.erase(entry.id);
    entry.fn();  // may schedule or cancel other timers
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
