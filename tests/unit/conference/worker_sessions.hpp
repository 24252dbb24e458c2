// The media workers' session count once it is `expected`, or what it is after chorus::test::wait_until's
// bound: the workers add and drop sessions on their own thread, after the control loop asks, and under
// ASan beside another test shard that has taken over 2 s (a fixed 2 s poll failed in a clean-clone run).
#pragma once

#include <cstdint>

#include "media/worker/media_worker.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::conference::test_support {

inline std::uint64_t sessions_when(const media::MediaWorkerPool& workers, std::uint64_t expected) {
  (void)chorus::test::wait_until([&] { return workers.counters().sessions == expected; });
  return workers.counters().sessions;
}

}  // namespace chorus::conference::test_support
