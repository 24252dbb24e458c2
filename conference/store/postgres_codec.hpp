// What the PostgreSQL store adds to the shared codec (store_codec.hpp) and row mapping
// (store_rows.hpp): PostgreSQL errors as StoreErrors, and reading a result's rows through a row
// reader. The counterpart of sqlite_codec.hpp. Internal to conference/store.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conference/store/postgres_connection.hpp"
#include "conference/store/store.hpp"
#include "conference/store/store_rows.hpp"

namespace chorus::conference::pg {

// SQLSTATE 23505 unique_violation becomes kConflict, 23503 foreign_key_violation kNotFound (a
// reference names no row); anything else — the connection, a timeout, the server — is kIo.
StoreError to_store_error(const PgError& error, std::string_view what);

inline std::unexpected<StoreError> fail(const PgError& error, std::string_view what) {
  return std::unexpected(to_store_error(error, what));
}

template <typename T>
using RowReader = StoreResult<T> (*)(const PgRow&);

template <typename T>
StoreResult<std::vector<T>> collect(const PgRows& rows, RowReader<T> read) {
  std::vector<T> items;
  items.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    auto item = read(rows[i]);
    if (!item) return std::unexpected(std::move(item.error()));
    items.push_back(std::move(*item));
  }
  return items;
}

// The single row of a get, kNotFound when there is none.
template <typename T>
StoreResult<T> single(const PgRows& rows, RowReader<T> read, std::string_view what) {
  if (rows.size() == 0) return rows::not_found(what);
  return read(rows[0]);
}

}  // namespace chorus::conference::pg
