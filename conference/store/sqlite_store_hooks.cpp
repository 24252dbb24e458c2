// API keys, webhooks and webhook deliveries of the SQLite store (sqlite_store.hpp).
#include <utility>

#include "conference/store/sqlite_codec.hpp"
#include "conference/store/sqlite_store.hpp"
#include "conference/store/store_rows.hpp"

namespace chorus::conference {
namespace {

using sqlite::collect;
using sqlite::fail;
using sqlite::Query;
using sqlite::single;

constexpr auto kReadApiKey = &rows::read_api_key<Query>;
constexpr auto kReadWebhook = &rows::read_webhook<Query>;
constexpr auto kReadDelivery = &rows::read_delivery<Query>;

constexpr std::string_view kSelectApiKey =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE id = ?1";
constexpr std::string_view kSelectApiKeyByHash =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE token_hash = ?1";
constexpr std::string_view kListApiKeys =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE id > ?1 ORDER BY id LIMIT ?2";
constexpr std::string_view kSelectWebhook =
    "SELECT id, url, event_types_json, secret, created_at_us FROM webhooks WHERE id = ?1";
constexpr std::string_view kListWebhooks =
    "SELECT id, url, event_types_json, secret, created_at_us FROM webhooks WHERE id > ?1 ORDER BY id LIMIT ?2";

}  // namespace

StoreResult<void> SqliteStore::create_api_key(const ApiKey& key) {
  if (auto text = rows::check_text(key, "create api key"); !text) return std::unexpected(std::move(text.error()));
  auto query =
      db_->query("INSERT INTO api_keys (id, name, scopes_json, token_hash, created_at_us) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!query) return fail(query.error(), "create api key");
  if (auto bound = rows::bind_api_key(*query, key); !bound) return std::unexpected(std::move(bound.error()));
  if (auto done = query->run(); !done) return fail(done.error(), "create api key");
  return {};
}

StoreResult<ApiKey> SqliteStore::get_api_key(std::string_view id) {
  auto query = db_->query(kSelectApiKey);
  if (!query) return fail(query.error(), "get api key");
  query->bind(1, id);
  return single<ApiKey>(*query, kReadApiKey, "get api key");
}

StoreResult<ApiKey> SqliteStore::find_api_key_by_token_hash(std::string_view token_hash) {
  auto query = db_->query(kSelectApiKeyByHash);
  if (!query) return fail(query.error(), "find api key");
  query->bind(1, token_hash);
  return single<ApiKey>(*query, kReadApiKey, "find api key");
}

StoreResult<std::vector<ApiKey>> SqliteStore::list_api_keys(std::string_view after_id, std::size_t limit) {
  auto query = db_->query(kListApiKeys);
  if (!query) return fail(query.error(), "list api keys");
  query->bind(1, after_id).bind(2, codec::to_limit(limit));
  return collect<ApiKey>(*query, kReadApiKey, "list api keys");
}

StoreResult<void> SqliteStore::delete_api_key(std::string_view id) {
  return delete_by_id("DELETE FROM api_keys WHERE id = ?1", id, "delete api key");
}

StoreResult<void> SqliteStore::create_webhook(const Webhook& webhook) {
  if (auto text = rows::check_text(webhook, "create webhook"); !text) return std::unexpected(std::move(text.error()));
  auto query =
      db_->query("INSERT INTO webhooks (id, url, event_types_json, secret, created_at_us) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!query) return fail(query.error(), "create webhook");
  if (auto bound = rows::bind_webhook(*query, webhook); !bound) return std::unexpected(std::move(bound.error()));
  if (auto done = query->run(); !done) return fail(done.error(), "create webhook");
  return {};
}

StoreResult<Webhook> SqliteStore::get_webhook(std::string_view id) {
  auto query = db_->query(kSelectWebhook);
  if (!query) return fail(query.error(), "get webhook");
  query->bind(1, id);
  return single<Webhook>(*query, kReadWebhook, "get webhook");
}

StoreResult<std::vector<Webhook>> SqliteStore::list_webhooks(std::string_view after_id, std::size_t limit) {
  auto query = db_->query(kListWebhooks);
  if (!query) return fail(query.error(), "list webhooks");
  query->bind(1, after_id).bind(2, codec::to_limit(limit));
  return collect<Webhook>(*query, kReadWebhook, "list webhooks");
}

StoreResult<void> SqliteStore::delete_webhook(std::string_view id) {
  // ON DELETE CASCADE removes the webhook's deliveries.
  return delete_by_id("DELETE FROM webhooks WHERE id = ?1", id, "delete webhook");
}

StoreResult<std::int64_t> SqliteStore::add_delivery(const WebhookDelivery& delivery) {
  if (auto text = rows::check_text(delivery, "add delivery"); !text) return std::unexpected(std::move(text.error()));
  auto query = db_->query(
      "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status, http_status, error, at_us)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!query) return fail(query.error(), "add delivery");
  query->bind(1, delivery.webhook_id);
  rows::bind_delivery_fields(*query, delivery);
  if (auto done = query->run(); !done) {
    auto error = sqlite::to_store_error(done.error(), "add delivery");
    if (error.kind == StoreErrorKind::kNotFound)
      error.message = "add delivery: no webhook '" + delivery.webhook_id + "'";
    return std::unexpected(std::move(error));
  }
  return db_->last_insert_rowid();
}

StoreResult<void> SqliteStore::update_delivery(const WebhookDelivery& delivery) {
  if (auto text = rows::check_text(delivery, "update delivery"); !text) return std::unexpected(std::move(text.error()));
  auto query = db_->query(
      "UPDATE webhook_deliveries SET event_id = ?2, attempt = ?3, status = ?4, http_status = ?5, error = ?6,"
      " at_us = ?7 WHERE id = ?1");
  if (!query) return fail(query.error(), "update delivery");
  query->bind(1, delivery.id);
  rows::bind_delivery_fields(*query, delivery);
  if (auto done = query->run(); !done) return fail(done.error(), "update delivery");
  if (db_->changes() == 0) {
    return std::unexpected(
        StoreError{StoreErrorKind::kNotFound, "update delivery: no delivery " + std::to_string(delivery.id)});
  }
  return {};
}

StoreResult<std::vector<WebhookDelivery>> SqliteStore::list_deliveries(std::string_view webhook_id,
                                                                       std::int64_t after_id, std::size_t limit) {
  auto query = db_->query(
      "SELECT id, webhook_id, event_id, attempt, status, http_status, error, at_us FROM webhook_deliveries"
      " WHERE webhook_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
  if (!query) return fail(query.error(), "list deliveries");
  query->bind(1, webhook_id).bind(2, after_id).bind(3, codec::to_limit(limit));
  return collect<WebhookDelivery>(*query, kReadDelivery, "list deliveries");
}

StoreResult<std::uint64_t> SqliteStore::prune_deliveries(std::size_t keep,
                                                         std::chrono::system_clock::time_point older_than) {
  std::uint64_t pruned = 0;
  auto aged = db_->query("DELETE FROM webhook_deliveries WHERE at_us < ?1");
  if (!aged) return fail(aged.error(), "prune deliveries");
  aged->bind(1, codec::to_micros(older_than));
  if (auto done = aged->run(); !done) return fail(done.error(), "prune deliveries");
  pruned += static_cast<std::uint64_t>(db_->changes());
  // Ids only grow (AUTOINCREMENT): the newest `keep` rows are the ones with the highest ids.
  auto counted = db_->query(
      "DELETE FROM webhook_deliveries WHERE id <= (SELECT id FROM webhook_deliveries ORDER BY id DESC LIMIT 1 "
      "OFFSET ?1)");
  if (!counted) return fail(counted.error(), "prune deliveries");
  counted->bind(1, codec::to_limit(keep));
  if (auto done = counted->run(); !done) return fail(done.error(), "prune deliveries");
  pruned += static_cast<std::uint64_t>(db_->changes());
  return pruned;
}

}  // namespace chorus::conference
