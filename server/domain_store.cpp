#include "server/domain_store.hpp"

#include <chrono>
#include <system_error>

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
    if (auto created = store.create_room(room); !created)
      return std::unexpected("store: seeding room " + room.id + ": " + created.error().message);
  }
  return {};
}

}  // namespace

std::expected<std::unique_ptr<conference::Store>, std::string> open_store(const std::filesystem::path& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return std::unexpected("data dir " + data_dir.string() + ": " + error.message());
  const auto path = (data_dir / "chorus.db").string();
  // Issue 12: the store holds room PINs, API key hashes and webhook secrets. Created 0600 before
  // SQLite opens it (SQLite gives its -wal and -shm files the database file's mode), whatever the
  // umask; an existing store keeps its mode (main() warns when it is readable by others).
  if (auto created = create_private_file(path); !created) return std::unexpected("store: " + created.error());
  auto store = conference::SqliteStore::open(path);
  if (!store) return std::unexpected("store " + path + ": " + store.error());
  return std::unique_ptr<conference::Store>(std::move(*store));
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
