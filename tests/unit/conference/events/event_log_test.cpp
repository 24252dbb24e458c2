#include "conference/events/event_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace chorus::conference {
namespace event_log_test {

using nlohmann::json;

TEST(EventLog, AssignsMonotonicIdsFromOne) {
  EventLog log;
  EXPECT_EQ(log.last_id(), 0u);
  const Event first = log.publish(event_type::kRoomCreated, json{{"room_id", "1000"}});
  const Event second = log.publish(event_type::kParticipantJoined, json{{"room_id", "1000"}, {"participant", "p1"}});
  EXPECT_EQ(first.id, 1u);
  EXPECT_EQ(second.id, 2u);
  EXPECT_EQ(second.type, "participant.joined");
  EXPECT_EQ(log.last_id(), 2u);
  EXPECT_LE(first.at, second.at);
}

TEST(EventLog, ContinuesFromFirstId) {
  EventLog log(10, 500);
  EXPECT_EQ(log.last_id(), 499u);
  EXPECT_EQ(log.publish(event_type::kRoomUpdated, json::object()).id, 500u);
  // A fresh client (Last-Event-ID absent = 0) gets what is here without a loss flag.
  const EventBatch batch = log.since(0, 10);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_FALSE(batch.lost);
}

TEST(EventLog, SinceReturnsEventsAfterTheGivenIdUpToMax) {
  EventLog log;
  for (int i = 0; i < 5; ++i) log.publish(event_type::kParticipantTalkingStarted, json{{"n", i}});
  EventBatch batch = log.since(2, 100);
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events[0].id, 3u);
  EXPECT_EQ(batch.events[2].id, 5u);
  EXPECT_EQ(batch.events[0].data["n"], 2);
  EXPECT_FALSE(batch.lost);

  batch = log.since(0, 2);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[1].id, 2u);
  EXPECT_TRUE(log.since(5, 100).events.empty());
  EXPECT_TRUE(log.since(1, 0).events.empty());
}

// The ring keeps each event's data as JSON text: what since() gives back is the same data (numbers,
// nesting, null), and a string that was not UTF-8 comes back with U+FFFD, as SSE would have sent it.
TEST(EventLog, SinceGivesBackTheDataThatWasPublished) {
  EventLog log;
  const json data{{"room_id", "1000"},
                  {"count", 3},
                  {"level", -0.25},
                  {"nested", {{"list", {1, "two", nullptr}}}},
                  {"display", std::string("Ann \xff")}};
  const Event live = log.publish(event_type::kParticipantJoined, data);
  EXPECT_EQ(live.data, data);  // subscribers and publish() get it untouched
  const auto batch = log.since(0, 10);
  ASSERT_EQ(batch.events.size(), 1u);
  const Event& kept = batch.events[0];
  EXPECT_EQ(kept.id, live.id);
  EXPECT_EQ(kept.type, "participant.joined");
  EXPECT_EQ(kept.at, live.at);
  EXPECT_EQ(kept.data["count"], 3);
  EXPECT_EQ(kept.data["level"], -0.25);
  EXPECT_EQ(kept.data["nested"], data["nested"]);
  EXPECT_EQ(kept.data["display"], "Ann \xef\xbf\xbd");
  EXPECT_EQ(format_sse(kept), format_sse(live));
}

TEST(EventLog, RingDropsOldestAndFlagsLostEvents) {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) log.publish(event_type::kParticipantMuted, json{{"n", i}});
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.dropped(), 2u);

  EventBatch batch = log.since(0, 100);  // ids 1 and 2 are gone
  EXPECT_TRUE(batch.lost);
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events.front().id, 3u);
  EXPECT_EQ(batch.events.back().id, 5u);

  batch = log.since(1, 100);  // id 2 is gone
  EXPECT_TRUE(batch.lost);
  EXPECT_EQ(batch.events.front().id, 3u);

  batch = log.since(2, 100);  // exactly at the edge: nothing lost
  EXPECT_FALSE(batch.lost);
  EXPECT_EQ(batch.events.size(), 3u);
}

// Issue 12: the log is bounded by age as well as by count; the newest event always stays.
TEST(EventLog, PruneDropsEventsOlderThanMaxAgeButKeepsTheNewest) {
  EventLog log(100, 1, std::chrono::seconds(60));
  for (int i = 0; i < 3; ++i) log.publish(event_type::kRoomUpdated, json{{"n", i}});
  const auto published = log.since(0, 10).events.back().at;
  EXPECT_EQ(log.prune(published + std::chrono::seconds(59)), 0u);  // not yet too old
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.prune(published + std::chrono::seconds(61)), 2u);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.dropped(), 2u);
  const EventBatch batch = log.since(0, 10);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].id, 3u);
  EXPECT_TRUE(log.since(1, 10).lost);  // a client at id 1 missed id 2
}

TEST(EventLog, ZeroMaxAgeNeverPrunesByAge) {
  EventLog log(100, 1, std::chrono::seconds(0));
  log.publish(event_type::kRoomUpdated, json::object());
  log.publish(event_type::kRoomUpdated, json::object());
  EXPECT_EQ(log.prune(std::chrono::system_clock::now() + std::chrono::hours(24 * 365)), 0u);
  EXPECT_EQ(log.size(), 2u);
}

TEST(EventLog, IdAheadOfTheLogIsFlaggedLost) {
  EventLog log;
  log.publish(event_type::kRoomCreated, json::object());
  const EventBatch batch = log.since(9'999, 100);  // Last-Event-ID from an earlier run
  EXPECT_TRUE(batch.lost);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].id, 1u);
}

TEST(EventLog, SubscribersGetEachPublishedEventUntilUnsubscribed) {
  EventLog log;
  std::vector<std::uint64_t> seen;
  EventLog::Subscription subscription = log.subscribe([&](const Event& e) { seen.push_back(e.id); });
  EXPECT_TRUE(subscription.active());
  log.publish(event_type::kConferenceStarted, json::object());
  log.publish(event_type::kConferenceLocked, json::object());
  subscription.reset();
  EXPECT_FALSE(subscription.active());
  log.publish(event_type::kConferenceEnded, json::object());
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
}

TEST(EventLog, SubscriptionEndsWhenDestroyedAndMayOutliveTheLog) {
  std::atomic<int> calls{0};
  EventLog::Subscription outliving;
  {
    EventLog log;
    {
      const EventLog::Subscription scoped = log.subscribe([&](const Event&) { ++calls; });
      log.publish(event_type::kRoomCreated, json::object());
    }
    log.publish(event_type::kRoomDeleted, json::object());
    EXPECT_EQ(calls.load(), 1);
    outliving = log.subscribe([&](const Event&) { ++calls; });
  }
  outliving.reset();  // the log is gone: must not touch it
  EXPECT_EQ(calls.load(), 1);
}

TEST(EventLog, CallbackMayUnsubscribeItselfAndReadTheLog) {
  EventLog log;
  EventLog::Subscription subscription;
  std::vector<std::size_t> backlog_sizes;
  subscription = log.subscribe([&](const Event& e) {
    backlog_sizes.push_back(log.since(0, 100).events.size());  // the log's lock is not held
    if (e.id == 2) subscription.reset();
  });
  for (int i = 0; i < 4; ++i) log.publish(event_type::kParticipantLeft, json::object());
  EXPECT_EQ(backlog_sizes, (std::vector<std::size_t>{1, 2}));
}

TEST(EventLog, UnsubscribeFromAnotherThreadWaitsForTheCallInFlight) {
  EventLog log;
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  std::atomic<bool> returned{false};
  std::atomic<int> calls{0};
  EventLog::Subscription subscription = log.subscribe([&](const Event&) {
    ++calls;
    entered = true;
    for (int i = 0; i < 5000 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    returned = true;
  });
  std::thread publisher([&] { log.publish(event_type::kParticipantJoined, json::object()); });
  for (int i = 0; i < 5000 && !entered; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(entered.load());
  std::atomic<bool> returned_before_reset_ended{false};
  std::thread unsubscriber([&] {
    subscription.reset();
    returned_before_reset_ended = returned.load();
  });
  release = true;
  unsubscriber.join();
  EXPECT_TRUE(returned_before_reset_ended.load());  // reset() returned only after the callback did
  publisher.join();
  log.publish(event_type::kParticipantJoined, json::object());
  EXPECT_EQ(calls.load(), 1);
}

TEST(EventLog, ConcurrentReadersSeeContiguousIds) {
  EventLog log(64);
  std::atomic<bool> done{false};
  std::atomic<bool> gap{false};
  std::thread reader([&] {
    while (!done) {
      const EventBatch batch = log.since(0, 1000);
      for (std::size_t i = 1; i < batch.events.size(); ++i) {
        if (batch.events[i].id != batch.events[i - 1].id + 1) gap = true;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) log.publish(event_type::kParticipantTalkingStopped, json{{"n", i}});
  done = true;
  reader.join();
  EXPECT_FALSE(gap.load());
  EXPECT_EQ(log.last_id(), 2000u);
}

TEST(EventLog, FormatsServerSentEvent) {
  Event event{.id = 42,
              .type = std::string(event_type::kParticipantJoined),
              .at = std::chrono::system_clock::time_point{std::chrono::seconds{1'795'683'600}},
              .data = json{{"room_id", "1000"}, {"display_name", "line\nbreak"}}};
  EXPECT_EQ(format_sse(event),
            "id: 42\n"
            "event: participant.joined\n"
            "data: {\"data\":{\"display_name\":\"line\\nbreak\",\"room_id\":\"1000\"},\"id\":42,"
            "\"timestamp\":\"2026-11-26T09:00:00Z\",\"type\":\"participant.joined\"}\n\n");
}

TEST(EventLog, SseTypeCannotBreakTheFrame) {
  Event event{.id = 1, .type = "x\r\nid: 99", .at = {}, .data = json::object()};
  const std::string text = format_sse(event);
  EXPECT_EQ(text.substr(0, 22), "id: 1\nevent: x  id: 99");
}

TEST(EventLog, ARelayedEventKeepsItsNodeAndALocalOneHasNone) {
  EventLog log;
  log.publish("participant.joined", json{{"room_id", "1000"}});
  log.publish("participant.joined", json{{"room_id", "2000"}}, "node-a");  // issue 14: another node's
  const auto batch = log.since(0, 10);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].node, "");
  EXPECT_FALSE(event_to_json(batch.events[0]).contains("node")) << "a single node's events are unchanged";
  EXPECT_EQ(batch.events[1].node, "node-a");
  EXPECT_EQ(event_to_json(batch.events[1])["node"], "node-a");
  EXPECT_EQ(batch.events[1].data["room_id"], "2000");
}

TEST(EventTypes, KnowsTheTwentyFiveNames) {
  EXPECT_EQ(std::size(event_type::kAll), 25u);
  EXPECT_TRUE(event_type::is_known("trunk.registration_changed"));
  EXPECT_TRUE(event_type::is_known("chat.message"));
  EXPECT_TRUE(event_type::is_known("recording.started"));
  EXPECT_TRUE(event_type::is_known("recording.stopped"));
  EXPECT_TRUE(event_type::is_known("recording.failed"));
  EXPECT_TRUE(event_type::is_known("security.pin_lockout"));
  EXPECT_TRUE(event_type::is_known("video.slots_changed"));
  EXPECT_TRUE(event_type::is_known("participant.dial_failed"));
  EXPECT_TRUE(event_type::is_known("meeting.deleted"));
  EXPECT_TRUE(event_type::is_known("participant.talking_started"));
  EXPECT_FALSE(event_type::is_known("participant.exploded"));
}

}  // namespace event_log_test
}  // namespace chorus::conference
