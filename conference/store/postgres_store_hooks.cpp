// API keys, webhooks and webhook deliveries of the PostgreSQL store (postgres_store.hpp).
#include <utility>

#include "conference/store/postgres_codec.hpp"
#include "conference/store/postgres_store.hpp"
#include "conference/store/store_rows.hpp"

namespace chorus::conference {
namespace {

using pg::PgParams;
using pg::PgRow;

constexpr auto kReadApiKey = &rows::read_api_key<PgRow>;
constexpr auto kReadWebhook = &rows::read_webhook<PgRow>;
constexpr auto kReadDelivery = &rows::read_delivery<PgRow>;

constexpr const char* kSelectApiKey =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE id = $1";
constexpr const char* kSelectApiKeyByHash =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE token_hash = $1";
constexpr const char* kListApiKeys =
    "SELECT id, name, scopes_json, token_hash, created_at_us FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2";
constexpr const char* kSelectWebhook =
    "SELECT id, url, event_types_json, secret, created_at_us FROM webhooks WHERE id = $1";
constexpr const char* kListWebhooks =
    "SELECT id, url, event_types_json, secret, created_at_us FROM webhooks WHERE id > $1 ORDER BY id LIMIT $2";

}  // namespace

StoreResult<void> PostgresStore::create_api_key(const ApiKey& key) {
  if (auto text = rows::check_text(key, "create api key"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_api_key(params, key); !bound) return std::unexpected(std::move(bound.error()));
  auto done = run("INSERT INTO api_keys (id, name, scopes_json, token_hash, created_at_us) VALUES ($1, $2, $3, $4, $5)",
                  params, "create api key");
  if (!done) return std::unexpected(std::move(done.error()));
  return {};
}

StoreResult<ApiKey> PostgresStore::get_api_key(std::string_view id) {
  PgParams params;
  params.bind(1, id);
  auto found = run(kSelectApiKey, params, "get api key");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadApiKey, "get api key");
}

StoreResult<ApiKey> PostgresStore::find_api_key_by_token_hash(std::string_view token_hash) {
  PgParams params;
  params.bind(1, token_hash);
  auto found = run(kSelectApiKeyByHash, params, "find api key");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadApiKey, "find api key");
}

StoreResult<std::vector<ApiKey>> PostgresStore::list_api_keys(std::string_view after_id, std::size_t limit) {
  PgParams params;
  params.bind(1, after_id).bind(2, codec::to_limit(limit));
  auto found = run(kListApiKeys, params, "list api keys");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadApiKey);
}

StoreResult<void> PostgresStore::delete_api_key(std::string_view id) {
  return delete_by_id("DELETE FROM api_keys WHERE id = $1", id, "delete api key");
}

StoreResult<void> PostgresStore::create_webhook(const Webhook& webhook) {
  if (auto text = rows::check_text(webhook, "create webhook"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_webhook(params, webhook); !bound) return std::unexpected(std::move(bound.error()));
  auto done = run("INSERT INTO webhooks (id, url, event_types_json, secret, created_at_us) VALUES ($1, $2, $3, $4, $5)",
                  params, "create webhook");
  if (!done) return std::unexpected(std::move(done.error()));
  return {};
}

StoreResult<Webhook> PostgresStore::get_webhook(std::string_view id) {
  PgParams params;
  params.bind(1, id);
  auto found = run(kSelectWebhook, params, "get webhook");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadWebhook, "get webhook");
}

StoreResult<std::vector<Webhook>> PostgresStore::list_webhooks(std::string_view after_id, std::size_t limit) {
  PgParams params;
  params.bind(1, after_id).bind(2, codec::to_limit(limit));
  auto found = run(kListWebhooks, params, "list webhooks");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadWebhook);
}

StoreResult<void> PostgresStore::delete_webhook(std::string_view id) {
  // ON DELETE CASCADE removes the webhook's deliveries.
  return delete_by_id("DELETE FROM webhooks WHERE id = $1", id, "delete webhook");
}

StoreResult<std::int64_t> PostgresStore::add_delivery(const WebhookDelivery& delivery) {
  if (auto text = rows::check_text(delivery, "add delivery"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  params.bind(1, delivery.webhook_id);
  rows::bind_delivery_fields(params, delivery);
  auto added = db_->exec(
      "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status, http_status, error, at_us)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      params);
  if (!added) {
    auto error = pg::to_store_error(added.error(), "add delivery");
    if (error.kind == StoreErrorKind::kNotFound)
      error.message = "add delivery: no webhook '" + delivery.webhook_id + "'";
    return std::unexpected(std::move(error));
  }
  if (added->size() != 1) return std::unexpected(codec::io_error("add delivery", "no id returned"));
  return (*added)[0].int64(0);
}

StoreResult<void> PostgresStore::update_delivery(const WebhookDelivery& delivery) {
  if (auto text = rows::check_text(delivery, "update delivery"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  params.bind(1, delivery.id);
  rows::bind_delivery_fields(params, delivery);
  auto done =
      run("UPDATE webhook_deliveries SET event_id = $2, attempt = $3, status = $4, http_status = $5, error = $6,"
          " at_us = $7 WHERE id = $1",
          params, "update delivery");
  if (!done) return std::unexpected(std::move(done.error()));
  if (done->affected() == 0) {
    return std::unexpected(
        StoreError{StoreErrorKind::kNotFound, "update delivery: no delivery " + std::to_string(delivery.id)});
  }
  return {};
}

StoreResult<std::vector<WebhookDelivery>> PostgresStore::list_deliveries(std::string_view webhook_id,
                                                                         std::int64_t after_id, std::size_t limit) {
  PgParams params;
  params.bind(1, webhook_id).bind(2, after_id).bind(3, codec::to_limit(limit));
  auto found =
      run("SELECT id, webhook_id, event_id, attempt, status, http_status, error, at_us FROM webhook_deliveries"
          " WHERE webhook_id = $1 AND id > $2 ORDER BY id LIMIT $3",
          params, "list deliveries");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadDelivery);
}

StoreResult<std::uint64_t> PostgresStore::prune_deliveries(std::size_t keep,
                                                           std::chrono::system_clock::time_point older_than) {
  PgParams aged;
  aged.bind(1, codec::to_micros(older_than));
  auto by_age = run("DELETE FROM webhook_deliveries WHERE at_us < $1", aged, "prune deliveries");
  if (!by_age) return std::unexpected(std::move(by_age.error()));
  // Ids only grow (an identity sequence): the newest `keep` rows are the ones with the highest ids.
  PgParams counted;
  counted.bind(1, codec::to_limit(keep));
  auto by_count =
      run("DELETE FROM webhook_deliveries WHERE id <= (SELECT id FROM webhook_deliveries ORDER BY id DESC LIMIT 1"
          " OFFSET $1)",
          counted, "prune deliveries");
  if (!by_count) return std::unexpected(std::move(by_count.error()));
  return static_cast<std::uint64_t>(by_age->affected() + by_count->affected());
}

}  // namespace chorus::conference
