#include "conference/events/retention.hpp"

#include "common/log.hpp"

namespace chorus::conference {

RetentionPruner::RetentionPruner(EventLog& events, Store& store, RetentionLimits limits)
    : events_(events), store_(store), limits_(limits) {}

Pruned RetentionPruner::prune(std::chrono::system_clock::time_point now) {
  Pruned pruned;
  pruned.events = events_.prune(now);
  auto rows = store_.prune_deliveries(limits_.max_deliveries, now - limits_.delivery_max_age);
  if (!rows) {
    CHORUS_LOG(kWarn, "events", "could not prune webhook deliveries", {"error", rows.error().message});
  } else {
    pruned.deliveries = *rows;
    deliveries_pruned_.fetch_add(*rows, std::memory_order_relaxed);
  }
  if (pruned.events != 0 || pruned.deliveries != 0)
    CHORUS_LOG(kInfo, "events", "pruned", {"events", pruned.events}, {"deliveries", pruned.deliveries});
  return pruned;
}

}  // namespace chorus::conference
