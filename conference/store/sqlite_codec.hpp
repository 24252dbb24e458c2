// What the SQLite store adds to the shared codec (store_codec.hpp) and row mapping (store_rows.hpp):
// SQLite errors as StoreErrors, and reading a statement's rows through a row reader.
// Internal to conference/store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conference/store/sqlite_connection.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference::sqlite {

// Constraint failures become kConflict (unique, primary key) or kNotFound (a foreign key names
// no row); anything else is kIo. `what` says which operation failed.
StoreError to_store_error(const SqliteError& error, std::string_view what);

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

}  // namespace chorus::conference::sqlite
