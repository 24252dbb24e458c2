#include "common/timer_queue.hpp"

namespace chorus {

TimerQueue::TimerId TimerQueue::schedule(Millis after, std::function<void()> fn) {
  const TimerId id = next_id_++;
  const TimePoint when = now() + after;
  const bool earliest = heap_.empty() || when < heap_.top().when;
  heap_.push(Entry{when, id, std::move(fn)});
  live_.insert(id);
  if (earliest) on_earliest_changed(when);
  return id;
}

void TimerQueue::cancel(TimerId id) {
  live_.erase(id);
}

std::optional<TimePoint> TimerQueue::run_due(TimePoint until) {
  while (!heap_.empty()) {
    if (live_.find(heap_.top().id) == live_.end()) {  // cancelled: discard lazily
      heap_.pop();
      continue;
    }
    if (heap_.top().when > until) return heap_.top().when;
    Entry entry = std::move(const_cast<Entry&>(heap_.top()));
    heap_.pop();
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
