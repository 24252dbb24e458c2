// RetentionPruner (issue 12): one call bounds the event log by age and the store's webhook delivery
// rows by age and count, driven by the time it is given, and counts what went.
#include "conference/events/retention.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/conference/store/store_test_support.hpp"

namespace chorus::conference::test {
namespace retention_test {

using RetentionPrunerTest = SqliteStoreTest;
using std::chrono::hours;

WebhookDelivery delivery_at(std::chrono::system_clock::time_point at, int n) {
  WebhookDelivery delivery;
  delivery.webhook_id = "w1";
  delivery.event_id = std::to_string(n);
  delivery.attempt = 1;
  delivery.at = at;
  return delivery;
}

TEST_F(RetentionPrunerTest, PrunesOldEventsAndDeliveriesByAgeAndCount) {
  ASSERT_TRUE(store()
                  .create_webhook(Webhook{.id = "w1",
                                          .url = "http://192.0.2.10/hook",
                                          .event_types = {"*"},
                                          .secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
                                          .created_at = sample_time()})
                  .has_value());
  EventLog events(100, 1, hours(24));
  for (int i = 0; i < 4; ++i) events.publish(event_type::kRoomUpdated, nlohmann::json{{"n", i}});
  const auto now = events.since(0, 10).events.back().at + hours(25);  // every event is a day old
  // Rows are added as events happen, oldest first.
  for (int i = 4; i >= 0; --i) ASSERT_TRUE(store().add_delivery(delivery_at(now - hours(10 * i), i)).has_value());

  RetentionPruner pruner(events, store(), RetentionLimits{.max_deliveries = 2, .delivery_max_age = hours(35)});
  const Pruned pruned = pruner.prune(now);
  EXPECT_EQ(pruned.events, 3u);  // the newest stays
  EXPECT_EQ(events.size(), 1u);
  // Ages 0, 10, 20, 30, 40 h: 40 h is too old, then the newest two of the rest stay.
  EXPECT_EQ(pruned.deliveries, 3u);
  EXPECT_EQ(pruner.deliveries_pruned(), 3u);
  auto left = store().list_deliveries("w1", 0, 10);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ(left->front().event_id, "1");
  EXPECT_EQ(left->back().event_id, "0");

  const Pruned again = pruner.prune(now);
  EXPECT_EQ(again.events, 0u);
  EXPECT_EQ(again.deliveries, 0u);
  EXPECT_EQ(pruner.deliveries_pruned(), 3u);
}

}  // namespace retention_test
}  // namespace chorus::conference::test
