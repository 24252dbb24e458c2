// PublishedCounter: a counter a module keeps — a relaxed atomic bumped on its own threads — and
// publishes under stable names, so the server can show it in /metrics and in the SIGUSR1 status
// line without the module knowing either (DESIGN §1: lower layers never include upper ones).
// Each module lists its counters in a `published()` function; the server reads them from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace chorus {

struct PublishedCounter {
  std::string_view metric;      // Prometheus name, e.g. "chorus_mixer_frames_total" (a counter: only grows)
  std::string_view help;        // its HELP text
  std::string_view status_key;  // the key in the status line, e.g. "mixer_frames"
  const std::atomic<std::uint64_t>* value = nullptr;
};

// One writer thread per counter in the common case; fetch_add keeps it right when several workers
// share a counter. Relaxed order: these are statistics, never used to synchronise.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

}  // namespace chorus
