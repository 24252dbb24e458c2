// WakeBatch: cross-thread wake-ups made while one thread handles a burst of input, made once at the
// burst's end (issue 13). The control loop handles a burst of SIP datagrams (UdpTransport reads up
// to 32 per readiness); each call in it hands its media worker a job (add or remove a session), and
// each hand-off used to write the worker's eventfd. On a shared core every write woke the worker,
// which preempted the control loop for one job: two context switches a job, a fifth of the control
// loop's time at 3,000 calls/s. Inside a WakeBatch the first job of each worker is queued as before
// but its wake is kept, once per worker, and made when the outermost batch on the thread closes.
//
// Use: open a batch (a local `const WakeBatch batch;`) only around work that never waits for a
// woken thread; a wake deferred past such a wait would deadlock it. The wake function and its
// argument must stay valid until the batch closes (a media worker lives as long as the server).
//
// Threading: per thread (thread_local state); a batch covers only wakes made on its own thread.
#pragma once

#include <cstddef>

namespace chorus {

class WakeBatch {
 public:
  using WakeFunction = void (*)(void* target);

  WakeBatch();
  ~WakeBatch();  // the outermost batch on this thread makes the kept wakes, each once, in order
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;

  // With a batch open on this thread: keeps `wake(target)` for its end (once per target) and returns
  // true. Without one: returns false, and the caller wakes the target itself, now.
  static bool defer(void* target, WakeFunction wake);

  // Targets kept at most; past it a wake is made at once (defer returns false).
  static constexpr std::size_t kMaxDeferred = 64;
};

}  // namespace chorus
