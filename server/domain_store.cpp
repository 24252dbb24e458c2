#include "server/domain_store.hpp"

#include <chrono>
#include <system_error>

#include "common/log.hpp"
#include "conference/store/postgres_connection.hpp"
#include "conference/store/postgres_store.hpp"
#include "conference/store/sqlite_store.hpp"
#include "rest-api/api/json_codec.hpp"
#include "server/process_hardening.hpp"

namespace chorus::server {
namespace {

constexpr std::size_t kLoadPage = 200;

std::expected<void, std::string> seed_if_empty(conference::Store& store) {
  auto first = store.list_rooms("", 1);
  if (!first) return std::unexpected("store: " + first.error().message);
  if (!first->empty()) return {};
  for (auto room : {conference::default_room(), conference::echo_room()}) {
    room.created_at = std::chrono::system_clock::now();
    // kConflict: another node sharing the PostgreSQL store seeded it at the same moment.
    auto created = store.create_room(room);
    if (!created && created.error().kind != conference::StoreErrorKind::kConflict)
      return std::unexpected("store: seeding room " + room.id + ": " + created.error().message);
  }
  return {};
}

}  // namespace

StoreBackend store_backend(std::string_view store) {
  return conference::pg::is_postgres_uri(store) ? StoreBackend::kPostgres : StoreBackend::kSqlite;
}

std::string describe_store(const std::filesystem::path& data_dir, std::string_view store) {
  if (store_backend(store) == StoreBackend::kPostgres) return conference::pg::redact_conninfo(store);
  return (data_dir / "chorus.db").string();
}

std::expected<std::unique_ptr<conference::Store>, std::string> open_store(const std::filesystem::path& data_dir,
                                                                          std::string_view store) {
  if (store_backend(store) == StoreBackend::kPostgres) {
    // The error already names the server by its masked URI.
    auto opened = conference::PostgresStore::open(conference::pg::PgSettings{.conninfo = std::string(store)});
    if (!opened) return std::unexpected("store: " + opened.error());
    CHORUS_LOG(kInfo, "server", "store opened", {"backend", "postgresql"}, {"store", describe_store(data_dir, store)},
               {"schema_version", (*opened)->schema_version()});
    return std::unique_ptr<conference::Store>(std::move(*opened));
  }
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return std::unexpected("data dir " + data_dir.string() + ": " + error.message());
  const auto path = (data_dir / "chorus.db").string();
  // Issue 12: the store holds room PINs, API key hashes and webhook secrets. Created 0600 before
  // SQLite opens it (SQLite gives its -wal and -shm files the database file's mode), whatever the
  // umask; an existing store keeps its mode (main() warns when it is readable by others).
  if (auto created = create_private_file(path); !created) return std::unexpected("store: " + created.error());
  auto sqlite = conference::SqliteStore::open(path);
  if (!sqlite) return std::unexpected("store " + path + ": " + sqlite.error());
  CHORUS_LOG(kInfo, "server", "store opened", {"backend", "sqlite"}, {"store", path},
             {"schema_version", (*sqlite)->schema_version()});
  return std::unique_ptr<conference::Store>(std::move(*sqlite));
}

std::expected<void, std::string> load_domain(conference::Store& store, conference::RoomDirectory& rooms,
                                             conference::MeetingCalendar& calendar) {
  if (auto seeded = seed_if_empty(store); !seeded) return seeded;
  for (std::string after;;) {  // every room into the SIP path's directory
    auto page = store.list_rooms(after, kLoadPage);
    if (!page) return std::unexpected("store: " + page.error().message);
    for (auto& room : *page) {
      after = room.id;
      rooms.replace(std::move(room));
    }
    if (page->size() < kLoadPage) break;
  }
  for (std::string after;;) {  // every meeting into the admission calendar
    auto page = store.list_meetings(after, kLoadPage, std::nullopt);
    if (!page) return std::unexpected("store: " + page.error().message);
    for (const auto& record : *page) {
      after = record.id;
      if (!record.cancelled) calendar.put(rest::meeting_from_record(record));
    }
    if (page->size() < kLoadPage) break;
  }
  return {};
}

}  // namespace chorus::server
