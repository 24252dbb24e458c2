// ChainThread (mixer/gst/chain_thread.hpp): jobs run in order on a thread of their own, at a lower
// priority, a full queue refuses (and run_on_chain_thread then runs the job in place), and the
// destructor runs what was queued.
#include "mixer/gst/chain_thread.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/unit/mixer/held_chain_thread.hpp"

namespace chorus::mixer::gst {
namespace chain_thread_test {

using testing::HeldChainThread;

TEST(ChainThreadTest, RunsJobsInOrderOffTheCallersThreadAtALowerPriority) {
  ChainThread chain;
  std::mutex mutex;
  std::vector<int> order;
  std::thread::id ran_on;
  int nice_seen = -100;
  for (int i = 0; i < 50; ++i) {
    ChainThread::Job job = [&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
      ran_on = std::this_thread::get_id();
      errno = 0;
      nice_seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    };
    ASSERT_TRUE(chain.submit(job));
  }
  chain.wait_idle();
  std::lock_guard lock(mutex);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(nice_seen, kChainThreadNice);
  EXPECT_EQ(chain.pending(), 0u);
}

TEST(ChainThreadTest, AFullQueueRefusesAndTheJobRunsInPlace) {
  ChainThread chain;
  HeldChainThread gate(chain);
  std::atomic<int> queued_ran{0};
  for (std::size_t i = 0; i < ChainThread::kMaxQueuedJobs; ++i) {
    ChainThread::Job job = [&] { ++queued_ran; };
    ASSERT_TRUE(chain.submit(job)) << "job " << i;
  }
  bool refused_ran = false;
  ChainThread::Job refused = [&] { refused_ran = true; };
  EXPECT_FALSE(chain.submit(refused));
  EXPECT_TRUE(refused) << "a refused job is left to its caller";
  std::thread::id ran_on;
  run_on_chain_thread(chain, [&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id()) << "the queue is full: it ran here, now";
  gate.release();
  chain.wait_idle();
  EXPECT_EQ(queued_ran.load(), static_cast<int>(ChainThread::kMaxQueuedJobs));
  EXPECT_FALSE(refused_ran);
}

TEST(ChainThreadTest, TheDestructorRunsWhatWasQueued) {
  std::atomic<int> ran{0};
  {
    ChainThread chain;
    HeldChainThread gate(chain);
    for (int i = 0; i < 10; ++i) run_on_chain_thread(chain, [&] { ++ran; });
    gate.release();
  }
  EXPECT_EQ(ran.load(), 10);
}

TEST(ChainThreadTest, AThrowingJobIsLoggedAndTheThreadGoesOn) {
  ChainThread chain;
  run_on_chain_thread(chain, [] { throw std::runtime_error("no such element"); });
  std::atomic<bool> later_ran{false};
  run_on_chain_thread(chain, [&] { later_ran = true; });
  chain.wait_idle();
  EXPECT_TRUE(later_ran.load());
}

}  // namespace chain_thread_test
}  // namespace chorus::mixer::gst
