// MediaWorker's inbox (post, run_and_wait): what other threads post runs on the worker, each
// poster's jobs in the order it posted them, none lost, also when the worker posts to itself.
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "common/wake_batch.hpp"
#include "media/worker/media_worker.hpp"

namespace chorus::media {
namespace media_worker_inbox_test {

TEST(MediaWorkerInboxTest, EachPostersJobsRunInOrderAndNoneIsLost) {
  constexpr int kPosters = 4;
  constexpr int kJobsEach = 5000;
  MediaWorker worker(0, nullptr);
  std::vector<std::vector<int>> seen(kPosters);  // written on the worker only
  std::vector<std::thread> posters;
  for (int poster = 0; poster < kPosters; ++poster)
    posters.emplace_back([&, poster] {
      for (int job = 0; job < kJobsEach; ++job) worker.post([&seen, poster, job] { seen[poster].push_back(job); });
    });
  for (auto& poster : posters) poster.join();
  const auto result = worker.run_and_wait([&] { return seen; });  // after every job posted before it
  for (int poster = 0; poster < kPosters; ++poster) {
    ASSERT_EQ(result[poster].size(), static_cast<std::size_t>(kJobsEach)) << "poster " << poster;
    for (int job = 0; job < kJobsEach; ++job) ASSERT_EQ(result[poster][job], job) << "poster " << poster;
  }
}

TEST(MediaWorkerInboxTest, AJobTheWorkerPostsToItselfRunsAfterTheCurrentOnes) {
  MediaWorker worker(0, nullptr);
  std::vector<int> order;
  std::promise<void> done;
  // Jobs 1 and 2 are both queued before the worker may take either: otherwise it can run 1, and 3
  // with it, before this thread has posted 2 (a race the test lost once on a loaded machine).
  std::promise<void> both_posted;
  worker.post([gate = both_posted.get_future()]() mutable { gate.wait(); });
  worker.post([&] {
    order.push_back(1);
    worker.post([&] {
      order.push_back(3);
      done.set_value();
    });
  });
  worker.post([&] { order.push_back(2); });
  both_posted.set_value();
  done.get_future().wait();
  EXPECT_EQ(worker.run_and_wait([&] { return order; }), (std::vector<int>{1, 2, 3}));
}

TEST(MediaWorkerInboxTest, WhatWasPostedBeforeTheDestructorRuns) {
  int ran = 0;
  {
    MediaWorker worker(0, nullptr);
    for (int i = 0; i < 100; ++i) worker.post([&ran] { ++ran; });
  }
  EXPECT_EQ(ran, 100);
}

TEST(MediaWorkerInboxTest, JobsPostedInABatchRunWhenItClosesAndRunAndWaitDoesNotWaitForIt) {
  MediaWorker worker(0, nullptr);
  std::vector<int> order;  // written on the worker only
  std::promise<void> ran;
  {
    const WakeBatch batch;  // as the control loop holds one around a burst of SIP datagrams
    worker.post([&] { order.push_back(1); });
    // Waiting for the worker inside the batch must not wait for the batch's kept wake: it would never come.
    EXPECT_EQ(worker.run_and_wait([&] { return order; }), (std::vector<int>{1}));
    worker.post([&] {
      order.push_back(2);
      ran.set_value();
    });
  }
  ran.get_future().wait();  // woken when the batch closed
  EXPECT_EQ(worker.run_and_wait([&] { return order; }), (std::vector<int>{1, 2}));
}

}  // namespace media_worker_inbox_test
}  // namespace chorus::media
