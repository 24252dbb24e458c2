// The store's PostgreSQL schema: PostgreSQL's own v1 (postgres_schema.cpp) followed by the portable
// migrations every backend shares (store_schema.hpp), applied once each and recorded in
// schema_migrations(version, applied_at) as on SQLite. Each migration runs in its own transaction
// (PostgreSQL's DDL is transactional, so a failed one leaves the previous schema), under an
// advisory lock so that nodes starting together against one database migrate it once.
#pragma once

#include <span>

#include "conference/store/postgres_connection.hpp"
#include "conference/store/store_schema.hpp"

namespace chorus::conference::pg {

std::span<const Migration> store_migrations();

// Brings the database to the last migration's version and returns it. A database written by a
// newer build is refused rather than misread.
PgResult<int> migrate(PgConnection& connection, std::span<const Migration> migrations);

}  // namespace chorus::conference::pg
