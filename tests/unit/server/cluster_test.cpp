// Issue 14, chorusd's side of a cluster: the node settings (--node-id, --node-sip-address,
// --node-http-url, --placement-lease-s) and when they make a cluster; another node's writes brought
// into this node's views (cluster_views.hpp), read back from a store both "nodes" share.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "conference/store/sqlite_store.hpp"
#include "server/cluster_host.hpp"
#include "server/cluster_views.hpp"
#include "server/config.hpp"
#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::server {
namespace cluster_test {

using conference::cluster::StoreChange;
using conference::cluster::StoreKind;
using conference::cluster::StoreOp;
using ::testing::HasSubstr;

std::expected<LoadResult, std::string> load(std::vector<std::string> flags) {
  std::vector<const char*> argv{"chorusd"};
  for (const std::string& flag : flags) argv.push_back(flag.c_str());
  return load_config(argv, {});
}

TEST(ClusterSettings, SqliteMakesNoClusterAndPostgresDoes) {
  auto single = load({"--node-id", "node-a"});
  ASSERT_TRUE(single) << single.error();
  EXPECT_FALSE(cluster_settings(single->config));

  auto clustered = load({"--store", "postgresql://u:p@db/chorus", "--node-id", "node-a", "--node-sip-address",
                         "10.0.0.7:5070", "--node-http-url", "http://10.0.0.7:8081/", "--placement-lease-s", "15"});
  ASSERT_TRUE(clustered) << clustered.error();
  const auto settings = cluster_settings(clustered->config);
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->node_id, "node-a");
  EXPECT_EQ(settings->sip_address, "10.0.0.7:5070");
  EXPECT_EQ(settings->http_url, "http://10.0.0.7:8081");  // no trailing '/': paths are appended to it
  EXPECT_EQ(settings->lease, std::chrono::seconds(15));
}

TEST(ClusterSettings, DefaultsAreTheHostNameAndTheListeners) {
  auto loaded = load({});
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->config.node_id, default_node_id());
  EXPECT_FALSE(loaded->config.node_id.empty());
  EXPECT_EQ(loaded->config.node_sip_address, "");
  EXPECT_EQ(loaded->config.node_http_url, "");
  EXPECT_EQ(loaded->config.placement_lease_s, std::chrono::seconds(10));
  EXPECT_THAT(render_config(*loaded), HasSubstr("\nplacement_lease_s = 10  (default)\n"));
}

TEST(ClusterSettings, BadValuesAreRefusedNamingTheSetting) {
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--node-id", ""},
                                                {"--node-id", "has space"},
                                                {"--node-id", std::string(65, 'n')},
                                                {"--node-sip-address", "10.0.0.7"},
                                                {"--node-sip-address", "10.0.0.7:0"},
                                                {"--node-sip-address", "10.0.0.7:70000"},
                                                {"--node-sip-address", "bad host:5060"},
                                                {"--node-sip-address", "[nothex]:5060"},
                                                {"--node-http-url", "10.0.0.7:8080"},
                                                {"--node-http-url", "http://"},
                                                {"--node-http-url", "http://h:1/path"},
                                                {"--node-http-url", "ftp://h"},
                                                {"--placement-lease-s", "3"},
                                                {"--placement-lease-s", "301"}}) {
    auto loaded = load(flags);
    ASSERT_FALSE(loaded) << flags[0] << " " << flags[1];
    EXPECT_THAT(loaded.error(), HasSubstr(flags[0])) << loaded.error();
  }
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--node-sip-address", "[2001:db8::7]:5060"},
                                                {"--node-sip-address", "sip1.example.net:5060"},
                                                {"--node-http-url", "https://node-a.example.net"}}) {
    auto loaded = load(flags);
    EXPECT_TRUE(loaded) << flags[1] << ": " << loaded.error();
  }
}

// Two "nodes" on one store: node A writes through the store, node B's views follow the changes.
class ClusterViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = conference::SqliteStore::open((dir_.path() / "chorus.db").string());
    ASSERT_TRUE(opened) << opened.error();
    store_ = std::move(*opened);
  }
  conference::Room room(std::string id, std::string number) {
    conference::Room made;
    made.id = std::move(id);
    made.name = "Room " + made.id;
    made.dial_in_number = std::move(number);
    made.created_at = std::chrono::system_clock::now();
    return made;
  }
  conference::MeetingRecord meeting(std::string id, std::string room_id) {
    const auto now = std::chrono::system_clock::now();
    return {.id = std::move(id),
            .room_id = std::move(room_id),
            .title = "standup",
            .start = now - std::chrono::minutes(5),
            .end = now + std::chrono::minutes(30),
            .timezone = "UTC",
            .created_at = now,
            .updated_at = now};
  }
  ViewUpdate apply(StoreKind kind, std::string id, StoreOp op) {
    return apply_store_change(*store_, rooms_, calendar_, StoreChange{kind, std::move(id), op});
  }

  chorus::test::TempDir dir_;
  std::unique_ptr<conference::SqliteStore> store_;
  conference::RoomDirectory rooms_;  // node B's
  conference::MeetingCalendar calendar_;
};

TEST_F(ClusterViewsTest, RoomsAndMeetingsWrittenElsewhereAreReadBackIntoTheViews) {
  ASSERT_TRUE(store_->create_room(room("shared", "4242")));
  EXPECT_EQ(apply(StoreKind::kRoom, "shared", StoreOp::kUpsert), ViewUpdate::kApplied);
  ASSERT_NE(rooms_.find_by_dial_string("4242"), nullptr);
  EXPECT_EQ(rooms_.find("shared")->name, "Room shared");

  ASSERT_TRUE(store_->create_meeting(meeting("m1", "shared")));
  EXPECT_EQ(apply(StoreKind::kMeeting, "m1", StoreOp::kUpsert), ViewUpdate::kApplied);
  EXPECT_TRUE(calendar_.has_meetings("shared"));
  EXPECT_TRUE(calendar_.open_window("shared", std::chrono::system_clock::now()));

  auto cancelled = meeting("m1", "shared");
  cancelled.cancelled = true;
  ASSERT_TRUE(store_->update_meeting(cancelled, 1));
  EXPECT_EQ(apply(StoreKind::kMeeting, "m1", StoreOp::kUpsert), ViewUpdate::kApplied);
  EXPECT_FALSE(calendar_.has_meetings("shared")) << "a cancelled meeting admits nobody";

  ASSERT_TRUE(store_->create_meeting(meeting("m2", "shared")));
  EXPECT_EQ(apply(StoreKind::kMeeting, "m2", StoreOp::kUpsert), ViewUpdate::kApplied);
  ASSERT_TRUE(store_->delete_meeting("m2"));
  EXPECT_EQ(apply(StoreKind::kMeeting, "m2", StoreOp::kDelete), ViewUpdate::kApplied);
  EXPECT_FALSE(calendar_.has_meetings("shared"));

  ASSERT_TRUE(store_->create_meeting(meeting("m3", "shared")));
  EXPECT_EQ(apply(StoreKind::kMeeting, "m3", StoreOp::kUpsert), ViewUpdate::kApplied);
  ASSERT_TRUE(store_->delete_room("shared"));  // its meetings go with it
  EXPECT_EQ(apply(StoreKind::kRoom, "shared", StoreOp::kDelete), ViewUpdate::kApplied);
  EXPECT_EQ(rooms_.find("shared"), nullptr);
  EXPECT_FALSE(calendar_.has_meetings("shared"));
}

TEST_F(ClusterViewsTest, ARoomNumberStillHeldByAStaleRoomAsksForAReload) {
  ASSERT_TRUE(store_->create_room(room("one", "100")));
  ASSERT_TRUE(store_->create_room(room("two", "200")));
  ASSERT_TRUE(reload_views(*store_, rooms_, calendar_));
  // Elsewhere the numbers are swapped; only "one"'s change has arrived so far.
  auto one = room("one", "300");
  ASSERT_TRUE(store_->update_room(one, 1));
  auto two = room("two", "100");
  ASSERT_TRUE(store_->update_room(two, 1));
  one.dial_in_number = "200";
  ASSERT_TRUE(store_->update_room(one, 2));
  EXPECT_EQ(apply(StoreKind::kRoom, "one", StoreOp::kUpsert), ViewUpdate::kNeedsReload);
  ASSERT_TRUE(reload_views(*store_, rooms_, calendar_));
  EXPECT_EQ(rooms_.find_by_dial_string("200")->id, "one");
  EXPECT_EQ(rooms_.find_by_dial_string("100")->id, "two");
}

TEST_F(ClusterViewsTest, AReloadDropsRoomsTheStoreNoLongerHasAndRebuildsTheCalendar) {
  ASSERT_TRUE(store_->create_room(room("kept", "")));
  ASSERT_TRUE(store_->create_meeting(meeting("m1", "kept")));
  rooms_.add(room("gone", "999"));  // deleted elsewhere, its notification missed
  calendar_.put(conference::Meeting{.id = "stale", .room_id = "gone"});
  ASSERT_TRUE(reload_views(*store_, rooms_, calendar_));
  EXPECT_EQ(rooms_.find("gone"), nullptr);
  EXPECT_EQ(rooms_.find_by_dial_string("999"), nullptr);
  ASSERT_NE(rooms_.find("kept"), nullptr);
  EXPECT_TRUE(calendar_.has_meetings("kept"));
  EXPECT_FALSE(calendar_.has_meetings("gone"));
  EXPECT_EQ(calendar_.size(), 1U);
}

}  // namespace cluster_test
}  // namespace chorus::server
