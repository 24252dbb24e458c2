// chorus_placements and chorus_nodes on a throw-away PostgreSQL (issue 14): two "nodes" are two
// tables objects with different node ids, each on a connection of its own, on one database. Lease
// expiry is made by moving lease_until into the past, never by waiting.
#include "conference/cluster/placement_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "conference/cluster/placements.hpp"
#include "tests/unit/conference/cluster/cluster_test_support.hpp"

namespace chorus::conference::cluster {
namespace placement_table_test {

using test::ClusterDatabaseTest;

class PlacementTableTest : public ClusterDatabaseTest {
 protected:
  void SetUp() override {
    ClusterDatabaseTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    db_a_ = connect();
    db_b_ = connect();
    ASSERT_TRUE(db_a_ && db_b_);
    a_.emplace(*db_a_, "node-a", std::chrono::seconds(10));
    b_.emplace(*db_b_, "node-b", std::chrono::seconds(10));
    ASSERT_TRUE(write_heartbeat(*db_a_, {"node-a", "127.0.0.2:5060", "http://127.0.0.2:8080", false, 0}));
    ASSERT_TRUE(write_heartbeat(*db_b_, {"node-b", "127.0.0.3:5060", "http://127.0.0.3:8080", false, 0}));
  }
  void expire(const std::string& room) {
    exec("UPDATE chorus_placements SET lease_until = now() - interval '1 second' WHERE room_id = '" + room + "'");
  }

  std::unique_ptr<pg::PgConnection> db_a_, db_b_;
  std::optional<PlacementTable> a_, b_;
};

TEST_F(PlacementTableTest, FirstClaimWinsAndTheOtherNodeLearnsTheHolderAddresses) {
  auto first = a_->claim("1000");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->ours);
  auto second = b_->claim("1000");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->ours);
  EXPECT_EQ(second->holder, (NodeAddress{"node-a", "127.0.0.2:5060", "http://127.0.0.2:8080"}));
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = '1000'"), "node-a");
  // The lease is now() + 10 s on the database's clock.
  EXPECT_EQ(query("SELECT (lease_until - now()) BETWEEN interval '9 seconds' AND interval '10 seconds' "
                  "FROM chorus_placements WHERE room_id = '1000'"),
            "t");
}

TEST_F(PlacementTableTest, ClaimingAgainARoomHeldAlreadyKeepsItAndRenewsTheLease) {
  ASSERT_TRUE(a_->claim("1000"));
  exec("UPDATE chorus_placements SET lease_until = now() + interval '1 second'");
  auto again = a_->claim("1000");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ours);
  EXPECT_EQ(query("SELECT lease_until - now() > interval '9 seconds' FROM chorus_placements"), "t");
}

TEST_F(PlacementTableTest, RenewExtendsOnlyThisNodesLiveRoomsAndReportsWhatItRenewed) {
  ASSERT_TRUE(a_->claim("r1"));
  ASSERT_TRUE(a_->claim("r2"));
  ASSERT_TRUE(b_->claim("r3"));
  exec("UPDATE chorus_placements SET lease_until = now() + interval '1 second'");
  auto renewed = a_->renew({"r1", "r3", "gone"});
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(*renewed, std::vector<std::string>{"r1"});
  EXPECT_EQ(query("SELECT lease_until - now() > interval '9 seconds' FROM chorus_placements WHERE room_id = 'r1'"),
            "t");
  EXPECT_EQ(query("SELECT lease_until - now() < interval '2 seconds' FROM chorus_placements WHERE room_id = 'r2'"),
            "t");
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = 'r3'"), "node-b");
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements WHERE room_id = 'gone'"), "0");  // never inserted
  auto none = a_->renew({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(PlacementTableTest, AnExpiredLeaseIsTakenOverAndTheOldHolderCannotRenewIt) {
  ASSERT_TRUE(a_->claim("1000"));
  expire("1000");
  auto holder = b_->holder("1000");
  ASSERT_TRUE(holder);
  EXPECT_FALSE(*holder) << "an expired lease holds nothing";
  auto taken = b_->claim("1000");
  ASSERT_TRUE(taken);
  EXPECT_TRUE(taken->ours);
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = '1000'"), "node-b");
  auto renewed = a_->renew({"1000"});
  ASSERT_TRUE(renewed);
  EXPECT_TRUE(renewed->empty()) << "node-a's renewal must not take the room back";
  auto back = a_->claim("1000");
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->ours);
  EXPECT_EQ(back->holder.node_id, "node-b");
}

TEST_F(PlacementTableTest, ReleaseDeletesOnlyThisNodesRowAndFreesTheRoom) {
  ASSERT_TRUE(a_->claim("1000"));
  auto not_mine = b_->release("1000");
  ASSERT_TRUE(not_mine);
  EXPECT_FALSE(*not_mine);
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "1");
  auto mine = a_->release("1000");
  ASSERT_TRUE(mine);
  EXPECT_TRUE(*mine);
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "0");
  auto claimed = b_->claim("1000");
  ASSERT_TRUE(claimed);
  EXPECT_TRUE(claimed->ours);
}

TEST_F(PlacementTableTest, ReleaseAllRemovesWhatAPreviousRunLeft) {
  ASSERT_TRUE(a_->claim("r1"));
  ASSERT_TRUE(a_->claim("r2"));
  ASSERT_TRUE(b_->claim("r3"));
  auto removed = a_->release_all();
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(query("SELECT string_agg(room_id, ',') FROM chorus_placements"), "r3");
}

TEST_F(PlacementTableTest, ConcurrentClaimsOfOneRoomHaveExactlyOneWinner) {
  constexpr int kNodes = 8;
  std::vector<std::unique_ptr<pg::PgConnection>> connections;
  for (int i = 0; i < kNodes; ++i) {
    connections.push_back(connect());
    ASSERT_TRUE(connections.back());
    ASSERT_TRUE(write_heartbeat(*connections.back(), {"n" + std::to_string(i), "h:5060", "http://h:1", false, 0}));
  }
  for (int round = 0; round < 5; ++round) {
    const std::string room = "race" + std::to_string(round);
    std::atomic<int> ours{0}, elsewhere{0}, failed{0};
    std::barrier start(kNodes);
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes; ++i)
      threads.emplace_back([&, i] {
        PlacementTable table(*connections[static_cast<std::size_t>(i)], "n" + std::to_string(i),
                             std::chrono::seconds(10));
        start.arrive_and_wait();
        auto outcome = table.claim(room);
        if (!outcome)
          ++failed;
        else if (outcome->ours)
          ++ours;
        else
          ++elsewhere;
      });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ours.load(), 1) << room;
    EXPECT_EQ(elsewhere.load(), kNodes - 1) << room;
    EXPECT_EQ(failed.load(), 0) << room;
    EXPECT_EQ(query("SELECT count(*) FROM chorus_placements WHERE room_id = '" + room + "'"), "1");
  }
}

TEST_F(PlacementTableTest, HeartbeatUpsertsTheNodeRowWithTheDrainFlagAndCalls) {
  EXPECT_EQ(query("SELECT draining FROM chorus_nodes WHERE node_id = 'node-a'"), "f");
  exec("UPDATE chorus_nodes SET heartbeat_at = now() - interval '1 minute'");
  ASSERT_TRUE(write_heartbeat(*db_a_, {"node-a", "127.0.0.2:5070", "http://127.0.0.2:8081", true, 3}));
  EXPECT_EQ(query("SELECT draining::text || ',' || calls || ',' || sip_address || ',' || http_url FROM chorus_nodes "
                  "WHERE node_id = 'node-a'"),
            "true,3,127.0.0.2:5070,http://127.0.0.2:8081");
  EXPECT_EQ(query("SELECT now() - heartbeat_at < interval '5 seconds' FROM chorus_nodes WHERE node_id = 'node-a'"),
            "t");
  EXPECT_EQ(query("SELECT draining FROM chorus_nodes WHERE node_id = 'node-b'"), "f");
  EXPECT_EQ(query("SELECT count(*) FROM chorus_nodes"), "2");
}

TEST_F(PlacementTableTest, CreatingTheTablesAgainIsHarmless) {
  ASSERT_TRUE(a_->claim("1000"));
  auto again = ensure_cluster_tables(*db_b_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "1");
}

// Placements (the control loop's side): what it holds, releases, and the REST look-up.
TEST_F(PlacementTableTest, PlacementsTrackHeldRoomsAndAnswerWhereARoomRuns) {
  Placements a(connect(), "node-a", std::chrono::seconds(10));
  Placements b(connect(), "node-b", std::chrono::seconds(10));
  EXPECT_EQ(a.claim("1000").status, ClaimStatus::kOurs);
  const auto redirected = b.claim("1000");
  EXPECT_EQ(redirected.status, ClaimStatus::kElsewhere);
  EXPECT_EQ(redirected.holder.sip_address, "127.0.0.2:5060");
  EXPECT_EQ(a.held().count("1000"), 1U);
  EXPECT_FALSE(a.elsewhere("1000")) << "its own room is not elsewhere";
  const auto there = b.elsewhere("1000");
  ASSERT_TRUE(there);
  EXPECT_EQ(there->http_url, "http://127.0.0.2:8080");
  EXPECT_FALSE(b.elsewhere("2000"));
  a.release("1000");
  EXPECT_TRUE(a.held().empty());
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "0");
  EXPECT_FALSE(b.elsewhere("1000"));
  EXPECT_EQ(a.counters().claimed, 1U);
  EXPECT_EQ(b.counters().redirected, 1U);
}

TEST_F(PlacementTableTest, PlacementsReclaimALapsedLeaseOrReportItLost) {
  Placements a(connect(), "node-a", std::chrono::seconds(10));
  Placements b(connect(), "node-b", std::chrono::seconds(10));
  ASSERT_EQ(a.claim("r1").status, ClaimStatus::kOurs);
  ASSERT_EQ(a.claim("r2").status, ClaimStatus::kOurs);
  expire("r1");
  expire("r2");
  ASSERT_EQ(b.claim("r2").status, ClaimStatus::kOurs);  // node-b took r2 over
  const auto live = [](std::string_view) { return true; };
  a.reclaim({"r1", "r2"}, live);
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = 'r1'"), "node-a");
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = 'r2'"), "node-b");
  EXPECT_EQ(a.counters().lost, 1U);
  EXPECT_EQ(a.held().count("r2"), 0U);
  a.release("r2");  // its conference ends here: node-b's row stays
  EXPECT_EQ(query("SELECT node_id FROM chorus_placements WHERE room_id = 'r2'"), "node-b");
}

TEST_F(PlacementTableTest, PlacementsReleaseEverythingHeldAtStop) {
  Placements a(connect(), "node-a", std::chrono::seconds(10));
  ASSERT_EQ(a.claim("r1").status, ClaimStatus::kOurs);
  ASSERT_EQ(a.claim("r2").status, ClaimStatus::kOurs);
  a.release_all();
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "0");
}

TEST_F(PlacementTableTest, ClaimsFailFastWhileTheDatabaseIsAwayThenTryAgain) {
  Placements patient(connect(), "node-a", std::chrono::seconds(10), std::chrono::hours(1));
  Placements eager(connect(), "node-b", std::chrono::seconds(10), std::chrono::milliseconds(0));
  // The database goes (its sessions are ended); each side's next claim cannot reconnect.
  auto& cluster = chorus::test::PgCluster::shared();
  cluster.drop_database(database_);
  EXPECT_EQ(patient.claim("1000").status, ClaimStatus::kUnavailable);
  EXPECT_EQ(eager.claim("1000").status, ClaimStatus::kUnavailable);
  ASSERT_TRUE(cluster.exec("postgres", "CREATE DATABASE " + database_));
  auto db = connect();
  ASSERT_TRUE(db);
  ASSERT_TRUE(ensure_cluster_tables(*db));
  ASSERT_TRUE(write_heartbeat(*db, {"node-a", "127.0.0.2:5060", "http://127.0.0.2:8080", false, 0}));
  // Back, but node-a backs off for an hour after losing it: it answers at once, without trying.
  const auto refused = patient.claim("1000");
  EXPECT_EQ(refused.status, ClaimStatus::kUnavailable);
  EXPECT_NE(refused.error.find("a moment ago"), std::string::npos) << refused.error;
  EXPECT_EQ(query("SELECT count(*) FROM chorus_placements"), "0");
  EXPECT_EQ(eager.claim("1000").status, ClaimStatus::kOurs);
  EXPECT_EQ(patient.counters().unavailable, 2U);
}

}  // namespace placement_table_test
}  // namespace chorus::conference::cluster
