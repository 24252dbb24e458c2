// What outlives a chorusd process and the in-memory views the SIP path reads, made at start
// (DESIGN §1, §4): the store (SQLite in --data-dir, or PostgreSQL with --store), seeded with room 1000 and the echo
// room when empty, the room directory and the meeting calendar loaded from it. The server owns all of them and hands
// references to the conference domain and to the REST layer, so neither opens or seeds the store for the other.
// Threading: the control loop, at start and afterwards (the Store's own rule).
#pragma once

#include <expected>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"

namespace chorus::server {

enum class StoreBackend { kSqlite, kPostgres };

// Which backend the `store` setting names (issue 14): empty is SQLite in data_dir, a postgresql://
// or postgres:// URI is PostgreSQL (config_settings.cpp refuses anything else).
StoreBackend store_backend(std::string_view store);

// The store for log lines and errors: the SQLite file, or the URI with its password masked.
std::string describe_store(const std::filesystem::path& data_dir, std::string_view store);

// Opens the store the `store` setting names and migrates it: empty, the SQLite store in `data_dir`
// (creating the directory and the database file when missing); a PostgreSQL URI, that server's
// (bounded by connect_timeout; the URI's password never appears in the error or the log line).
// The error names the store and what failed.
std::expected<std::unique_ptr<conference::Store>, std::string> open_store(const std::filesystem::path& data_dir,
                                                                          std::string_view store = {});

// DESIGN §4: an empty store gets the open room 1000 and the echo-test room. Then every room goes into
// `rooms` and every meeting that is not cancelled into `calendar`. The error says what failed.
std::expected<void, std::string> load_domain(conference::Store& store, conference::RoomDirectory& rooms,
                                             conference::MeetingCalendar& calendar);

}  // namespace chorus::server
