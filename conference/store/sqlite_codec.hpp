// How the SQLite store turns values into columns and back: times as integer microseconds since
// the epoch (UTC), string and time lists as JSON arrays, enumerations by their REST names, and
// SQLite errors as StoreErrors. Internal to conference/store.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/room.hpp"
#include "conference/store/records.hpp"
#include "conference/store/sqlite_connection.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference::sqlite {

std::int64_t to_micros(std::chrono::system_clock::time_point at);
std::chrono::system_clock::time_point from_micros(std::int64_t micros);

// JSON arrays. Encoding fails only on text that is not UTF-8 (JSON cannot carry it).
StoreResult<std::string> encode_strings(const std::vector<std::string>& values);
StoreResult<std::vector<std::string>> decode_strings(std::string_view json);
std::string encode_times(const std::vector<std::chrono::system_clock::time_point>& values);
StoreResult<std::vector<std::chrono::system_clock::time_point>> decode_times(std::string_view json);

std::string_view to_column(RoomMode mode);
std::string_view to_column(SipVideo video);
std::string_view to_column(RoomEncryption encryption);
std::string_view to_column(DeliveryStatus status);
std::optional<RoomMode> room_mode_from_column(std::string_view text);
std::optional<SipVideo> sip_video_from_column(std::string_view text);
std::optional<RoomEncryption> room_encryption_from_column(std::string_view text);
std::optional<DeliveryStatus> delivery_status_from_column(std::string_view text);

// Constraint failures become kConflict (unique, primary key) or kNotFound (a foreign key names
// no row); anything else is kIo. `what` says which operation failed.
StoreError to_store_error(const SqliteError& error, std::string_view what);
StoreError io_error(std::string_view what, std::string_view detail);

inline std::unexpected<StoreError> fail(const SqliteError& error, std::string_view what) {
  return std::unexpected(to_store_error(error, what));
}

// Reads every row the query yields.
template <typename T>
StoreResult<std::vector<T>> collect(Query& query, StoreResult<T> (*read)(const Query&), std::string_view what) {
  std::vector<T> items;
  for (;;) {
    auto row = query.step();
    if (!row) return fail(row.error(), what);
    if (!*row) return items;
    auto item = read(query);
    if (!item) return std::unexpected(std::move(item.error()));
    items.push_back(std::move(*item));
  }
}

// The single row of a get, kNotFound when there is none.
template <typename T>
StoreResult<T> single(Query& query, StoreResult<T> (*read)(const Query&), std::string_view what) {
  auto row = query.step();
  if (!row) return fail(row.error(), what);
  if (!*row) return std::unexpected(StoreError{StoreErrorKind::kNotFound, std::string(what) + ": no such record"});
  return read(query);
}

// Cursor pages: SQLite's LIMIT takes a signed 64-bit count.
std::int64_t to_limit(std::size_t limit);

}  // namespace chorus::conference::sqlite
