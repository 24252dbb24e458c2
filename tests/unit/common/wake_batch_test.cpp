// WakeBatch: wakes made inside a batch are kept, once per target, and made when the outermost batch
// on the thread closes; outside a batch, and on other threads, the caller wakes at once.
#include "common/wake_batch.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace chorus {
namespace wake_batch_test {

struct Target {
  int wakes = 0;
  std::vector<int>* order = nullptr;
  int id = 0;
};

void wake(void* target) {
  auto* woken = static_cast<Target*>(target);
  ++woken->wakes;
  if (woken->order != nullptr) woken->order->push_back(woken->id);
}

TEST(WakeBatchTest, OutsideABatchTheCallerWakesAtOnce) {
  Target target;
  EXPECT_FALSE(WakeBatch::defer(&target, &wake));
  EXPECT_EQ(target.wakes, 0) << "defer never wakes by itself";
}

TEST(WakeBatchTest, EachTargetIsWokenOnceWhenTheBatchCloses) {
  std::vector<int> order;
  Target first{.order = &order, .id = 1};
  Target second{.order = &order, .id = 2};
  {
    const WakeBatch batch;
    EXPECT_TRUE(WakeBatch::defer(&first, &wake));
    EXPECT_TRUE(WakeBatch::defer(&second, &wake));
    EXPECT_TRUE(WakeBatch::defer(&first, &wake));
    EXPECT_EQ(first.wakes + second.wakes, 0) << "kept until the batch closes";
  }
  EXPECT_EQ(first.wakes, 1);
  EXPECT_EQ(second.wakes, 1);
  EXPECT_EQ(order, (std::vector<int>{1, 2})) << "in the order first deferred";
  EXPECT_FALSE(WakeBatch::defer(&first, &wake)) << "closed: nothing is kept any more";
}

TEST(WakeBatchTest, NestedBatchesWakeWhenTheOutermostCloses) {
  Target target;
  {
    const WakeBatch outer;
    {
      const WakeBatch inner;
      EXPECT_TRUE(WakeBatch::defer(&target, &wake));
    }
    EXPECT_EQ(target.wakes, 0);
  }
  EXPECT_EQ(target.wakes, 1);
}

TEST(WakeBatchTest, ABatchCoversOnlyItsOwnThread) {
  Target target;
  const WakeBatch batch;
  bool deferred_elsewhere = true;
  std::thread other([&] { deferred_elsewhere = WakeBatch::defer(&target, &wake); });
  other.join();
  EXPECT_FALSE(deferred_elsewhere);
}

TEST(WakeBatchTest, PastItsCapacityTheCallerWakesAtOnce) {
  std::vector<Target> targets(WakeBatch::kMaxDeferred + 1);
  {
    const WakeBatch batch;
    for (std::size_t i = 0; i < WakeBatch::kMaxDeferred; ++i) EXPECT_TRUE(WakeBatch::defer(&targets[i], &wake));
    EXPECT_FALSE(WakeBatch::defer(&targets.back(), &wake));
  }
  for (std::size_t i = 0; i < WakeBatch::kMaxDeferred; ++i) EXPECT_EQ(targets[i].wakes, 1);
  EXPECT_EQ(targets.back().wakes, 0) << "its caller woke it";
}

}  // namespace wake_batch_test
}  // namespace chorus
