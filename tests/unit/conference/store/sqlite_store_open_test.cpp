#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <string>

#include "conference/store/sqlite_connection.hpp"
#include "conference/store/sqlite_schema.hpp"
#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace {

using conference::Migration;
using sqlite::Connection;

// One integer the SQL yields, through a connection of the test's own.
std::int64_t scalar(Connection& db, std::string_view sql) {
  auto query = db.query(sql);
  EXPECT_TRUE(query.has_value()) << query.error().message;
  if (!query) return -1;
  auto row = query->step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  return row.has_value() && *row ? query->int64(0) : -1;
}

std::unique_ptr<Connection> connect(const std::string& path) {
  auto db = Connection::open(path);
  EXPECT_TRUE(db.has_value()) << db.error().message;
  return db ? std::move(*db) : nullptr;
}

class SqliteStoreOpen : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  [[nodiscard]] std::string path(const char* name = "chorus.db") const { return (dir_.path() / name).string(); }
  TempDir dir_;
};

TEST_F(SqliteStoreOpen, NewFileIsMigratedToTheLastVersion) {
  auto store = SqliteStore::open(path());
  ASSERT_TRUE(store.has_value()) << store.error();
  EXPECT_EQ((*store)->schema_version(), sqlite::store_migrations().back().version);
  EXPECT_GE((*store)->schema_version(), 1);
}

TEST_F(SqliteStoreOpen, ReopeningAppliesNoMigrationTwice) {
  int version = 0;
  for (int i = 0; i < 2; ++i) {
    auto store = SqliteStore::open(path());
    ASSERT_TRUE(store.has_value()) << store.error();
    if (i == 0) version = (*store)->schema_version();
    EXPECT_EQ((*store)->schema_version(), version);
  }
  auto db = connect(path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite::store_migrations().size()));
  EXPECT_EQ(scalar(*db, "SELECT MAX(version) FROM schema_migrations"), version);
  EXPECT_GT(scalar(*db, "SELECT MIN(applied_at) FROM schema_migrations"), 0);
}

TEST_F(SqliteStoreOpen, FileIsInWalModeWithForeignKeysOn) {
  {
    auto store = SqliteStore::open(path());
    ASSERT_TRUE(store.has_value()) << store.error();
    ASSERT_TRUE((*store)->create_room(sample_room("sales", "2000")).has_value());
    // The log exists while the store is open; the commit went to it.
    EXPECT_TRUE(std::filesystem::exists(path() + "-wal"));
  }
  auto db = connect(path());
  ASSERT_NE(db, nullptr);
  auto mode = db->query("PRAGMA journal_mode");  // WAL is a property of the file
  ASSERT_TRUE(mode.has_value());
  ASSERT_TRUE(mode->step().value_or(false));
  EXPECT_EQ(mode->text(0), "wal");
}

TEST_F(SqliteStoreOpen, TextFileIsRefusedWithAMessage) {
  std::ofstream(path()) << std::string(4096, 'x') << "\nthis is not a database\n";
  auto store = SqliteStore::open(path());
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("not a database"), std::string::npos) << store.error();
  EXPECT_NE(store.error().find(path()), std::string::npos) << store.error();
}

TEST_F(SqliteStoreOpen, DatabaseWithOverwrittenHeaderIsRefused) {
  {
    auto store = SqliteStore::open(path());
    ASSERT_TRUE(store.has_value()) << store.error();
    ASSERT_TRUE((*store)->create_room(sample_room("sales", "2000")).has_value());
  }
  {
    std::fstream file(path(), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open());
    file.write(std::string(100, '\x5a').data(), 100);  // the 100-byte header (https://sqlite.org/fileformat.html)
  }
  auto store = SqliteStore::open(path());
  ASSERT_FALSE(store.has_value());
  EXPECT_FALSE(store.error().empty());
}

TEST_F(SqliteStoreOpen, MissingDirectoryIsRefused) {
  auto store = SqliteStore::open((dir_.path() / "no" / "such" / "chorus.db").string());
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("cannot open"), std::string::npos) << store.error();
}

TEST_F(SqliteStoreOpen, SchemaFromANewerBuildIsRefused) {
  ASSERT_TRUE(SqliteStore::open(path()).has_value());
  {
    auto db = connect(path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->exec("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 1)").has_value());
  }
  auto store = SqliteStore::open(path());
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("newer"), std::string::npos) << store.error();
}

TEST(SqliteMigrations, LaterMigrationsApplyOnTopOfEarlierOnes) {
  TempDir dir;
  const std::string path = (dir.path() / "m.db").string();
  constexpr std::array<Migration, 2> kMigrations = {{
      {1, "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
      {2, "ALTER TABLE a ADD COLUMN y INTEGER NOT NULL DEFAULT 7;"},
  }};
  {
    auto db = connect(path);
    ASSERT_NE(db, nullptr);
    auto version = sqlite::migrate(*db, std::span(kMigrations).first(1));
    ASSERT_TRUE(version.has_value()) << version.error().message;
    EXPECT_EQ(*version, 1);
  }
  auto db = connect(path);
  ASSERT_NE(db, nullptr);
  auto version = sqlite::migrate(*db, kMigrations);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2);
  EXPECT_EQ(scalar(*db, "SELECT x + y FROM a"), 8);  // v1's row survived, v2's column added once
  version = sqlite::migrate(*db, kMigrations);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2);
}

// The store's own schema: a database written by a v1 build keeps its rooms when v2 adds
// rooms.wait_for_moderator (off for every existing room).
TEST(SqliteMigrations, V1RoomsSurviveTheWaitForModeratorColumn) {
  TempDir dir;
  const std::string path = (dir.path() / "chorus.db").string();
  {
    auto db = connect(path);
    ASSERT_NE(db, nullptr);
    auto version = sqlite::migrate(*db, sqlite::store_migrations().first(1));
    ASSERT_TRUE(version.has_value()) << version.error().message;
    ASSERT_TRUE(db->exec("INSERT INTO rooms VALUES ('old', '3000', 'Old', 'mcu', 10, 'optional', 'mixer', '',"
                         " '', '', 0, 1, 1)")
                    .has_value());
  }
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store.has_value()) << store.error();
  EXPECT_GE((*store)->schema_version(), 2);
  auto room = (*store)->get_room("old");
  ASSERT_TRUE(room.has_value()) << room.error().message;
  EXPECT_EQ(room->dial_in_number, "3000");
  EXPECT_FALSE(room->wait_for_moderator);
}

// v3 folds the echo room's `engine` column into the room mode, and the unasked-for 'mcu' every
// room had before becomes 'sfu', the new default (sqlite_schema.cpp says why).
TEST(SqliteMigrations, V2EchoEngineBecomesTheEchoModeAndMcuBecomesSfu) {
  TempDir dir;
  const std::string path = (dir.path() / "chorus.db").string();
  {
    auto db = connect(path);
    ASSERT_NE(db, nullptr);
    auto version = sqlite::migrate(*db, sqlite::store_migrations().first(2));
    ASSERT_TRUE(version.has_value()) << version.error().message;
    ASSERT_TRUE(db->exec("INSERT INTO rooms VALUES ('echo', '9196', 'Echo', 'mcu', 10, 'optional', 'echo', '',"
                         " '', '', 0, 1, 1, 0)")
                    .has_value());
    ASSERT_TRUE(db->exec("INSERT INTO rooms VALUES ('1000', '1000', 'Lobby', 'mcu', 10, 'optional', 'mixer', '',"
                         " '', '', 0, 1, 1, 1)")
                    .has_value());
  }
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store.has_value()) << store.error();
  EXPECT_GE((*store)->schema_version(), 3);
  auto echo = (*store)->get_room("echo");
  ASSERT_TRUE(echo.has_value()) << echo.error().message;
  EXPECT_EQ(echo->mode, RoomMode::kEcho);
  auto lobby = (*store)->get_room("1000");
  ASSERT_TRUE(lobby.has_value()) << lobby.error().message;
  EXPECT_EQ(lobby->mode, RoomMode::kSfu);
  EXPECT_TRUE(lobby->wait_for_moderator);
}

// v4 adds rooms.sip_video: a room stored by a v3 build keeps its fields and shows SIP endpoints the
// voice-switched speaker, as it did before the setting existed.
TEST(SqliteMigrations, V3RoomsGetTheSpeakerForSipVideo) {
  TempDir dir;
  const std::string path = (dir.path() / "chorus.db").string();
  {
    auto db = connect(path);
    ASSERT_NE(db, nullptr);
    auto version = sqlite::migrate(*db, sqlite::store_migrations().first(3));
    ASSERT_TRUE(version.has_value()) << version.error().message;
    ASSERT_EQ(*version, 3);
    ASSERT_TRUE(db->exec("INSERT INTO rooms VALUES ('board', '5000', 'Board', 'sfu', 10, 'required', '1234',"
                         " '', 'grid', 1, 1, 4, 1)")
                    .has_value());
  }
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store.has_value()) << store.error();
  EXPECT_GE((*store)->schema_version(), 4);
  auto board = (*store)->get_room("board");
  ASSERT_TRUE(board.has_value()) << board.error().message;
  EXPECT_EQ(board->sip_video, SipVideo::kSpeaker);
  EXPECT_EQ(board->dial_in_number, "5000");
  EXPECT_EQ(board->mode, RoomMode::kSfu);
  EXPECT_EQ(board->encryption, RoomEncryption::kRequired);
  EXPECT_EQ(board->default_layout, "grid");
  EXPECT_TRUE(board->locked);
  EXPECT_EQ(board->version, 4u);
  EXPECT_TRUE(board->wait_for_moderator);
  // The new column is writable like any other.
  Room changed = *board;
  changed.sip_video = SipVideo::kComposite;
  ASSERT_TRUE((*store)->update_room(changed, 4).has_value());
  EXPECT_EQ((*store)->get_room("board")->sip_video, SipVideo::kComposite);
}

TEST(SqliteMigrations, AFailingMigrationLeavesThePreviousSchema) {
  TempDir dir;
  auto db = connect((dir.path() / "m.db").string());
  ASSERT_NE(db, nullptr);
  constexpr std::array<Migration, 2> kMigrations = {{
      {1, "CREATE TABLE a (x INTEGER);"},
      {2, "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"},
  }};
  auto version = sqlite::migrate(*db, kMigrations);
  ASSERT_FALSE(version.has_value());
  EXPECT_NE(version.error().message.find("migration 2"), std::string::npos) << version.error().message;
  EXPECT_EQ(scalar(*db, "SELECT MAX(version) FROM schema_migrations"), 1);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'"), 0);  // rolled back
}

}  // namespace
}  // namespace chorus::conference::test
