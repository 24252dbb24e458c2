// The store's SQLite schema as an ordered list of migrations (SQLite's own v1, then the portable ones
// of store_schema.hpp), applied once each and recorded in schema_migrations(version, applied_at).
// Opening a database runs those it lacks, each in its own transaction, so re-opening is a no-op and
// a crash mid-migration leaves the previous schema. A shipped migration is never edited; a change
// is a new one at the end.
#pragma once

#include <span>

#include "conference/store/sqlite_connection.hpp"
#include "conference/store/store_schema.hpp"

namespace chorus::conference::sqlite {

std::span<const Migration> store_migrations();

// Brings the database to the last migration's version and returns it. A database written by a
// newer build (a version this one does not know) is refused rather than misread.
SqliteResult<int> migrate(Connection& connection, std::span<const Migration> migrations);

}  // namespace chorus::conference::sqlite
