// Trunks of the SQLite store (sqlite_store.hpp; the table is store_schema.cpp's v5).
#include <utility>

#include "conference/store/sqlite_codec.hpp"
#include "conference/store/sqlite_store.hpp"
#include "conference/store/trunk_rows.hpp"

namespace chorus::conference {
namespace {

using sqlite::collect;
using sqlite::fail;
using sqlite::Query;
using sqlite::single;
using sqlite::Transaction;

constexpr auto kReadTrunk = &rows::read_trunk<Query>;

// Column lists in trunk_rows.hpp's order.
#define CHORUS_TRUNK_COLUMNS                                                                                \
  "id, name, targets_json, registration_json, registration_password, outbound_username, outbound_password," \
  " inbound_ranges_json, inbound_from_registration, country_code, national_prefix, international_prefix,"   \
  " caller_id, created_at_us, updated_at_us, version"

constexpr std::string_view kSelectTrunk = "SELECT " CHORUS_TRUNK_COLUMNS " FROM trunks WHERE id = ?1";
constexpr std::string_view kListTrunks =
    "SELECT " CHORUS_TRUNK_COLUMNS " FROM trunks WHERE id > ?1 ORDER BY id LIMIT ?2";
constexpr std::string_view kInsertTrunk =
    "INSERT INTO trunks (id, name, targets_json, registration_json, registration_password, outbound_username,"
    " outbound_password, inbound_ranges_json, inbound_from_registration, country_code, national_prefix,"
    " international_prefix, caller_id, updated_at_us, created_at_us, version)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?14, ?16)";
constexpr std::string_view kUpdateTrunk =
    "UPDATE trunks SET name = ?2, targets_json = ?3, registration_json = ?4, registration_password = ?5,"
    " outbound_username = ?6, outbound_password = ?7, inbound_ranges_json = ?8, inbound_from_registration = ?9,"
    " country_code = ?10, national_prefix = ?11, international_prefix = ?12, caller_id = ?13,"
    " updated_at_us = ?15, version = version + 1 WHERE id = ?1";
constexpr std::string_view kTrunkVersion = "SELECT version FROM trunks WHERE id = ?1";

#undef CHORUS_TRUNK_COLUMNS

}  // namespace

StoreResult<Trunk> SqliteStore::create_trunk(const Trunk& trunk) {
  if (auto text = rows::check_text(trunk, "create trunk"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create trunk");
  auto query = db_->query(kInsertTrunk);
  if (!query) return fail(query.error(), "create trunk");
  if (auto bound = rows::bind_trunk_fields(*query, trunk); !bound) return std::unexpected(std::move(bound.error()));
  query->bind(14, codec::to_micros(trunk.created_at)).bind(16, std::int64_t{1});
  if (auto done = query->run(); !done) return fail(done.error(), "create trunk");
  auto stored = get_trunk(trunk.id);
  if (!stored) return stored;
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "create trunk");
  return stored;
}

StoreResult<Trunk> SqliteStore::get_trunk(std::string_view id) {
  auto query = db_->query(kSelectTrunk);
  if (!query) return fail(query.error(), "get trunk");
  query->bind(1, id);
  return single<Trunk>(*query, kReadTrunk, "get trunk");
}

StoreResult<std::vector<Trunk>> SqliteStore::list_trunks(std::string_view after_id, std::size_t limit) {
  auto query = db_->query(kListTrunks);
  if (!query) return fail(query.error(), "list trunks");
  query->bind(1, after_id).bind(2, codec::to_limit(limit));
  return collect<Trunk>(*query, kReadTrunk, "list trunks");
}

StoreResult<std::uint64_t> SqliteStore::update_trunk(const Trunk& trunk, std::uint64_t expected_version) {
  if (auto text = rows::check_text(trunk, "update trunk"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update trunk");
  if (auto same = check_version(kTrunkVersion, trunk.id, expected_version, "update trunk"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  auto query = db_->query(kUpdateTrunk);
  if (!query) return fail(query.error(), "update trunk");
  if (auto bound = rows::bind_trunk_fields(*query, trunk); !bound) return std::unexpected(std::move(bound.error()));
  if (auto done = query->run(); !done) return fail(done.error(), "update trunk");
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "update trunk");
  return expected_version + 1;
}

StoreResult<void> SqliteStore::delete_trunk(std::string_view id) {
  return delete_by_id("DELETE FROM trunks WHERE id = ?1", id, "delete trunk");
}

}  // namespace chorus::conference
