// HeldChainThread: holds a ChainThread inside a job until released (or destroyed), so a test can
// queue work behind it or check what a caller does while nothing is built. The job keeps its own
// copies of the futures: it never touches this object, which may be gone by the time the job wakes.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "mixer/gst/chain_thread.hpp"

namespace chorus::mixer::gst::testing {

class HeldChainThread {
 public:
  explicit HeldChainThread(ChainThread& chain) {
    std::promise<void> entered;
    auto entered_future = entered.get_future();
    ChainThread::Job hold = [entered = std::move(entered), release = release_future_]() mutable {
      entered.set_value();
      release.wait();
    };
    EXPECT_TRUE(chain.submit(hold));
    entered_future.wait();
  }
  HeldChainThread(const HeldChainThread&) = delete;
  HeldChainThread& operator=(const HeldChainThread&) = delete;
  ~HeldChainThread() { release(); }

  void release() {
    if (!released_.exchange(true)) release_.set_value();
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> release_future_ = release_.get_future().share();
  std::atomic<bool> released_{false};
};

}  // namespace chorus::mixer::gst::testing
