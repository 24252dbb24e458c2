// PriorityInheritanceMutex: a mutex for state a real-time thread shares with ordinary ones.
//
// A media worker runs at SCHED_RR (--media-realtime-priority) and takes a few locks that the control
// loop, an ordinary thread, also takes (its inbox). With a plain std::mutex, a control loop preempted
// while it holds the lock — by anything of higher or equal priority, e.g. a REST thread or another
// process — leaves the worker blocked for as long as the control loop waits for a CPU: unbounded
// priority inversion (the Mars Pathfinder failure), and issue 12's late mixer ticks. With
// PTHREAD_PRIO_INHERIT (POSIX, futex-backed PI in Linux) the holder runs at the blocked worker's
// priority until it unlocks, so the worker waits only for the few instructions of the critical
// section.
//
// Satisfies Lockable: use it with std::lock_guard / std::unique_lock. Not recursive.
// Threading: any thread.
#pragma once

#include <pthread.h>

namespace chorus {

class PriorityInheritanceMutex {
 public:
  PriorityInheritanceMutex();
  ~PriorityInheritanceMutex();
  PriorityInheritanceMutex(const PriorityInheritanceMutex&) = delete;
  PriorityInheritanceMutex& operator=(const PriorityInheritanceMutex&) = delete;

  void lock();
  void unlock();
  [[nodiscard]] bool try_lock();

  // PTHREAD_PRIO_INHERIT when the system gave it (every Linux with futex PI), else PTHREAD_PRIO_NONE.
  [[nodiscard]] int protocol() const { return protocol_; }

 private:
  pthread_mutex_t mutex_{};
  int protocol_ = PTHREAD_PRIO_NONE;
};

}  // namespace chorus
