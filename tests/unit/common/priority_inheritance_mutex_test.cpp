#include "common/priority_inheritance_mutex.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

namespace chorus {
namespace priority_inheritance_mutex_test {

TEST(PriorityInheritanceMutex, LocksExcludesAndUsesPriorityInheritance) {
  PriorityInheritanceMutex mutex;
  EXPECT_EQ(mutex.protocol(), PTHREAD_PRIO_INHERIT);
  {
    const std::lock_guard lock(mutex);
    bool other_got_it = true;
    std::thread([&] { other_got_it = mutex.try_lock(); }).join();
    EXPECT_FALSE(other_got_it);
  }
  ASSERT_TRUE(mutex.try_lock());
  mutex.unlock();
}

// The classic inversion, on one CPU under SCHED_FIFO: LOW holds the lock, MEDIUM spins, HIGH asks
// for the lock. Without inheritance LOW never runs while MEDIUM spins, so HIGH waits for MEDIUM's
// whole spin; with it LOW runs at HIGH's priority, unlocks, and HIGH is done while MEDIUM still
// spins. Needs two CPUs (this thread starts the others from the second) and the right to use
// SCHED_FIFO (root or CAP_SYS_NICE); skipped otherwise.
struct Inversion {
  PriorityInheritanceMutex mutex;
  std::atomic<bool> low_holds{false};
  std::atomic<bool> medium_spins{false};
  std::atomic<bool> high_done{false};
  std::atomic<bool> high_done_while_medium_spun{false};
};

constexpr auto kMediumSpinBound = std::chrono::seconds(3);  // a safety bound, not a timing assumption

void* low_thread(void* arg) {
  auto& state = *static_cast<Inversion*>(arg);
  state.mutex.lock();
  state.low_holds = true;
  while (!state.medium_spins) {
  }
  state.mutex.unlock();  // reached only when something lets LOW run again
  return nullptr;
}

void* medium_thread(void* arg) {
  auto& state = *static_cast<Inversion*>(arg);
  state.medium_spins = true;
  const auto until = std::chrono::steady_clock::now() + kMediumSpinBound;
  while (!state.high_done && std::chrono::steady_clock::now() < until) {
  }
  state.high_done_while_medium_spun = state.high_done.load();
  return nullptr;
}

void* high_thread(void* arg) {
  auto& state = *static_cast<Inversion*>(arg);
  state.mutex.lock();
  state.high_done = true;
  state.mutex.unlock();
  return nullptr;
}

// A thread that starts at SCHED_FIFO `priority` on `cpu`; nullopt when the system refuses.
std::optional<pthread_t> start_fifo_thread(int cpu, int priority, void* (*body)(void*), Inversion& state) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  sched_param param{};
  param.sched_priority = priority;
  pthread_attr_setaffinity_np(&attributes, sizeof cpus, &cpus);
  pthread_attr_setinheritsched(&attributes, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&attributes, SCHED_FIFO);
  pthread_attr_setschedparam(&attributes, &param);
  pthread_t thread{};
  const int error = pthread_create(&thread, &attributes, body, &state);
  pthread_attr_destroy(&attributes);
  if (error != 0) return std::nullopt;
  return thread;
}

// Waits (bounded) for a flag another thread sets; false when it never came.
bool await(const std::atomic<bool>& flag) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!flag && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  return flag;
}

TEST(PriorityInheritanceMutex, AHighPriorityWaiterLendsItsPriorityToTheHolder) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "needs two CPUs";
  int contested_cpu = -1;  // the last allowed CPU; this thread moves to another
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) contested_cpu = cpu;
  cpu_set_t others = allowed;
  CPU_CLR(contested_cpu, &others);
  ASSERT_EQ(sched_setaffinity(0, sizeof others, &others), 0);

  Inversion state;
  const auto low = start_fifo_thread(contested_cpu, 10, low_thread, state);
  if (!low) {
    sched_setaffinity(0, sizeof allowed, &allowed);
    GTEST_SKIP() << "SCHED_FIFO is not allowed here (needs root or CAP_SYS_NICE)";
  }
  ASSERT_TRUE(await(state.low_holds));
  const auto medium = start_fifo_thread(contested_cpu, 20, medium_thread, state);
  ASSERT_TRUE(medium.has_value());
  ASSERT_TRUE(await(state.medium_spins));
  const auto high = start_fifo_thread(contested_cpu, 30, high_thread, state);
  ASSERT_TRUE(high.has_value());
  pthread_join(*high, nullptr);
  pthread_join(*medium, nullptr);
  pthread_join(*low, nullptr);
  sched_setaffinity(0, sizeof allowed, &allowed);
  EXPECT_TRUE(state.high_done_while_medium_spun)
      << "HIGH got the lock only after MEDIUM stopped spinning: the holder was not boosted";
}

}  // namespace priority_inheritance_mutex_test
}  // namespace chorus
