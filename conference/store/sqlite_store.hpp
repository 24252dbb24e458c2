// The Store on SQLite: one file, one connection, used only on the control loop (store.hpp).
// Durability (DESIGN §2: a change is on disk before its REST 2xx): WAL journal with
// synchronous=FULL, so every commit is fsynced to the log before the call returns
// (https://sqlite.org/pragma.html#pragma_synchronous). Foreign keys are enforced, so deleting a
// room deletes its meetings and deleting a webhook its deliveries. The schema is migrated on
// open (sqlite_schema.hpp). Every statement is prepared once and reused.
#pragma once

#include <memory>
#include <string>

#include "conference/store/sqlite_connection.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference {

class SqliteStore final : public Store {
 public:
  // How long a statement waits for a lock another process holds (a backup, the sqlite3 shell)
  // before failing with kIo.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` and migrates it. Fails with a message — never a
  // crash — when the file is no SQLite database, is corrupt, cannot be written, or comes from a
  // newer schema.
  static std::expected<std::unique_ptr<SqliteStore>, std::string> open(const std::string& path);

  // The schema version after migration (sqlite_schema.cpp's last migration).
  [[nodiscard]] int schema_version() const { return schema_version_; }

  // One BEGIN IMMEDIATE … COMMIT around the group; each write's own transaction is a savepoint in it.
  std::unique_ptr<WriteGroup> begin_write_group() override;

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
  SqliteStore(std::unique_ptr<sqlite::Connection> db, int schema_version)
      : db_(std::move(db)), schema_version_(schema_version) {}

  // Runs a DELETE by id; kNotFound when it removed nothing.
  StoreResult<void> delete_by_id(std::string_view sql, std::string_view id, std::string_view what);
  // kConflict when the room's id or number equals another room's id or number.
  StoreResult<void> check_room_dial_strings(const Room& room, bool is_update);
  // kNotFound when the record is missing, kVersionMismatch when its version is not `expected`.
  StoreResult<void> check_version(std::string_view select_version_sql, std::string_view id, std::uint64_t expected,
                                  std::string_view what);

  std::unique_ptr<sqlite::Connection> db_;
  int schema_version_;
};

}  // namespace chorus::conference
