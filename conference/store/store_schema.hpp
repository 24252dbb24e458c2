// The store's schema history, shared by its backends. Each backend has its own first migration
// (the dialects differ in types and in how ids are generated: sqlite_schema.cpp, postgres_schema.cpp);
// every later one is written once, in SQL both SQLite and PostgreSQL accept, and appears in both
// lists under the same version, so a schema version means the same tables on either database.
// A shipped migration is never edited; a change is a new one at the end of both lists.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace chorus::conference {

struct Migration {
  int version;      // 1, 2, 3… in order
  const char* sql;  // one or more statements
};

// Versions 2… (every backend's list is its own v1 followed by these).
std::span<const Migration> portable_migrations();

// A backend's whole list: its own first migration, then the portable ones.
std::vector<Migration> schema_history(Migration first);

// The refusal when the database was written by a newer build (a version this one does not know):
// it is refused rather than misread.
std::string newer_schema_message(int found, int known);

}  // namespace chorus::conference
