// MediaWorker::set_realtime_priority (--media-realtime-priority): the worker's own thread runs
// SCHED_RR at the priority asked, and a thread it starts does not inherit it (SCHED_RESET_ON_FORK).
#include <gtest/gtest.h>
#include <sched.h>

#include <cerrno>
#include <future>
#include <thread>

#include "media/worker/media_worker.hpp"

namespace chorus::media {
namespace media_worker_priority_test {

struct Scheduling {
  int policy = -1;
  int priority = -1;
};

Scheduling this_thread_scheduling() {
  sched_param param{};
  Scheduling seen;
  seen.policy = ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
  if (::sched_getparam(0, &param) == 0) seen.priority = param.sched_priority;
  return seen;
}

TEST(MediaWorkerPriorityTest, RealtimePriorityAppliesToTheWorkerThreadOnly) {
  MediaWorker worker(0, nullptr);
  const int error = worker.set_realtime_priority(10);
  if (error == EPERM) GTEST_SKIP() << "no CAP_SYS_NICE or RLIMIT_RTPRIO here";
  ASSERT_EQ(error, 0);
  std::promise<std::pair<Scheduling, Scheduling>> seen;
  worker.post([&] {
    const Scheduling own = this_thread_scheduling();
    Scheduling child;
    std::thread([&] { child = this_thread_scheduling(); }).join();
    seen.set_value({own, child});
  });
  const auto [own, child] = seen.get_future().get();
  EXPECT_EQ(own.policy, SCHED_RR);
  EXPECT_EQ(own.priority, 10);
  EXPECT_EQ(child.policy, SCHED_OTHER) << "a thread the worker starts must not inherit SCHED_RR";
  EXPECT_EQ(this_thread_scheduling().policy, SCHED_OTHER) << "only the worker's thread changes";
}

TEST(MediaWorkerPriorityTest, AnOutOfRangePriorityIsRefused) {
  MediaWorker worker(0, nullptr);
  EXPECT_EQ(worker.set_realtime_priority(100), EINVAL);
}

}  // namespace media_worker_priority_test
}  // namespace chorus::media
