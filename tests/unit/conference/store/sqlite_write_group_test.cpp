// The SQLite store's write group (issue 13, group commit): several writes in one transaction, each a
// savepoint in it. What REST's group commit relies on: nothing is visible — so nothing is durable —
// before commit(), a write that fails inside the group undoes only itself, and a group dropped
// uncommitted leaves the file as it was.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace sqlite_write_group_test {

class SqliteWriteGroup : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  }

  // What another connection to the same file sees: only committed transactions.
  std::vector<std::string> committed_meeting_ids() {
    auto other = SqliteStore::open(db_path());
    EXPECT_TRUE(other.has_value()) << other.error();
    std::vector<std::string> ids;
    if (!other) return ids;
    auto meetings = (*other)->list_meetings("", 100, std::nullopt);
    EXPECT_TRUE(meetings.has_value()) << meetings.error().message;
    if (meetings) {
      for (const auto& meeting : *meetings) ids.push_back(meeting.id);
    }
    return ids;
  }
};

TEST_F(SqliteWriteGroup, WritesAreInvisibleToOtherConnectionsUntilTheGroupCommits) {
  auto group = store().begin_write_group();
  ASSERT_NE(group, nullptr);
  for (const char* id : {"m1", "m2", "m3"}) {
    auto created = store().create_meeting(sample_meeting(id, "sales"));
    ASSERT_TRUE(created.has_value()) << created.error().message;
    EXPECT_EQ(created->version, 1u);
  }
  // The group's own connection reads its writes; nobody else does yet.
  EXPECT_TRUE(store().get_meeting("m2").has_value());
  EXPECT_TRUE(committed_meeting_ids().empty());

  ASSERT_TRUE(group->commit().has_value());
  EXPECT_EQ(committed_meeting_ids(), (std::vector<std::string>{"m1", "m2", "m3"}));
  reopen();  // and they are in the file
  EXPECT_TRUE(store().get_meeting("m3").has_value());
}

TEST_F(SqliteWriteGroup, AFailedWriteUndoesOnlyItself) {
  auto group = store().begin_write_group();
  ASSERT_NE(group, nullptr);
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  const auto duplicate = store().create_meeting(sample_meeting("m1", "sales"));
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().kind, StoreErrorKind::kConflict);
  const auto no_room = store().create_meeting(sample_meeting("m2", "no-such-room"));
  ASSERT_FALSE(no_room.has_value());
  EXPECT_EQ(no_room.error().kind, StoreErrorKind::kNotFound);
  // An update over a stale version fails after its own check; the meeting keeps version 1.
  auto stale = sample_meeting("m1", "sales");
  stale.title = "stale";
  ASSERT_FALSE(store().update_meeting(stale, 7).has_value());
  ASSERT_TRUE(store().create_meeting(sample_meeting("m3", "sales")).has_value());

  ASSERT_TRUE(group->commit().has_value());
  EXPECT_EQ(committed_meeting_ids(), (std::vector<std::string>{"m1", "m3"}));
  const auto m1 = store().get_meeting("m1");
  ASSERT_TRUE(m1.has_value());
  EXPECT_EQ(m1->version, 1u);
  EXPECT_EQ(m1->title, sample_meeting("m1", "sales").title);
}

TEST_F(SqliteWriteGroup, AGroupDroppedUncommittedRollsEverythingBack) {
  {
    auto group = store().begin_write_group();
    ASSERT_NE(group, nullptr);
    ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
    ASSERT_TRUE(store().delete_room("sales").has_value());
  }
  EXPECT_TRUE(store().get_room("sales").has_value());
  EXPECT_FALSE(store().get_meeting("m1").has_value());
  // The connection is usable, with writes committing on their own again.
  ASSERT_TRUE(store().create_meeting(sample_meeting("m2", "sales")).has_value());
  EXPECT_EQ(committed_meeting_ids(), (std::vector<std::string>{"m2"}));
}

TEST_F(SqliteWriteGroup, OneGroupAtATime) {
  auto first = store().begin_write_group();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(store().begin_write_group(), nullptr);
  ASSERT_TRUE(first->commit().has_value());
  auto second = store().begin_write_group();
  EXPECT_NE(second, nullptr);
}

}  // namespace sqlite_write_group_test
}  // namespace chorus::conference::test
