// Issue 14: the `store` setting (--store, CHORUS_STORE, YAML key store) picks the store's backend:
// empty keeps SQLite in data_dir, a postgresql:// or postgres:// URI opens PostgreSQL. The URI's
// password never shows: not in --print-config, not in an error, not in the store's description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "conference/store/postgres_store.hpp"
#include "conference/store/sqlite_store.hpp"
#include "server/config.hpp"
#include "server/domain_store.hpp"
#include "tests/unit/conference/store/pg_cluster.hpp"
#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::server {
namespace store_setting_test {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "pw-Zq81x";  // appears only where a password is given

std::expected<LoadResult, std::string> load(std::vector<std::string> flags,
                                            const std::map<std::string, std::string>& env = {}) {
  std::vector<const char*> argv{"chorusd"};
  for (const std::string& flag : flags) argv.push_back(flag.c_str());
  return load_config(argv, env);
}

TEST(StoreSetting, DefaultIsSqliteInTheDataDir) {
  auto loaded = load({});
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(loaded->config.store, "");
  EXPECT_EQ(store_backend(loaded->config.store), StoreBackend::kSqlite);
  EXPECT_THAT(render_config(*loaded), HasSubstr("\nstore = \"\"  (default)\n"));

  chorus::test::TempDir dir;
  auto store = open_store(dir.path() / "var", loaded->config.store);
  ASSERT_TRUE(store.has_value()) << store.error();
  EXPECT_NE(dynamic_cast<conference::SqliteStore*>(store->get()), nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "var" / "chorus.db"));
  EXPECT_EQ(describe_store(dir.path() / "var", ""), (dir.path() / "var" / "chorus.db").string());
}

TEST(StoreSetting, PostgresUriSelectsPostgresqlAndShowsMasked) {
  const std::string uri = std::string("postgresql://chorus:") + kSecret + "@db.example.com:5432/chorus";
  auto loaded = load({"--print-config", "--store", uri});
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(loaded->config.store, uri);
  EXPECT_EQ(store_backend(loaded->config.store), StoreBackend::kPostgres);
  const std::string shown = render_config(*loaded);
  EXPECT_THAT(shown, HasSubstr("\nstore = postgresql://chorus:***@db.example.com:5432/chorus  (flag --store)\n"));
  EXPECT_THAT(shown, Not(HasSubstr(kSecret)));
  EXPECT_EQ(describe_store("/var/lib/chorus", uri), "postgresql://chorus:***@db.example.com:5432/chorus");

  // The other spellings: the short scheme, and the environment variable.
  const std::string env_uri = std::string("postgres://chorus@db/chorus?password=") + kSecret;
  loaded = load({}, {{"CHORUS_STORE", env_uri}});
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(store_backend(loaded->config.store), StoreBackend::kPostgres);
  EXPECT_THAT(render_config(*loaded),
              HasSubstr("store = postgres://chorus@db/chorus?password=***  (env CHORUS_STORE)"));
  EXPECT_THAT(render_config(*loaded), Not(HasSubstr(kSecret)));
}

TEST(StoreSetting, OtherValuesAreRefusedWithoutEchoingThem) {
  for (const std::string& bad : {std::string("mysql://u:") + kSecret + "@h/db", std::string("/var/lib/chorus.db"),
                                 std::string("postgresql://u:") + kSecret + "@[::1/db",
                                 std::string("postgresql://u:") + kSecret + "@h/db?nosuchoption=1"}) {
    auto loaded = load({"--store", bad});
    ASSERT_FALSE(loaded.has_value()) << bad;
    EXPECT_THAT(loaded.error(), HasSubstr("store (flag --store)"));
    EXPECT_THAT(loaded.error(), Not(HasSubstr(kSecret)));
  }
}

// open_store goes to PostgreSQL for a URI, not to SQLite: with no server at the address it fails
// naming the server (password masked), and leaves no database file in the data dir.
TEST(StoreSetting, OpenStoreWithAUriConnectsToPostgresql) {
  chorus::test::TempDir dir;
  const std::string uri = std::string("postgresql://chorus:") + kSecret +
                          "@/chorus?host=" + (dir.path() / "no-server").string() + "&connect_timeout=2";
  auto store = open_store(dir.path() / "var", uri);
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error(), HasSubstr("cannot connect"));
  EXPECT_THAT(store.error(), HasSubstr("chorus:***@"));
  EXPECT_THAT(store.error(), Not(HasSubstr(kSecret)));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var" / "chorus.db"));
}

// With a server (the store tests' throw-away cluster): two nodes start on one empty database; it is
// migrated and seeded once, and both load the same rooms.
TEST(StoreSetting, TwoNodesOpenAndSeedOnePostgresqlStore) {
  auto& cluster = chorus::test::PgCluster::shared();
  if (!cluster.available()) {
    if (cluster.skipped()) GTEST_SKIP() << cluster.problem();
    FAIL() << cluster.problem();
  }
  auto database = cluster.create_database();
  ASSERT_TRUE(database.has_value()) << database.error();
  chorus::test::TempDir dir;
  auto loaded = load({"--store", cluster.uri(*database)});
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  for (int node = 0; node < 2; ++node) {
    auto store = open_store(dir.path() / "var", loaded->config.store);
    ASSERT_TRUE(store.has_value()) << store.error();
    EXPECT_NE(dynamic_cast<conference::PostgresStore*>(store->get()), nullptr);
    conference::RoomDirectory rooms;
    conference::MeetingCalendar calendar;
    auto domain = load_domain(**store, rooms, calendar);
    ASSERT_TRUE(domain.has_value()) << domain.error();
    EXPECT_EQ(rooms.size(), 2u) << "room 1000 and the echo room, seeded once";
    EXPECT_NE(rooms.find_by_dial_string("1000"), nullptr);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var" / "chorus.db"));
  cluster.drop_database(*database);
}

}  // namespace store_setting_test
}  // namespace chorus::server
