// Opening a database migrates it, on SQLite and PostgreSQL alike: the same schema history (each
// backend's own v1, then the portable migrations of store_schema.hpp), applied once, each in its
// own transaction, and a newer build's schema refused.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace store_migrations_test {

// A backend's database without a store opened on it: the tests migrate it themselves.
class StoreMigrations : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto made = make_backend(GetParam());
    if (!made) {
      if (made.error().skip) GTEST_SKIP() << made.error().message;
      FAIL() << made.error().message;
    }
    backend_ = std::move(*made);
  }
  StoreBackend& backend() { return *backend_; }
  std::int64_t scalar(const std::string& sql) {
    auto value = backend_->scalar(sql);
    EXPECT_TRUE(value.has_value()) << value.error();
    return value.value_or(-1);
  }
  void exec(const std::string& sql) {
    auto done = backend_->exec(sql);
    ASSERT_TRUE(done.has_value()) << done.error();
  }
  // Migrates to the store's first `count` migrations, as a build of that time did.
  void migrate_first(std::size_t count) {
    auto version = backend_->migrate(backend_->store_migrations().first(count));
    ASSERT_TRUE(version.has_value()) << version.error();
    ASSERT_EQ(*version, backend_->store_migrations()[count - 1].version);
  }
  std::unique_ptr<Store> open() {
    auto store = backend_->open();
    EXPECT_TRUE(store.has_value()) << store.error();
    return store ? std::move(*store) : nullptr;
  }

  std::unique_ptr<StoreBackend> backend_;
};

TEST_P(StoreMigrations, BothBackendsKnowTheSameVersions) {
  std::vector<int> versions;
  for (const auto& migration : backend().store_migrations()) versions.push_back(migration.version);
  std::vector<int> expected{1};
  for (const auto& migration : portable_migrations()) expected.push_back(migration.version);
  EXPECT_EQ(versions, expected);
}

TEST_P(StoreMigrations, NewDatabaseIsMigratedToTheLastVersion) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(backend().schema_version(*store), backend().store_migrations().back().version);
  EXPECT_GE(backend().schema_version(*store), 4);
}

TEST_P(StoreMigrations, ReopeningAppliesNoMigrationTwice) {
  int version = 0;
  for (int i = 0; i < 2; ++i) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    if (i == 0) version = backend().schema_version(*store);
    EXPECT_EQ(backend().schema_version(*store), version);
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(backend().store_migrations().size()));
  EXPECT_EQ(scalar("SELECT MAX(version) FROM schema_migrations"), version);
  EXPECT_GT(scalar("SELECT MIN(applied_at) FROM schema_migrations"), 0);
}

TEST_P(StoreMigrations, SchemaFromANewerBuildIsRefused) {
  ASSERT_NE(open(), nullptr);
  exec("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 1)");
  auto store = backend().open();
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("newer"), std::string::npos) << store.error();
}

TEST_P(StoreMigrations, LaterMigrationsApplyOnTopOfEarlierOnes) {
  constexpr std::array<Migration, 2> kMigrations = {{
      {1, "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
      {2, "ALTER TABLE a ADD COLUMN y INTEGER NOT NULL DEFAULT 7;"},
  }};
  auto version = backend().migrate(std::span(kMigrations).first(1));
  ASSERT_TRUE(version.has_value()) << version.error();
  EXPECT_EQ(*version, 1);
  version = backend().migrate(kMigrations);
  ASSERT_TRUE(version.has_value()) << version.error();
  EXPECT_EQ(*version, 2);
  EXPECT_EQ(scalar("SELECT x + y FROM a"), 8);  // v1's row survived, v2's column added once
  version = backend().migrate(kMigrations);
  ASSERT_TRUE(version.has_value()) << version.error();
  EXPECT_EQ(*version, 2);
}

TEST_P(StoreMigrations, AFailingMigrationLeavesThePreviousSchema) {
  constexpr std::array<Migration, 2> kMigrations = {{
      {1, "CREATE TABLE a (x INTEGER);"},
      {2, "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"},
  }};
  auto version = backend().migrate(kMigrations);
  ASSERT_FALSE(version.has_value());
  EXPECT_NE(version.error().find("migration 2"), std::string::npos) << version.error();
  EXPECT_EQ(scalar("SELECT MAX(version) FROM schema_migrations"), 1);
  auto has_b = backend().has_table("b");
  ASSERT_TRUE(has_b.has_value()) << has_b.error();
  EXPECT_FALSE(*has_b) << "rolled back";
  auto has_a = backend().has_table("a");
  ASSERT_TRUE(has_a.has_value()) << has_a.error();
  EXPECT_TRUE(*has_a);
}

// The store's own schema: a database written by a v1 build keeps its rooms when v2 adds
// rooms.wait_for_moderator (off for every existing room).
TEST_P(StoreMigrations, V1RoomsSurviveTheWaitForModeratorColumn) {
  migrate_first(1);
  exec("INSERT INTO rooms VALUES ('old', '3000', 'Old', 'mcu', 10, 'optional', 'mixer', '', '', '', 0, 1, 1)");
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_GE(backend().schema_version(*store), 2);
  auto room = store->get_room("old");
  ASSERT_TRUE(room.has_value()) << room.error().message;
  EXPECT_EQ(room->dial_in_number, "3000");
  EXPECT_FALSE(room->wait_for_moderator);
}

// v3 folds the echo room's `engine` column into the room mode, and the unasked-for 'mcu' every
// room had before becomes 'sfu', the new default (store_schema.cpp says why).
TEST_P(StoreMigrations, V2EchoEngineBecomesTheEchoModeAndMcuBecomesSfu) {
  migrate_first(2);
  exec("INSERT INTO rooms VALUES ('echo', '9196', 'Echo', 'mcu', 10, 'optional', 'echo', '', '', '', 0, 1, 1, 0)");
  exec("INSERT INTO rooms VALUES ('1000', '1000', 'Lobby', 'mcu', 10, 'optional', 'mixer', '', '', '', 0, 1, 1, 1)");
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_GE(backend().schema_version(*store), 3);
  auto echo = store->get_room("echo");
  ASSERT_TRUE(echo.has_value()) << echo.error().message;
  EXPECT_EQ(echo->mode, RoomMode::kEcho);
  auto lobby = store->get_room("1000");
  ASSERT_TRUE(lobby.has_value()) << lobby.error().message;
  EXPECT_EQ(lobby->mode, RoomMode::kSfu);
  EXPECT_TRUE(lobby->wait_for_moderator);
}

// v4 adds rooms.sip_video: a room stored by a v3 build keeps its fields and shows SIP endpoints the
// voice-switched speaker, as it did before the setting existed.
TEST_P(StoreMigrations, V3RoomsGetTheSpeakerForSipVideo) {
  migrate_first(3);
  exec("INSERT INTO rooms VALUES ('board', '5000', 'Board', 'sfu', 10, 'required', '1234', '', 'grid', 1, 1, 4, 1)");
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_GE(backend().schema_version(*store), 4);
  auto board = store->get_room("board");
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
  ASSERT_TRUE(store->update_room(changed, 4).has_value());
  EXPECT_EQ(store->get_room("board")->sip_video, SipVideo::kComposite);
}

INSTANTIATE_STORE_SUITE(StoreMigrations);

}  // namespace store_migrations_test
}  // namespace chorus::conference::test
