// Polls a condition another thread makes true. Tests assert on the outcome, never on timing: the
// limit is generous (ASan under `ctest -j` on two cores is many times slower than a release build)
// and only bounds the wait when the condition never comes.
#pragma once

#include <chrono>
#include <thread>

namespace chorus::test {

inline constexpr std::chrono::milliseconds kDefaultWaitLimit{20'000};

// True once `done()` is; false if it still is not after `limit`.
template <typename Done>
bool wait_until(Done&& done, std::chrono::milliseconds limit = kDefaultWaitLimit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace chorus::test
