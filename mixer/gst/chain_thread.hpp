// ChainThread: where GStreamer chains are built and torn down, so a media worker never waits on it.
//
// Building a member's decoder and encoder chains takes 1-8 ms (elements made, linked, their state
// changed, the jitter buffer's threads started), and tearing them down joins those threads. On the
// worker that runs the room's 20 ms tick, at 20 joins and 20 leaves a second, those stalls made
// whole ticks late (issue 12's soak). A room hands the work here and installs the result when the
// worker next runs (AudioRoom::attach/detach).
//
// One thread, first in first out: a chain is always torn down after it was built. The thread runs
// at a lower priority (nice +kChainThreadNice) than the workers: a late build only delays a
// member's first packets, a late tick is heard by everyone.
//
// submit() refuses a job when kMaxQueuedJobs are waiting (a flood of joins must not grow memory
// without bound); the caller then does the work itself. The destructor runs what is queued, then
// joins. shared() is the process's instance, started on first use and joined at exit.
//
// Submitting never waits on the chain thread: a worker (SCHED_RR) submits on every join and leave,
// and this thread, niced and often preempted, may be holding the queue's lock. The lock inherits
// priority (the holder runs at the worker's until it lets go) and the wake-up is a semaphore
// release, an atomic, where a condition variable's notify would take a plain internal mutex.
//
// Threading: submit from any thread; jobs run on the chain thread only.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <semaphore>
#include <thread>

#include "common/priority_inheritance_mutex.hpp"

namespace chorus::mixer::gst {

inline constexpr int kChainThreadNice = 5;

class ChainThread {
 public:
  using Job = std::move_only_function<void()>;
  static constexpr std::size_t kMaxQueuedJobs = 4096;

  ChainThread();
  ChainThread(const ChainThread&) = delete;
  ChainThread& operator=(const ChainThread&) = delete;
  ~ChainThread();

  static ChainThread& shared();

  // Queues `job` (moved from). False, `job` left as it was, when the queue is full or stopping.
  [[nodiscard]] bool submit(Job& job);
  // Jobs waiting or running.
  [[nodiscard]] std::size_t pending() const;
  // Blocks until no job is waiting or running (before gst_deinit, and in tests). Not from a job.
  void wait_idle();

 private:
  void run();

  mutable PriorityInheritanceMutex mutex_;
  std::counting_semaphore<> work_{0};  // released once per queued job and once to stop
  std::condition_variable_any idle_;   // wait_idle only: never on a worker's path
  std::deque<Job> queue_;              // under mutex_
  std::size_t running_ = 0;            // under mutex_
  bool stopping_ = false;              // under mutex_
  std::thread thread_;
};

// Runs `job` on `chain` or, when it refuses it, here and now.
void run_on_chain_thread(ChainThread& chain, ChainThread::Job job);

}  // namespace chorus::mixer::gst
