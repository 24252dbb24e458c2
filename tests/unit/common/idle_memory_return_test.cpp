// IdleMemoryReturn: the heap is trimmed once per idle period, only after the calls have been gone
// for the settle time, never while a call is up. A fake clock and a counting trim.
#include "common/idle_memory_return.hpp"

#include <gtest/gtest.h>

namespace chorus {
namespace idle_memory_return_test {

using namespace std::chrono_literals;

struct Fixture {
  int trimmed = 0;
  IdleMemoryReturn idle{5s, [this] { ++trimmed; }};
  IdleMemoryReturn::Clock::time_point now{std::chrono::hours(1)};
  std::uint64_t started = 0;
  // `calls` up now; a rise counts as that many new calls.
  void tick(std::uint64_t calls, std::chrono::milliseconds step = 1s) {
    if (calls > up) started += calls - up;
    up = calls;
    now += step;
    idle.observe(calls, started, now);
  }
  std::uint64_t up = 0;
};

TEST(IdleMemoryReturn, NeverTrimsAServerThatHadNoCalls) {
  Fixture f;
  for (int i = 0; i < 60; ++i) f.tick(0);
  EXPECT_EQ(f.trimmed, 0);
}

TEST(IdleMemoryReturn, TrimsOnceTheSettleTimeAfterTheLastCallEnded) {
  Fixture f;
  f.tick(1000);
  f.tick(0);  // idle from here
  for (int i = 0; i < 4; ++i) f.tick(0);
  EXPECT_EQ(f.trimmed, 0);  // 4 s: not yet
  f.tick(0);
  EXPECT_EQ(f.trimmed, 1);  // 5 s
  for (int i = 0; i < 60; ++i) f.tick(0);
  EXPECT_EQ(f.trimmed, 1);  // once per idle period
  EXPECT_EQ(f.idle.trims(), 1u);
}

TEST(IdleMemoryReturn, ACallDuringTheSettleTimeStartsItOver) {
  Fixture f;
  f.tick(3);
  f.tick(0);
  f.tick(0, 4s);
  f.tick(1);  // churn: a call came back before the trim
  f.tick(0);
  f.tick(0, 4s);
  EXPECT_EQ(f.trimmed, 0);
  f.tick(0, 1s);
  EXPECT_EQ(f.trimmed, 1);
}

TEST(IdleMemoryReturn, ACallThatCameAndWentBetweenTwoTicksCounts) {
  Fixture f;
  f.started = 1;  // a short call began and ended within one tick: never seen up
  f.tick(0);      // seen here, by its count
  f.tick(0);      // idle from here
  f.tick(0, 5s);
  EXPECT_EQ(f.trimmed, 1);
}

TEST(IdleMemoryReturn, NeverTrimsWhileACallIsUp) {
  Fixture f;
  for (int i = 0; i < 60; ++i) f.tick(1);
  EXPECT_EQ(f.trimmed, 0);
}

TEST(IdleMemoryReturn, TheNextBurstTrimsAgain) {
  Fixture f;
  f.tick(10);
  f.tick(0);
  f.tick(0, 5s);
  f.tick(10);
  f.tick(0);
  f.tick(0, 5s);
  EXPECT_EQ(f.trimmed, 2);
}

}  // namespace idle_memory_return_test
}  // namespace chorus
