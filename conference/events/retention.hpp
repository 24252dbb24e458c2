// Retention (issue 12, "events are bounded"): what the server keeps about past events is bounded
// by count and by age, so a busy or attacked server does not grow its memory or its store without
// end. The EventLog bounds itself (capacity, max_age: event_log.hpp) as it publishes; a quiet log
// still ages, and the store's webhook delivery rows are pruned only here. A timer on the control
// loop calls prune() once a minute (server/rest_host.cpp).
// Threading: control loop (the store's owner). The counters may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "conference/events/event_log.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference {

struct RetentionLimits {
  std::size_t max_deliveries = 10'000;                                // webhook_deliveries_max
  std::chrono::seconds delivery_max_age{std::chrono::hours(24 * 7)};  // webhook_deliveries_max_age
};

struct Pruned {
  std::size_t events = 0;
  std::uint64_t deliveries = 0;
};

class RetentionPruner {
 public:
  // `events` and `store` outlive the pruner.
  RetentionPruner(EventLog& events, Store& store, RetentionLimits limits);

  // Drops events older than the log's max_age at `now`, and delivery rows older than
  // delivery_max_age or beyond the newest max_deliveries. A store failure is logged and prunes
  // nothing (the next call tries again).
  Pruned prune(std::chrono::system_clock::time_point now);

  // Rows pruned so far by prune() (the EventLog counts its own: EventLog::dropped()).
  [[nodiscard]] std::uint64_t deliveries_pruned() const { return deliveries_pruned_.load(std::memory_order_relaxed); }

 private:
  EventLog& events_;
  Store& store_;
  RetentionLimits limits_;
  std::atomic<std::uint64_t> deliveries_pruned_{0};
};

}  // namespace chorus::conference
