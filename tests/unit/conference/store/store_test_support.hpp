// Shared by the store tests: sample records with every field set away from its default (so a
// column that is dropped or swapped shows), and the backends the Store suites run on. A suite is
// parameterised over Backend (TEST_P, INSTANTIATE_STORE_SUITE): each test gets a database of its
// own — a SQLite file in a temporary directory, or a database in the throw-away PostgreSQL cluster
// of pg_cluster.hpp — and runs against SQLite and PostgreSQL alike. PostgreSQL cases skip with a
// clear message where the PostgreSQL server is not installed.
#pragma once

#include "tests/unit/test_support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "conference/store/postgres_schema.hpp"
#include "conference/store/postgres_store.hpp"
#include "conference/store/sqlite_connection.hpp"
#include "conference/store/sqlite_schema.hpp"
#include "conference/store/sqlite_store.hpp"
#include "tests/unit/conference/store/pg_cluster.hpp"

namespace chorus::conference::test {

using namespace std::chrono_literals;

// 2026-11-26T09:00:00.123456Z: the store keeps microseconds, so a sample carries some.
inline std::chrono::system_clock::time_point sample_time(std::chrono::minutes offset = 0min) {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 9h + 123456us + offset;
}

inline Room sample_room(const std::string& id, const std::string& number) {
  Room room;
  room.id = id;
  room.dial_in_number = number;
  room.name = "Room " + id;
  room.mode = RoomMode::kMcu;  // not the default, so a lost column would show
  room.max_participants = 42;
  room.encryption = RoomEncryption::kRequired;
  room.pin = "1234";
  room.moderator_pin = "9876";
  room.default_layout = "speaker";
  room.sip_video = SipVideo::kComposite;
  room.locked = true;
  room.wait_for_moderator = true;
  room.created_at = sample_time();
  room.version = 17;  // the store ignores it on create
  return room;
}

inline MeetingRecord sample_meeting(const std::string& id, const std::string& room_id) {
  MeetingRecord meeting;
  meeting.id = id;
  meeting.room_id = room_id;
  meeting.title = "Weekly " + id;
  meeting.start = sample_time();
  meeting.end = sample_time(45min);
  meeting.timezone = "Europe/Paris";
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;COUNT=10";
  meeting.exdates = {sample_time(7 * 24h), sample_time(14 * 24h)};
  meeting.join_window_before = 10min;
  meeting.pin = "5555";
  meeting.organizer = "alice@example.com";
  meeting.attendees = {"bob@example.com", "carol@example.com"};
  meeting.sequence = 3;
  meeting.cancelled = true;
  meeting.created_at = sample_time(-60min);
  meeting.updated_at = sample_time(-30min);
  meeting.version = 9;
  return meeting;
}

// The error's kind, none on success: EXPECT_EQ(error_kind(result), StoreErrorKind::kConflict).
template <typename T>
std::optional<StoreErrorKind> error_kind(const StoreResult<T>& result) {
  if (result.has_value()) return std::nullopt;
  return result.error().kind;
}

using TempDir = chorus::test::TempDir;

enum class Backend { kSqlite, kPostgres };
inline constexpr std::array kAllBackends{Backend::kSqlite, Backend::kPostgres};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// One database for one test. Besides opening the store, it reaches the database around it, as
// the tests need: fixtures and corruption by SQL, and the backend's own migrate().
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens the test's database (again): a new connection, migrated, as chorusd does at start.
  virtual std::expected<std::unique_ptr<Store>, std::string> open() = 0;
  // SQL without values (fixtures only) through a connection of the test's own.
  virtual std::expected<void, std::string> exec(const std::string& sql) = 0;
  // The integer the SQL's first row holds.
  virtual std::expected<std::int64_t, std::string> scalar(const std::string& sql) = 0;
  // The backend's migrate() over `migrations`, on a connection of the test's own.
  virtual std::expected<int, std::string> migrate(std::span<const Migration> migrations) = 0;
  [[nodiscard]] virtual std::span<const Migration> store_migrations() const = 0;
  // The store's schema version after open().
  [[nodiscard]] virtual int schema_version(const Store& store) const = 0;
  virtual std::expected<bool, std::string> has_table(const std::string& name) = 0;
};

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() { path_ = (dir_.path() / "chorus.db").string(); }
  std::expected<std::unique_ptr<Store>, std::string> open() override {
    auto store = SqliteStore::open(path_);
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  std::expected<void, std::string> exec(const std::string& sql) override {
    auto db = sqlite::Connection::open(path_);
    if (!db) return std::unexpected(db.error().message);
    if (auto done = (*db)->exec(sql.c_str()); !done) return std::unexpected(sql + ": " + done.error().message);
    return {};
  }
  std::expected<std::int64_t, std::string> scalar(const std::string& sql) override {
    auto db = sqlite::Connection::open(path_);
    if (!db) return std::unexpected(db.error().message);
    // The statement cache keys on the SQL's address: it must live as long as the connection.
    auto query = (*db)->query(sql);
    if (!query) return std::unexpected(sql + ": " + query.error().message);
    auto row = query->step();
    if (!row || !*row) return std::unexpected(sql + ": no row");
    return query->int64(0);
  }
  std::expected<int, std::string> migrate(std::span<const Migration> migrations) override {
    auto db = sqlite::Connection::open(path_);
    if (!db) return std::unexpected(db.error().message);
    auto version = sqlite::migrate(**db, migrations);
    if (!version) return std::unexpected(version.error().message);
    return *version;
  }
  [[nodiscard]] std::span<const Migration> store_migrations() const override { return sqlite::store_migrations(); }
  [[nodiscard]] int schema_version(const Store& store) const override {
    return dynamic_cast<const SqliteStore&>(store).schema_version();
  }
  std::expected<bool, std::string> has_table(const std::string& name) override {
    auto count = scalar("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '" + name + "'");
    if (!count) return std::unexpected(count.error());
    return *count > 0;
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
};

class PostgresBackend final : public StoreBackend {
 public:
  PostgresBackend(chorus::test::PgCluster& cluster, std::string database)
      : cluster_(cluster), database_(std::move(database)) {}
  ~PostgresBackend() override { cluster_.drop_database(database_); }
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;

  std::expected<std::unique_ptr<Store>, std::string> open() override {
    auto store = PostgresStore::open(settings());
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  std::expected<void, std::string> exec(const std::string& sql) override { return cluster_.exec(database_, sql); }
  std::expected<std::int64_t, std::string> scalar(const std::string& sql) override {
    auto text = cluster_.query(database_, sql);
    if (!text) return std::unexpected(text.error());
    return std::strtoll(text->c_str(), nullptr, 10);
  }
  std::expected<int, std::string> migrate(std::span<const Migration> migrations) override {
    auto db = pg::PgConnection::open(settings());
    if (!db) return std::unexpected(db.error().message);
    auto version = pg::migrate(**db, migrations);
    if (!version) return std::unexpected(version.error().message);
    return *version;
  }
  [[nodiscard]] std::span<const Migration> store_migrations() const override { return pg::store_migrations(); }
  [[nodiscard]] int schema_version(const Store& store) const override {
    return dynamic_cast<const PostgresStore&>(store).schema_version();
  }
  std::expected<bool, std::string> has_table(const std::string& name) override {
    auto count = scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '" + name + "'");
    if (!count) return std::unexpected(count.error());
    return *count > 0;
  }

  [[nodiscard]] pg::PgSettings settings() const { return pg::PgSettings{.conninfo = uri()}; }
  [[nodiscard]] std::string uri() const { return cluster_.uri(database_); }
  [[nodiscard]] const std::string& database() const { return database_; }
  [[nodiscard]] chorus::test::PgCluster& cluster() const { return cluster_; }

 private:
  chorus::test::PgCluster& cluster_;
  std::string database_;
};

// Why a backend cannot be made: skip (PostgreSQL is not installed) or fail (it is, but broke).
struct BackendProblem {
  bool skip = false;
  std::string message;
};

inline std::expected<std::unique_ptr<StoreBackend>, BackendProblem> make_backend(Backend backend) {
  if (backend == Backend::kSqlite) return std::make_unique<SqliteBackend>();
  auto& cluster = chorus::test::PgCluster::shared();
  if (!cluster.available()) return std::unexpected(BackendProblem{cluster.skipped(), cluster.problem()});
  auto database = cluster.create_database();
  if (!database) return std::unexpected(BackendProblem{false, database.error()});
  return std::make_unique<PostgresBackend>(cluster, std::move(*database));
}

// A test with a store open on its own database; reopen() closes it and opens the same database.
// A fixture that extends SetUp() returns early unless ready() (this one skipped or failed).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto made = make_backend(GetParam());
    if (!made) {
      if (made.error().skip) GTEST_SKIP() << made.error().message;
      FAIL() << made.error().message;
    }
    backend_ = std::move(*made);
    reopen();
  }
  void reopen() {
    store_.reset();
    auto opened = backend_->open();
    ASSERT_TRUE(opened.has_value()) << opened.error();
    store_ = std::move(*opened);
  }
  [[nodiscard]] bool ready() const { return !IsSkipped() && !HasFatalFailure(); }
  Store& store() { return *store_; }
  StoreBackend& backend() { return *backend_; }

  std::unique_ptr<StoreBackend> backend_;  // outlives the store: declared first, destroyed last
  std::unique_ptr<Store> store_;
};

// A SQLite store on `db_path()` for tests of what sits on a store (retention, the REST fixture);
// reopen() closes and opens the same file.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    reopen();
  }
  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(db_path());
    ASSERT_TRUE(opened.has_value()) << opened.error();
    store_ = std::move(*opened);
  }
  [[nodiscard]] std::string db_path() const { return (dir_.path() / "chorus.db").string(); }
  SqliteStore& store() { return *store_; }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

// Runs a TEST_P suite on every backend: Backends/<Suite>.<Test>/Sqlite and …/Postgres.
#define INSTANTIATE_STORE_SUITE(suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::ValuesIn(kAllBackends), backend_name)

}  // namespace chorus::conference::test
