#include "common/timer_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

namespace chorus {
namespace timer_queue_test {

using namespace std::chrono_literals;

TEST(ManualTimerQueue, FiresTimersInDeadlineOrderAtTheirOwnTime) {
  ManualTimerQueue timers;
  const TimePoint start = timers.now();
  std::vector<std::pair<int, Millis>> fired;
  timers.schedule(300ms, [&] { fired.emplace_back(3, std::chrono::duration_cast<Millis>(timers.now() - start)); });
  timers.schedule(100ms, [&] { fired.emplace_back(1, std::chrono::duration_cast<Millis>(timers.now() - start)); });
  timers.schedule(200ms, [&] { fired.emplace_back(2, std::chrono::duration_cast<Millis>(timers.now() - start)); });
  timers.advance(250ms);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(1, Millis(100)));
  EXPECT_EQ(fired[1], std::make_pair(2, Millis(200)));
  timers.advance(50ms);
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[2], std::make_pair(3, Millis(300)));
}

TEST(ManualTimerQueue, CancelledTimerNeverFires) {
  ManualTimerQueue timers;
  bool fired = false;
  auto id = timers.schedule(10ms, [&] { fired = true; });
  EXPECT_EQ(timers.pending(), 1u);
  timers.cancel(id);
  timers.advance(1s);
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(ManualTimerQueue, TimerScheduledFromCallbackFiresWithinSameAdvance) {
  ManualTimerQueue timers;
  int count = 0;
  std::function<void()> again = [&] {
    if (++count < 4) timers.schedule(100ms, again);
  };
  timers.schedule(100ms, again);
  timers.advance(1s);
  EXPECT_EQ(count, 4);
}

}  // namespace timer_queue_test
}  // namespace chorus

namespace chorus {
namespace timer_queue_test {

TEST(ManualTimerQueue, ManyCancelledTimersLeaveTheLiveOnesFiringInOrder) {
  // Cancelling most timers compacts the heap; the survivors must still fire, each exactly once,
  // in deadline order.
  ManualTimerQueue timers;
  std::vector<int> fired;
  std::vector<TimerQueue::TimerId> ids;
  for (int i = 0; i < 10000; ++i)
    ids.push_back(timers.schedule(Millis(10 + i % 997), [&fired, i] { fired.push_back(i); }));
  for (int i = 0; i < 10000; ++i)
    if (i % 10 != 0) timers.cancel(ids[i]);
  EXPECT_EQ(timers.pending(), 1000u);
  timers.advance(Millis(2000));
  ASSERT_EQ(fired.size(), 1000u);
  for (std::size_t k = 1; k < fired.size(); ++k) {
    const int a = fired[k - 1], b = fired[k];
    EXPECT_LE(10 + a % 997, 10 + b % 997);
  }
  for (int i : fired) EXPECT_EQ(i % 10, 0);
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace timer_queue_test
}  // namespace chorus

namespace chorus {
namespace timer_queue_test {

// Slots are reused once a timer is over; an id that outlived its timer must never reach the timer
// that took its slot.
TEST(ManualTimerQueue, AnIdThatOutlivedItsTimerCancelsNothing) {
  ManualTimerQueue timers;
  int first = 0;
  int second = 0;
  const auto fired_id = timers.schedule(10ms, [&] { ++first; });
  timers.advance(20ms);
  const auto cancelled_id = timers.schedule(10ms, [] {});
  timers.cancel(cancelled_id);
  const auto reused_id = timers.schedule(10ms, [&] { ++second; });  // in one of the slots above
  timers.cancel(fired_id);                                          // stale: no-ops
  timers.cancel(cancelled_id);
  timers.cancel(TimerQueue::kNoTimer);
  timers.cancel(~TimerQueue::TimerId{0});
  EXPECT_EQ(timers.pending(), 1U);
  timers.advance(20ms);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  const std::set<TimerQueue::TimerId> ids{fired_id, cancelled_id, reused_id};
  EXPECT_EQ(ids.size(), 3U) << "every id is new";
  EXPECT_FALSE(ids.contains(TimerQueue::kNoTimer));
}

TEST(ManualTimerQueue, EqualDeadlinesFireInSchedulingOrder) {
  ManualTimerQueue timers;
  std::vector<int> fired;
  std::vector<TimerQueue::TimerId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(timers.schedule(5ms, [&fired, i] { fired.push_back(i); }));
  for (int i = 0; i < 50; i += 7) timers.cancel(ids[static_cast<std::size_t>(i)]);
  for (int i = 50; i < 60; ++i) timers.schedule(5ms, [&fired, i] { fired.push_back(i); });  // reuse those slots
  timers.advance(5ms);
  std::vector<int> expected;
  for (int i = 0; i < 60; ++i)
    if (i >= 50 || i % 7 != 0) expected.push_back(i);
  EXPECT_EQ(fired, expected);
}

TEST(ManualTimerQueue, ACancelledTimersCapturesAreReleasedAtOnce) {
  ManualTimerQueue timers;
  auto held = std::make_shared<int>(7);
  const std::weak_ptr<int> watch = held;
  const auto id = timers.schedule(1s, [held = std::move(held)] { (void)held; });
  ASSERT_FALSE(watch.expired());
  timers.cancel(id);
  EXPECT_TRUE(watch.expired()) << "not kept until the deadline";
}

}  // namespace timer_queue_test
}  // namespace chorus
