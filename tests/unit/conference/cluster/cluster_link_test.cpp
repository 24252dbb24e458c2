// Two nodes' cluster links on one throw-away PostgreSQL database (issue 14): NOTIFY round trips of
// an event and of a store change, a big event truncated, the heartbeat's row and lease renewal, a
// notification flood that stays bounded, and the resync after the LISTEN session is lost. Every
// wait is bounded and polls; nothing depends on timing to pass.
#include "conference/cluster/cluster_link.hpp"

#include <gtest/gtest.h>

#include "conference/cluster/event_bridge.hpp"
#include "conference/cluster/notify_codec.hpp"
#include "conference/cluster/notifying_store.hpp"
#include "conference/cluster/placement_table.hpp"
#include "conference/store/postgres_store.hpp"
#include "tests/unit/conference/cluster/cluster_test_support.hpp"

namespace chorus::conference::cluster {
namespace cluster_link_test {

using test::ClusterDatabaseTest;
using test::TestLoop;

// One node: its link, its loop, what reached its handlers.
struct Node {
  TestLoop loop;
  std::vector<PgNotification> received;
  std::vector<std::vector<std::string>> not_renewed;
  int resyncs = 0;
  std::unique_ptr<ClusterLink> link;

  Node(const pg::PgSettings& database, const std::string& id, std::size_t max_incoming = 1024) {
    LinkSettings settings{.database = database,
                          .node_id = id,
                          .channels = {std::string(kEventsChannel), std::string(kStoreChannel)},
                          .heartbeat = std::chrono::milliseconds(200),
                          .lease = std::chrono::seconds(10),
                          .retry_delay = std::chrono::milliseconds(100),
                          .max_incoming = max_incoming};
    link = std::make_unique<ClusterLink>(
        settings,
        ClusterLink::Handlers{
            .post = loop.poster(),
            .on_notification = [this](const PgNotification& n) { received.push_back(n); },
            .on_not_renewed = [this](std::vector<std::string> rooms) { not_renewed.push_back(std::move(rooms)); },
            .on_resync = [this] { ++resyncs; }});
    link->start();
  }
  ~Node() { link->stop(); }
  // Listening: the first resync comes once the LISTEN session is open.
  bool wait_listening() {
    return loop.run_until([this] { return resyncs > 0; });
  }
};

class ClusterLinkTest : public ClusterDatabaseTest {};

TEST_F(ClusterLinkTest, AnEventNotifiedByOneNodeReachesTheOtherAndNotItself) {
  Node a(settings(), "node-a");
  Node b(settings(), "node-b");
  ASSERT_TRUE(a.wait_listening());
  ASSERT_TRUE(b.wait_listening());
  const Event event{.id = 1, .type = "participant.joined", .at = {}, .data = {{"conference_id", "1000"}}, .node = {}};
  ASSERT_TRUE(a.link->notify(std::string(kEventsChannel), encode_event("node-a", event).payload));
  ASSERT_TRUE(b.loop.run_until([&] { return !b.received.empty(); }));
  EXPECT_EQ(b.received[0].channel, kEventsChannel);
  const auto decoded = decode_event(b.received[0].payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->node, "node-a");
  EXPECT_EQ(decoded->data["conference_id"], "1000");
  // A sees nothing of its own: a second notification from B is the first thing A receives.
  ASSERT_TRUE(b.link->notify(std::string(kStoreChannel), "{}"));
  ASSERT_TRUE(a.loop.run_until([&] { return !a.received.empty(); }));
  EXPECT_EQ(a.received.size(), 1U);
  EXPECT_EQ(a.received[0].channel, kStoreChannel);
  EXPECT_EQ(a.link->counters().sent, 1U);
}

TEST_F(ClusterLinkTest, ARoomWrittenOnOneNodeIsNotifiedAndReadableOnTheOther) {
  Node a(settings(), "node-a");
  Node b(settings(), "node-b");
  ASSERT_TRUE(a.wait_listening());
  ASSERT_TRUE(b.wait_listening());
  auto store_a = PostgresStore::open(settings());
  auto store_b = PostgresStore::open(settings());
  ASSERT_TRUE(store_a && store_b);
  NotifyingStore notifying(std::move(*store_a), [&](const StoreChange& change) {
    a.link->notify(std::string(kStoreChannel), encode_store_change(change));
  });
  Room room;
  room.id = "shared";
  room.name = "Shared room";
  room.dial_in_number = "4242";
  ASSERT_TRUE(notifying.create_room(room));
  ASSERT_FALSE(notifying.create_room(room));  // a conflict writes nothing and tells nobody
  ASSERT_TRUE(notifying.delete_room("shared"));
  ASSERT_TRUE(b.loop.run_until([&] { return b.received.size() >= 2; }));
  auto first = decode_store_change(b.received[0].payload);
  auto second = decode_store_change(b.received[1].payload);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, (StoreChange{StoreKind::kRoom, "shared", StoreOp::kUpsert}));
  EXPECT_EQ(*second, (StoreChange{StoreKind::kRoom, "shared", StoreOp::kDelete}));
  EXPECT_EQ((*store_b)->get_room("shared").error().kind, StoreErrorKind::kNotFound);
  b.loop.run_until([] { return false; }, std::chrono::milliseconds(300));
  EXPECT_EQ(b.received.size(), 2U) << "the refused create is not notified";
}

TEST_F(ClusterLinkTest, EventBridgesRelayEventsBetweenLogsAndTruncateABigOne) {
  Node a(settings(), "node-a");
  Node b(settings(), "node-b");
  ASSERT_TRUE(a.wait_listening());
  ASSERT_TRUE(b.wait_listening());
  EventLog log_a;
  EventLog log_b;
  EventBridge bridge_a(log_a, "node-a", [&](std::string payload) {
    return a.link->notify(std::string(kEventsChannel), std::move(payload));
  });
  EventBridge bridge_b(log_b, "node-b", [&](std::string payload) {
    return b.link->notify(std::string(kEventsChannel), std::move(payload));
  });
  log_a.publish(event_type::kParticipantJoined, {{"conference_id", "1000"}, {"display_name", "Ann"}});
  log_a.publish(event_type::kParticipantLeft, {{"conference_id", "1000"}, {"blob", std::string(9000, 'x')}});
  ASSERT_TRUE(b.loop.run_until([&] { return b.received.size() >= 2; }));
  for (const auto& n : b.received) bridge_b.on_payload(n.payload);
  const auto relayed = log_b.since(0, 10).events;
  ASSERT_EQ(relayed.size(), 2U);
  EXPECT_EQ(relayed[0].type, "participant.joined");
  EXPECT_EQ(relayed[0].node, "node-a");
  EXPECT_EQ(relayed[0].data["display_name"], "Ann");
  EXPECT_EQ(event_to_json(relayed[0])["node"], "node-a");
  EXPECT_EQ(relayed[1].type, "participant.left");
  EXPECT_EQ(relayed[1].data, (nlohmann::json{{"truncated", true}}));
  EXPECT_EQ(bridge_a.counters().sent, 2U);
  EXPECT_EQ(bridge_a.counters().truncated, 1U);
  EXPECT_EQ(bridge_b.counters().relayed, 2U);
  // What B relayed is not sent on (A would get its own events back).
  b.loop.run_until([] { return false; }, std::chrono::milliseconds(300));
  a.loop.run_ready();
  EXPECT_EQ(bridge_b.counters().sent, 0U);
  EXPECT_TRUE(a.received.empty());
}

TEST_F(ClusterLinkTest, HeartbeatWritesTheNodeRowAndReportsLeasesItCouldNotRenew) {
  Node a(settings(), "node-a");
  auto db = connect();
  ASSERT_TRUE(db);
  PlacementTable table(*db, "node-a", std::chrono::seconds(10));
  ASSERT_TRUE(table.claim("r1"));
  exec("UPDATE chorus_placements SET lease_until = now() + interval '1 second'");
  a.link->set_state(
      {.node = {"node-a", "127.0.0.2:5060", "http://127.0.0.2:8080", true, 2}, .live_rooms = {"r1", "r9"}},
      /*urgent=*/true);
  ASSERT_TRUE(a.loop.run_until([&] { return !a.not_renewed.empty(); }));
  EXPECT_EQ(a.not_renewed[0], std::vector<std::string>{"r9"});
  EXPECT_EQ(query("SELECT draining::text || ',' || calls FROM chorus_nodes WHERE node_id = 'node-a'"), "true,2");
  EXPECT_EQ(query("SELECT lease_until - now() > interval '5 seconds' FROM chorus_placements WHERE room_id = 'r1'"),
            "t");
  EXPECT_GE(a.link->counters().heartbeats, 1U);
}

TEST_F(ClusterLinkTest, ANotificationFloodIsBoundedAndEndsInOneResync) {
  Node a(settings(), "node-a");
  Node b(settings(), "node-b", /*max_incoming=*/4);
  ASSERT_TRUE(a.wait_listening());
  ASSERT_TRUE(b.wait_listening());
  const int resyncs_before = b.resyncs;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(a.link->notify(std::string(kStoreChannel), std::to_string(i)));
  // B's loop does not run meanwhile: at most 4 wait for it, the rest are dropped and counted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (b.link->counters().received + b.link->counters().dropped_incoming < 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(b.link->counters().received, 4U);
  EXPECT_EQ(b.link->counters().dropped_incoming, 196U);
  // Once the backlog is handled, B is asked to re-read what it keeps.
  ASSERT_TRUE(b.loop.run_until([&] { return b.resyncs > resyncs_before; }));
  EXPECT_EQ(b.received.size(), 4U);
}

TEST_F(ClusterLinkTest, ALostListenSessionIsReopenedAndAsksForAResync) {
  Node b(settings(), "node-b");
  ASSERT_TRUE(b.wait_listening());
  exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'chorusd-listen' AND "
      "datname = current_database()");
  ASSERT_TRUE(b.loop.run_until([&] { return b.resyncs >= 2; }));
  Node a(settings(), "node-a");
  ASSERT_TRUE(a.link->notify(std::string(kStoreChannel), "after"));
  ASSERT_TRUE(b.loop.run_until([&] { return !b.received.empty(); }));
  EXPECT_EQ(b.received[0].payload, "after");
}

}  // namespace cluster_link_test
}  // namespace chorus::conference::cluster
