// What only the SQLite store has: a file (WAL journal, corruption, a missing directory). The
// behaviour both backends share is tested on both (store_*_test.cpp, store_migrations_test.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "conference/store/sqlite_connection.hpp"
#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace sqlite_store_open_test {

using sqlite::Connection;

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

}  // namespace sqlite_store_open_test
}  // namespace chorus::conference::test
