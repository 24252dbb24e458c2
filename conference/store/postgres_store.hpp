// The Store on PostgreSQL (issue 14), for several chorusd nodes sharing one database; SQLite
// (sqlite_store.hpp) stays the embedded default. The same semantics as SqliteStore, method for
// method (store.hpp), over the same schema history (postgres_schema.hpp) and the same row mapping
// (store_rows.hpp), through libpq directly (postgres_connection.hpp): a Debian-maintained C
// library with no ORM between our SQL and the server.
//
// Durability: every write is its own transaction or one explicit one, committed before the call
// returns; the session keeps synchronous_commit on, so COMMIT answers after the WAL is flushed.
// Deleting a room deletes its meetings and deleting a webhook its deliveries (ON DELETE CASCADE).
// Several nodes: checks that must still hold at the write run in the write's transaction and lock
// what they read (the row's version FOR UPDATE; an advisory lock serialises room writes, whose
// id/number check spans rows), so two nodes never both pass a check only one may pass.
// Bounded and reconnecting as the connection is (postgres_connection.hpp): a lost server is kIo,
// never a hang, and the next call reconnects.
// Threading: the control loop only (store.hpp), one connection.
#pragma once

#include <memory>
#include <string>

#include "conference/store/postgres_connection.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference {

class PostgresStore final : public Store {
 public:
  // Connects and migrates. Fails with a message naming the server without its password — never
  // a crash — when it cannot connect or authenticate, or the schema comes from a newer build.
  static std::expected<std::unique_ptr<PostgresStore>, std::string> open(pg::PgSettings settings);

  // The schema version after migration (postgres_schema.cpp's last migration).
  [[nodiscard]] int schema_version() const { return schema_version_; }

  StoreResult<Room> create_room(const Room& room) override;
  StoreResult<Room> get_room(std::string_view id) override;
  StoreResult<std::vector<Room>> list_rooms(std::string_view after_id, std::size_t limit) override;
  StoreResult<std::uint64_t> update_room(const Room& room, std::uint64_t expected_version) override;
  StoreResult<void> delete_room(std::string_view id) override;

  StoreResult<MeetingRecord> create_meeting(const MeetingRecord& meeting) override;
  StoreResult<MeetingRecord> get_meeting(std::string_view id) override;
  StoreResult<std::vector<MeetingRecord>> list_meetings(std::string_view after_id, std::size_t limit,
                                                        std::optional<std::string_view> room_id) override;
  StoreResult<std::vector<MeetingRecord>> list_meetings_for_room(std::string_view room_id) override;
  StoreResult<std::uint64_t> update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) override;
  StoreResult<void> delete_meeting(std::string_view id) override;

  StoreResult<void> create_api_key(const ApiKey& key) override;
  StoreResult<ApiKey> get_api_key(std::string_view id) override;
  StoreResult<ApiKey> find_api_key_by_token_hash(std::string_view token_hash) override;
  StoreResult<std::vector<ApiKey>> list_api_keys(std::string_view after_id, std::size_t limit) override;
  StoreResult<void> delete_api_key(std::string_view id) override;

  StoreResult<void> create_webhook(const Webhook& webhook) override;
  StoreResult<Webhook> get_webhook(std::string_view id) override;
  StoreResult<std::vector<Webhook>> list_webhooks(std::string_view after_id, std::size_t limit) override;
  StoreResult<void> delete_webhook(std::string_view id) override;

  StoreResult<std::int64_t> add_delivery(const WebhookDelivery& delivery) override;
  StoreResult<void> update_delivery(const WebhookDelivery& delivery) override;
  StoreResult<std::vector<WebhookDelivery>> list_deliveries(std::string_view webhook_id, std::int64_t after_id,
                                                            std::size_t limit) override;
  StoreResult<std::uint64_t> prune_deliveries(std::size_t keep,
                                              std::chrono::system_clock::time_point older_than) override;

  StoreResult<Trunk> create_trunk(const Trunk& trunk) override;
  StoreResult<Trunk> get_trunk(std::string_view id) override;
  StoreResult<std::vector<Trunk>> list_trunks(std::string_view after_id, std::size_t limit) override;
  StoreResult<std::uint64_t> update_trunk(const Trunk& trunk, std::uint64_t expected_version) override;
  StoreResult<void> delete_trunk(std::string_view id) override;

 private:
  PostgresStore(std::unique_ptr<pg::PgConnection> db, int schema_version)
      : db_(std::move(db)), schema_version_(schema_version) {}

  // Runs one statement; a failure becomes a StoreError prefixed by `what`.
  StoreResult<pg::PgRows> run(const char* sql, const pg::PgParams& params, std::string_view what);
  // Runs a DELETE by id; kNotFound when it removed nothing.
  StoreResult<void> delete_by_id(const char* sql, std::string_view id, std::string_view what);
  // kConflict when the room's id or number equals another room's id or number.
  StoreResult<void> check_room_dial_strings(const Room& room, bool is_update);
  // Locks the record (FOR UPDATE); kNotFound when it is missing, kVersionMismatch when its version
  // is not `expected`.
  StoreResult<void> check_version(const char* select_version_sql, std::string_view id, std::uint64_t expected,
                                  std::string_view what);

  std::unique_ptr<pg::PgConnection> db_;
  int schema_version_;
};

}  // namespace chorus::conference
