#include "common/timer_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace chorus {
namespace {

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

}  // namespace
}  // namespace chorus
