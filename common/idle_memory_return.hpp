// IdleMemoryReturn: gives the heap's free pages back to the system once the server has gone idle
// after a burst of calls (issue 12: after a load, RSS returns to near where it started).
//
// Why: glibc's malloc keeps what a burst freed in its arenas (one per thread that allocated: the
// control loop, each media worker, GStreamer's streaming threads) and returns only the top of each
// heap by itself. 1,000 calls held and hung up left ~150 MB resident. malloc_trim(0) releases the
// free pages of every arena (madvise), so an idle server shrinks back. It walks the arenas under
// their locks, which is why it runs only when no call is up (nobody to stall) and at most once per
// idle period, after the calls have been gone for `settle` (a call ending during a churn does not
// trim between two calls).
// Threading: one thread (the control loop's once-a-second metrics tick). Pure logic, time passed in;
// the trim itself is injected (tests count it, production calls malloc_trim).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace chorus {

class IdleMemoryReturn {
 public:
  using Clock = std::chrono::steady_clock;
  using Trim = std::function<void()>;

  // `trim` defaults to malloc_trim(0) where glibc has it (a no-op elsewhere).
  explicit IdleMemoryReturn(std::chrono::milliseconds settle = std::chrono::seconds(5), Trim trim = {});

  // `in_flight`: calls up now plus the SIP transactions still alive (a call's BYE transaction
  // outlives it by 64*T1: trimmed before it goes, what it freed afterwards stayed resident, ~10 MB
  // per 1,000 calls). `calls_started`: calls started since the process began (so a call that came
  // and went between two observations counts). Trims once `in_flight` has been 0 for `settle`
  // after any call.
  void observe(std::uint64_t in_flight, std::uint64_t calls_started, Clock::time_point now);
  [[nodiscard]] std::uint64_t trims() const { return trims_; }

 private:
  std::chrono::milliseconds settle_;
  Trim trim_;
  bool had_calls_ = false;  // calls were up since the last trim
  std::uint64_t calls_started_ = 0;
  Clock::time_point idle_since_{};
  bool idle_ = false;
  std::uint64_t trims_ = 0;
};

// Bytes the heap has handed out and not had back (glibc mallinfo2: arenas plus mmapped blocks); 0
// where unknown. What the process really holds, unlike its RSS, which includes free pages a
// fragmented heap cannot return.
std::uint64_t heap_in_use_bytes();

}  // namespace chorus
