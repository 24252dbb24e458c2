// TimerQueue: one-shot timers for the control loop, on a clock that tests can drive.
//
// Threading: not thread-safe; owned and used by exactly one loop (the control loop, DESIGN §2).
// The SIP transaction timers (RFC 3261 §17, Timers A–K) are scheduled here. Production code uses
// AsioTimerQueue, which arms a single steady_timer for the earliest deadline; tests use
// ManualTimerQueue and call advance() to move time, so no test sleeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace chorus {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Millis = std::chrono::milliseconds;

class TimerQueue {
 public:
  using TimerId = std::uint64_t;
  static constexpr TimerId kNoTimer = 0;

  virtual ~TimerQueue() = default;

  [[nodiscard]] virtual TimePoint now() const = 0;

  // Runs `fn` once, `after` from now(), unless cancelled first. Never runs it synchronously.
  TimerId schedule(Millis after, std::function<void()> fn);
  // Cancelling an expired or unknown id is a no-op.
  void cancel(TimerId id);

  [[nodiscard]] std::size_t pending() const { return live_count_; }

 protected:
  // Runs every timer due at or before `until`; returns the next deadline, if any.
  std::optional<TimePoint> run_due(TimePoint until);
  // Called when the earliest deadline may have moved earlier.
  virtual void on_earliest_changed(TimePoint) {}

 private:
  // A timer's callback lives in a slot, reused once the timer has fired or been cancelled; the heap
  // orders small trivially copyable entries, so a push or pop moves no std::function, and
  // scheduling allocates nothing once the slots have grown (the SIP transactions schedule and
  // cancel several timers a call: an unordered_set node each was a malloc and a free). A TimerId is
  // the slot's generation (from 1, so never kNoTimer) above its index: an id whose slot has moved on
  // is stale, and cancelling it is a no-op.
  struct Slot {
    std::uint32_t generation = 1;
    bool live = false;
    std::function<void()> fn;
  };
  struct Entry {
    TimePoint when;
    std::uint64_t sequence;  // scheduling order: equal deadlines fire first come, first served
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.sequence > b.sequence;
    }
  };
  [[nodiscard]] bool is_live(const Entry& e) const noexcept {
    return slots_[e.slot].live && slots_[e.slot].generation == e.generation;
  }
  // The slot's timer is over (fired or cancelled): its callback goes now, its slot can be reused.
  void release(std::uint32_t slot) noexcept;
  // Drops cancelled entries from heap_ once they outnumber the live ones: a call cancels most of
  // its timers (2xx retransmission, ACK wait) long before they are due, and a heap full of dead
  // entries makes every push and pop slower.
  void compact();

  std::vector<Entry> heap_;  // a binary min-heap under Later (std::push_heap / std::pop_heap)
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t live_count_ = 0;
  std::uint64_t next_sequence_ = 0;
};

// A clock that moves only when told to; for tests of timer-driven state machines.
class ManualTimerQueue final : public TimerQueue {
 public:
  [[nodiscard]] TimePoint now() const override { return now_; }
  // Moves time forward by `by`, firing each due timer at its own deadline, in order.
  void advance(Millis by);

 private:
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace chorus
