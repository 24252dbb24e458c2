#include "common/idle_memory_return.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <utility>

namespace chorus {
namespace {

void trim_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);  // every arena's free pages back to the system (glibc ≥ 2.8)
#endif
}

}  // namespace

IdleMemoryReturn::IdleMemoryReturn(std::chrono::milliseconds settle, Trim trim)
    : settle_(settle), trim_(trim ? std::move(trim) : Trim(trim_heap)) {}

void IdleMemoryReturn::observe(std::uint64_t in_flight, std::uint64_t calls_started, Clock::time_point now) {
  const bool new_calls = calls_started != calls_started_;
  calls_started_ = calls_started;
  if (in_flight > 0 || new_calls) {
    had_calls_ = true;
    idle_ = false;
    return;
  }
  if (!had_calls_) return;
  if (!idle_) {
    idle_ = true;
    idle_since_ = now;
  }
  if (now - idle_since_ < settle_) return;
  trim_();
  ++trims_;
  had_calls_ = idle_ = false;
}

std::uint64_t heap_in_use_bytes() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
#else
  return 0;
#endif
}

}  // namespace chorus
