#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace store_hooks_test {

ApiKey sample_key(const std::string& id, const std::string& hash) {
  return ApiKey{.id = id,
                .name = "key " + id,
                .scopes = {"rooms:read", "meetings:write"},
                .token_hash = hash,
                .created_at = sample_time()};
}

Webhook sample_webhook(const std::string& id) {
  return Webhook{.id = id,
                 .url = "https://hooks.example.com/" + id,
                 .event_types = {"participant.joined", "participant.left"},
                 .secret = "s3cret-" + id,
                 .created_at = sample_time()};
}

WebhookDelivery sample_delivery(const std::string& webhook_id, const std::string& event_id) {
  WebhookDelivery delivery;
  delivery.webhook_id = webhook_id;
  delivery.event_id = event_id;
  delivery.attempt = 1;
  delivery.at = sample_time();
  return delivery;
}

void expect_same(const ApiKey& actual, const ApiKey& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.scopes, expected.scopes);
  EXPECT_EQ(actual.token_hash, expected.token_hash);
  EXPECT_EQ(actual.created_at, expected.created_at);
}

void expect_same(const Webhook& actual, const Webhook& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.url, expected.url);
  EXPECT_EQ(actual.event_types, expected.event_types);
  EXPECT_EQ(actual.secret, expected.secret);
  EXPECT_EQ(actual.created_at, expected.created_at);
}

class StoreApiKeys : public StoreTest {};
class StoreWebhooks : public StoreTest {};

TEST_P(StoreApiKeys, CreateGetFindListDelete) {
  const ApiKey key = sample_key("k1", std::string(64, 'a'));
  ASSERT_TRUE(store().create_api_key(key).has_value());
  auto got = store().get_api_key("k1");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same(*got, key);
  auto found = store().find_api_key_by_token_hash(std::string(64, 'a'));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  expect_same(*found, key);
  EXPECT_EQ(error_kind(store().find_api_key_by_token_hash(std::string(64, 'b'))), StoreErrorKind::kNotFound);

  ASSERT_TRUE(store().delete_api_key("k1").has_value());
  EXPECT_EQ(error_kind(store().get_api_key("k1")), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().find_api_key_by_token_hash(std::string(64, 'a'))), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().delete_api_key("k1")), StoreErrorKind::kNotFound);
}

TEST_P(StoreApiKeys, IdAndTokenHashAreUnique) {
  ASSERT_TRUE(store().create_api_key(sample_key("k1", "h1")).has_value());
  EXPECT_EQ(error_kind(store().create_api_key(sample_key("k1", "h2"))), StoreErrorKind::kConflict);
  EXPECT_EQ(error_kind(store().create_api_key(sample_key("k2", "h1"))), StoreErrorKind::kConflict);
  auto all = store().list_api_keys("", 10);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().token_hash, "h1");
}

TEST_P(StoreApiKeys, ListPagesInIdOrder) {
  for (const char* id : {"k3", "k1", "k2"}) ASSERT_TRUE(store().create_api_key(sample_key(id, id)).has_value());
  auto page = store().list_api_keys("", 2);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "k1");
  EXPECT_EQ((*page)[1].id, "k2");
  page = store().list_api_keys("k2", 2);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "k3");
}

TEST_P(StoreWebhooks, CreateGetListDelete) {
  const Webhook hook = sample_webhook("w1");
  ASSERT_TRUE(store().create_webhook(hook).has_value());
  ASSERT_TRUE(store().create_webhook(sample_webhook("w0")).has_value());
  EXPECT_EQ(error_kind(store().create_webhook(sample_webhook("w1"))), StoreErrorKind::kConflict);
  auto got = store().get_webhook("w1");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same(*got, hook);

  auto page = store().list_webhooks("", 1);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().id, "w0");
  page = store().list_webhooks("w0", 5);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  expect_same(page->front(), hook);

  ASSERT_TRUE(store().delete_webhook("w1").has_value());
  EXPECT_EQ(error_kind(store().get_webhook("w1")), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().delete_webhook("w1")), StoreErrorKind::kNotFound);
}

TEST_P(StoreWebhooks, DeliveriesAreAddedUpdatedAndListedOldestFirst) {
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  ASSERT_TRUE(store().create_webhook(sample_webhook("w2")).has_value());
  std::vector<std::int64_t> added;
  for (const char* event : {"e1", "e2", "e3"}) {
    auto id = store().add_delivery(sample_delivery("w1", event));
    ASSERT_TRUE(id.has_value()) << id.error().message;
    added.push_back(*id);
  }
  ASSERT_TRUE(store().add_delivery(sample_delivery("w2", "e1")).has_value());
  EXPECT_LT(added[0], added[1]);
  EXPECT_LT(added[1], added[2]);

  WebhookDelivery done = sample_delivery("w1", "e2");
  done.id = added[1];
  done.attempt = 2;
  done.status = DeliveryStatus::kDelivered;
  done.http_status = 204;
  done.at = sample_time(1min);
  ASSERT_TRUE(store().update_delivery(done).has_value());
  WebhookDelivery failed = sample_delivery("w1", "e3");
  failed.id = added[2];
  failed.status = DeliveryStatus::kFailed;
  failed.error = "connection refused";
  ASSERT_TRUE(store().update_delivery(failed).has_value());

  auto page = store().list_deliveries("w1", 0, 2);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, added[0]);
  EXPECT_EQ((*page)[0].event_id, "e1");
  EXPECT_EQ((*page)[0].status, DeliveryStatus::kPending);
  EXPECT_EQ((*page)[0].http_status, std::nullopt);
  EXPECT_EQ((*page)[1].id, added[1]);
  EXPECT_EQ((*page)[1].webhook_id, "w1");
  EXPECT_EQ((*page)[1].attempt, 2u);
  EXPECT_EQ((*page)[1].status, DeliveryStatus::kDelivered);
  EXPECT_EQ((*page)[1].http_status, 204);
  EXPECT_EQ((*page)[1].at, sample_time(1min));
  page = store().list_deliveries("w1", added[1], 2);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ((*page)[0].error, "connection refused");
  EXPECT_EQ((*page)[0].http_status, std::nullopt);
}

TEST_P(StoreWebhooks, DeliveryFailures) {
  EXPECT_EQ(error_kind(store().add_delivery(sample_delivery("ghost", "e1"))), StoreErrorKind::kNotFound);
  WebhookDelivery unknown = sample_delivery("ghost", "e1");
  unknown.id = 12345;
  EXPECT_EQ(error_kind(store().update_delivery(unknown)), StoreErrorKind::kNotFound);
}

TEST_P(StoreWebhooks, TextWithNulIsRefusedEverywhere) {
  Webhook hook = sample_webhook("w1");
  hook.secret = std::string("se\0cret", 7);
  EXPECT_EQ(error_kind(store().create_webhook(hook)), StoreErrorKind::kIo);
  ApiKey key = sample_key("k1", "h1");
  key.name = std::string("n\0", 2);
  EXPECT_EQ(error_kind(store().create_api_key(key)), StoreErrorKind::kIo);
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  WebhookDelivery delivery = sample_delivery("w1", "e1");
  delivery.error = std::string("refused\0", 8);
  EXPECT_EQ(error_kind(store().add_delivery(delivery)), StoreErrorKind::kIo);
  auto page = store().list_deliveries("w1", 0, 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->empty());
  EXPECT_EQ(error_kind(store().get_api_key("k1")), StoreErrorKind::kNotFound);
}

TEST_P(StoreWebhooks, DeleteWebhookDeletesItsDeliveries) {
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  ASSERT_TRUE(store().add_delivery(sample_delivery("w1", "e1")).has_value());
  ASSERT_TRUE(store().delete_webhook("w1").has_value());
  // Recreated under the same id, it starts with no history.
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  auto page = store().list_deliveries("w1", 0, 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->empty());
}

TEST_P(StoreWebhooks, SurviveCloseAndReopen) {
  ASSERT_TRUE(store().create_api_key(sample_key("k1", "h1")).has_value());
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  auto delivery = store().add_delivery(sample_delivery("w1", "e1"));
  ASSERT_TRUE(delivery.has_value());
  reopen();
  auto key = store().find_api_key_by_token_hash("h1");
  ASSERT_TRUE(key.has_value());
  expect_same(*key, sample_key("k1", "h1"));
  auto hook = store().get_webhook("w1");
  ASSERT_TRUE(hook.has_value());
  expect_same(*hook, sample_webhook("w1"));
  auto page = store().list_deliveries("w1", 0, 10);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().id, *delivery);
  // Ids are never reused (SQLite AUTOINCREMENT, a PostgreSQL identity sequence), even across restarts.
  auto next = store().add_delivery(sample_delivery("w1", "e2"));
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, *delivery);
}

// Issue 12: delivery rows are bounded by age (their last attempt) and by count (the newest kept).
TEST_P(StoreWebhooks, PruneDeliveriesDropsTooOldThenBeyondTheNewest) {
  ASSERT_TRUE(store().create_webhook(sample_webhook("w1")).has_value());
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    WebhookDelivery delivery = sample_delivery("w1", "e" + std::to_string(i));
    delivery.at = sample_time() + std::chrono::hours(i);  // e0 oldest
    auto id = store().add_delivery(delivery);
    ASSERT_TRUE(id.has_value()) << id.error().message;
    ids.push_back(*id);
  }
  // Older than sample_time + 1 h: e0 goes (age); then only the newest 3 of the other 5 stay.
  auto pruned = store().prune_deliveries(3, sample_time() + std::chrono::minutes(30));
  ASSERT_TRUE(pruned.has_value()) << pruned.error().message;
  EXPECT_EQ(*pruned, 3U);
  auto left = store().list_deliveries("w1", 0, 100);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 3U);
  EXPECT_EQ(left->front().id, ids[3]);
  EXPECT_EQ(left->back().id, ids[5]);
  // Within both bounds: nothing more goes.
  auto again = store().prune_deliveries(3, sample_time());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0U);
}

TEST_P(StoreWebhooks, PruneDeliveriesOnAnEmptyTableIsZero) {
  auto pruned = store().prune_deliveries(10, sample_time());
  ASSERT_TRUE(pruned.has_value()) << pruned.error().message;
  EXPECT_EQ(*pruned, 0U);
}

INSTANTIATE_STORE_SUITE(StoreApiKeys);
INSTANTIATE_STORE_SUITE(StoreWebhooks);

}  // namespace store_hooks_test
}  // namespace chorus::conference::test
