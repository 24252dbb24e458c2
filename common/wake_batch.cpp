#include "common/wake_batch.hpp"

#include <array>
#include <utility>

namespace chorus {

namespace {

struct DeferredWakes {
  int depth = 0;  // batches open on this thread
  std::size_t count = 0;
  std::array<std::pair<void*, WakeBatch::WakeFunction>, WakeBatch::kMaxDeferred> wakes{};
};

thread_local DeferredWakes deferred_wakes;

}  // namespace

WakeBatch::WakeBatch() {
  ++deferred_wakes.depth;
}

WakeBatch::~WakeBatch() {
  DeferredWakes& state = deferred_wakes;
  if (--state.depth > 0) return;
  // A wake may run code that defers again (it does not today): that goes to no batch and wakes at once.
  const std::size_t count = std::exchange(state.count, 0);
  for (std::size_t i = 0; i < count; ++i) state.wakes[i].second(state.wakes[i].first);
}

bool WakeBatch::defer(void* target, WakeFunction wake) {
  DeferredWakes& state = deferred_wakes;
  if (state.depth == 0) return false;
  for (std::size_t i = 0; i < state.count; ++i) {
    if (state.wakes[i].first == target) return true;  // already kept: one wake covers every job
  }
  if (state.count == state.wakes.size()) return false;
  state.wakes[state.count++] = {target, wake};
  return true;
}

}  // namespace chorus
