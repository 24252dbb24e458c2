// Trunks of the PostgreSQL store (postgres_store.hpp; the table is store_schema.cpp's v5). The
// portable migration cannot give the id column COLLATE "C", so cursors compare and order with it
// here: pages are bytewise, as on SQLite, whatever the database's locale.
#include <utility>

#include "conference/store/postgres_codec.hpp"
#include "conference/store/postgres_store.hpp"
#include "conference/store/trunk_rows.hpp"

namespace chorus::conference {
namespace {

using pg::fail;
using pg::PgParams;
using pg::PgRow;
using pg::PgTransaction;

constexpr auto kReadTrunk = &rows::read_trunk<PgRow>;

// Column lists in trunk_rows.hpp's order.
#define CHORUS_TRUNK_COLUMNS                                                                                \
  "id, name, targets_json, registration_json, registration_password, outbound_username, outbound_password," \
  " inbound_ranges_json, inbound_from_registration, country_code, national_prefix, international_prefix,"   \
  " caller_id, created_at_us, updated_at_us, version"

constexpr const char* kSelectTrunk = "SELECT " CHORUS_TRUNK_COLUMNS " FROM trunks WHERE id = $1";
constexpr const char* kListTrunks =
    "SELECT " CHORUS_TRUNK_COLUMNS " FROM trunks WHERE id COLLATE \"C\" > $1 ORDER BY id COLLATE \"C\" LIMIT $2";
constexpr const char* kInsertTrunk =
    "INSERT INTO trunks (id, name, targets_json, registration_json, registration_password, outbound_username,"
    " outbound_password, inbound_ranges_json, inbound_from_registration, country_code, national_prefix,"
    " international_prefix, caller_id, updated_at_us, created_at_us, version)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $14, $16) RETURNING " CHORUS_TRUNK_COLUMNS;
constexpr const char* kUpdateTrunk =
    "UPDATE trunks SET name = $2, targets_json = $3, registration_json = $4, registration_password = $5,"
    " outbound_username = $6, outbound_password = $7, inbound_ranges_json = $8, inbound_from_registration = $9,"
    " country_code = $10, national_prefix = $11, international_prefix = $12, caller_id = $13,"
    " updated_at_us = $15, version = version + 1 WHERE id = $1";
constexpr const char* kTrunkVersion = "SELECT version FROM trunks WHERE id = $1 FOR UPDATE";

#undef CHORUS_TRUNK_COLUMNS

}  // namespace

StoreResult<Trunk> PostgresStore::create_trunk(const Trunk& trunk) {
  if (auto text = rows::check_text(trunk, "create trunk"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_trunk_fields(params, trunk); !bound) return std::unexpected(std::move(bound.error()));
  params.bind(14, codec::to_micros(trunk.created_at)).bind(16, std::int64_t{1});
  // One statement, so its own transaction: the row it returns is the row committed.
  auto inserted = run(kInsertTrunk, params, "create trunk");
  if (!inserted) return std::unexpected(std::move(inserted.error()));
  return pg::single(*inserted, kReadTrunk, "create trunk");
}

StoreResult<Trunk> PostgresStore::get_trunk(std::string_view id) {
  PgParams params;
  params.bind(1, id);
  auto found = run(kSelectTrunk, params, "get trunk");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadTrunk, "get trunk");
}

StoreResult<std::vector<Trunk>> PostgresStore::list_trunks(std::string_view after_id, std::size_t limit) {
  PgParams params;
  params.bind(1, after_id).bind(2, codec::to_limit(limit));
  auto found = run(kListTrunks, params, "list trunks");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadTrunk);
}

StoreResult<std::uint64_t> PostgresStore::update_trunk(const Trunk& trunk, std::uint64_t expected_version) {
  if (auto text = rows::check_text(trunk, "update trunk"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_trunk_fields(params, trunk); !bound) return std::unexpected(std::move(bound.error()));
  auto transaction = PgTransaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update trunk");
  if (auto same = check_version(kTrunkVersion, trunk.id, expected_version, "update trunk"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  if (auto done = run(kUpdateTrunk, params, "update trunk"); !done) return std::unexpected(std::move(done.error()));
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "update trunk");
  return expected_version + 1;
}

StoreResult<void> PostgresStore::delete_trunk(std::string_view id) {
  return delete_by_id("DELETE FROM trunks WHERE id = $1", id, "delete trunk");
}

}  // namespace chorus::conference
