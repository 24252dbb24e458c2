// WebhookFanout end to end: an event published on the EventLog reaches a local HTTP receiver as a
// signed POST (verified with the webhook's secret) for each webhook that wants its type, and the
// StoreDeliveryRecorder logs each delivery in the store (one row, its last attempt).
#include "rest-api/webhooks/webhook_signature.hpp"
#include "tests/unit/rest-api/api/webhook_api_fixture.hpp"

namespace chorus::rest::test {
namespace webhook_fanout_test {

using WebhookFanoutTest = WebhookApiTest;
namespace event_type = conference::event_type;

TEST_F(WebhookFanoutTest, PublishedEventArrivesSignedAndIsLogged) {
  WebhookReceiver receiver;
  const auto webhook = create_webhook(receiver.url(), {std::string(event_type::kParticipantJoined)});
  const std::string id = webhook["id"];
  const std::string secret = webhook["secret"];

  const auto event = events_.publish(event_type::kParticipantJoined, {{"room_id", "1000"}, {"participant_id", 4}});
  EXPECT_EQ(fanout_.enqueued(), 1U);
  ASSERT_TRUE(pump_until([&] { return !receiver.posts().empty(); }));
  const auto post = receiver.posts().front();
  EXPECT_EQ(post.target, "/hooks");
  EXPECT_EQ(post.webhook_id, "evt_" + std::to_string(event.id));
  const auto verified =
      verify_signature(secret, post.webhook_id, post.webhook_timestamp, post.body, post.webhook_signature);
  EXPECT_TRUE(verified.has_value()) << to_string(verified.error());
  EXPECT_FALSE(verify_signature(generate_webhook_secret(), post.webhook_id, post.webhook_timestamp, post.body,
                                post.webhook_signature)
                   .has_value());
  EXPECT_EQ(nlohmann::json::parse(post.body), conference::event_to_json(event));

  ASSERT_TRUE(pump_until([&] {
    const auto items = deliveries(id)["items"];
    return items.size() == 1 && items[0]["status"] == "delivered";
  }));
  const auto row = deliveries(id)["items"][0];
  EXPECT_EQ(row["event_id"], event.id);
  EXPECT_EQ(row["attempt"], 1);
  EXPECT_EQ(row["http_status"], 200);
}

TEST_F(WebhookFanoutTest, ARetriedDeliveryIsOneRowWithItsLastAttempt) {
  WebhookReceiver receiver({503, 200});
  const std::string id = create_webhook(receiver.url(), {"*"})["id"];
  const auto event = events_.publish(event_type::kRoomCreated, {{"room_id", "2000"}});

  ASSERT_TRUE(pump_until([&] {
    const auto items = deliveries(id)["items"];
    return items.size() == 1 && items[0]["status"] == "delivered";
  }));
  EXPECT_EQ(receiver.posts().size(), 2U);
  const auto items = deliveries(id)["items"];
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0]["event_id"], event.id);
  EXPECT_EQ(items[0]["attempt"], 2);
  EXPECT_EQ(items[0]["http_status"], 200);
}

TEST_F(WebhookFanoutTest, OnlyWebhooksThatWantTheTypeGetIt) {
  WebhookReceiver rooms_receiver;
  WebhookReceiver all_receiver;
  const std::string rooms_id = create_webhook(rooms_receiver.url(), {std::string(event_type::kRoomCreated)})["id"];
  create_webhook(all_receiver.url(), {"*"});

  events_.publish(event_type::kParticipantJoined, {{"room_id", "1000"}});
  events_.publish(event_type::kRoomCreated, {{"room_id", "3000"}});
  EXPECT_EQ(fanout_.enqueued(), 3U);  // joined → all; created → both
  ASSERT_TRUE(pump_until([&] { return all_receiver.posts().size() == 2 && rooms_receiver.posts().size() == 1; }));
  EXPECT_EQ(nlohmann::json::parse(rooms_receiver.posts()[0].body)["type"], event_type::kRoomCreated);

  // Deleted: the cached list follows, so the next event is not sent there.
  ASSERT_EQ(call(http::verb::delete_, "/v1/webhooks/" + rooms_id).status(), 204U);
  events_.publish(event_type::kRoomCreated, {{"room_id", "3001"}});
  EXPECT_EQ(fanout_.enqueued(), 4U);
  ASSERT_TRUE(pump_until([&] { return all_receiver.posts().size() == 3; }));
  EXPECT_EQ(rooms_receiver.posts().size(), 1U);
  EXPECT_EQ(fanout_.refused(), 0U);
}

TEST_F(WebhookFanoutTest, AnotherNodesRelayedEventIsLeftToThatNode) {
  // Issue 14: each node delivers its own events; one relayed here for the event stream is not sent.
  WebhookReceiver receiver;
  create_webhook(receiver.url(), {"*"});
  events_.publish(event_type::kParticipantJoined, {{"room_id", "1000"}}, "node-a");
  EXPECT_EQ(fanout_.enqueued(), 0U);
  events_.publish(event_type::kParticipantJoined, {{"room_id", "2000"}});
  EXPECT_EQ(fanout_.enqueued(), 1U);
  ASSERT_TRUE(pump_until([&] { return receiver.posts().size() == 1; }));
  EXPECT_EQ(nlohmann::json::parse(receiver.posts()[0].body)["data"]["room_id"], "2000");
}

TEST_F(WebhookFanoutTest, LoadsStoredWebhooksAtStart) {
  ASSERT_TRUE(store_
                  ->create_webhook({.id = "wh_stored",
                                    .url = "http://127.0.0.1:9/",
                                    .event_types = {"*"},
                                    .secret = std::string(generate_webhook_secret()),
                                    .created_at = services_.now()})
                  .has_value());
  EXPECT_EQ(fanout_.webhook_count(), 0U);  // created behind its back
  WebhookFanout restarted(*store_, events_, dispatcher_);
  EXPECT_EQ(restarted.webhook_count(), 1U);
}

}  // namespace webhook_fanout_test
}  // namespace chorus::rest::test
