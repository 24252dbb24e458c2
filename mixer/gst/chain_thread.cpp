#include "mixer/gst/chain_thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.hpp"

namespace chorus::mixer::gst {
namespace {

// Sets the calling thread's nice value (Linux keeps one per thread; setpriority(2), "BUGS").
// Raising it needs no privilege. False (errno set) when refused.
bool set_this_thread_nice(int nice) {
  return ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) == 0;
}

}  // namespace

ChainThread::ChainThread() : thread_([this] { run(); }) {}

ChainThread::~ChainThread() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.release();
  thread_.join();
}

ChainThread& ChainThread::shared() {
  static ChainThread instance;
  return instance;
}

bool ChainThread::submit(Job& job) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= kMaxQueuedJobs) return false;
    queue_.push_back(std::move(job));
  }
  work_.release();
  return true;
}

std::size_t ChainThread::pending() const {
  const std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

void ChainThread::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void ChainThread::run() {
  ::pthread_setname_np(::pthread_self(), "chorus-chains");
  if (!set_this_thread_nice(kChainThreadNice)) CHORUS_LOG(kWarn, "mixer", "cannot lower the chain thread's priority");
  for (;;) {
    work_.acquire();
    std::unique_lock lock(mutex_);
    if (queue_.empty()) return;  // stopping, and everything queued has run
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    try {
      job();
      job = nullptr;  // what the job owned goes here too, off the caller's thread
    } catch (const std::exception& error) {
      CHORUS_LOG(kError, "mixer", "chain job failed", {"error", error.what()});
    }
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

void run_on_chain_thread(ChainThread& chain, ChainThread::Job job) {
  if (!chain.submit(job)) job();
}

}  // namespace chorus::mixer::gst
