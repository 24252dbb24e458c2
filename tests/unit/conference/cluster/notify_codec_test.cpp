// The chorus_events and chorus_store payloads (notify_codec.hpp): round trips, the 8000-byte NOTIFY
// limit, and payloads from a peer that are not what they should be.
#include "conference/cluster/notify_codec.hpp"

#include <gtest/gtest.h>

namespace chorus::conference::cluster {
namespace notify_codec_test {

using nlohmann::json;

Event joined_event() {
  return Event{.id = 42,
               .type = std::string(event_type::kParticipantJoined),
               .at = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)),
               .data = json{{"conference_id", "1000"}, {"participant_id", "7"}, {"display_name", "Ann"}},
               .node = {}};
}

TEST(NotifyCodec, EventRoundTripCarriesNodeTypeIdAndData) {
  const auto encoded = encode_event("node-a", joined_event());
  EXPECT_FALSE(encoded.truncated);
  const json wire = json::parse(encoded.payload);
  EXPECT_EQ(wire["node"], "node-a");
  EXPECT_EQ(wire["event"]["type"], "participant.joined");
  EXPECT_EQ(wire["event"]["timestamp"], "2027-01-15T08:00:00Z");
  const auto decoded = decode_event(encoded.payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->node, "node-a");
  EXPECT_EQ(decoded->id, 42U);
  EXPECT_EQ(decoded->type, "participant.joined");
  EXPECT_EQ(decoded->data, joined_event().data);
  EXPECT_FALSE(decoded->truncated);
}

TEST(NotifyCodec, EventTooBigForNotifyIsSentAsATruncatedEnvelope) {
  Event big = joined_event();
  big.data["blob"] = std::string(20'000, 'x');
  const auto encoded = encode_event("node-a", big);
  EXPECT_TRUE(encoded.truncated);
  EXPECT_LE(encoded.payload.size(), kMaxNotifyPayload);
  const json wire = json::parse(encoded.payload);
  EXPECT_EQ(wire["truncated"], true);
  EXPECT_FALSE(wire["event"].contains("data"));
  const auto decoded = decode_event(encoded.payload);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->truncated);
  EXPECT_EQ(decoded->type, "participant.joined");
  EXPECT_EQ(decoded->id, 42U);
  EXPECT_EQ(decoded->data, (json{{"truncated", true}}));
}

TEST(NotifyCodec, EventJustUnderTheLimitIsSentWhole) {
  Event event = joined_event();
  event.data["blob"] = "";
  const std::size_t base = encode_event("node-a", event).payload.size();
  event.data["blob"] = std::string(kMaxNotifyPayload - base, 'y');
  const auto at_limit = encode_event("node-a", event);
  EXPECT_EQ(at_limit.payload.size(), kMaxNotifyPayload);
  EXPECT_FALSE(at_limit.truncated);
  event.data["blob"] = std::string(kMaxNotifyPayload - base + 1, 'y');
  EXPECT_TRUE(encode_event("node-a", event).truncated);
}

TEST(NotifyCodec, MalformedEventPayloadsAreRefused) {
  for (const char* bad :
       {"", "not json", "[]", R"({"node":"a"})", R"({"node":"","event":{"id":1,"type":"x","data":{}}})",
        R"({"node":"a","event":{"id":-1,"type":"x","data":{}}})",
        R"({"node":"a","event":{"id":1,"type":"","data":{}}})",
        R"({"node":"a","event":{"id":1,"type":"x","data":[1]}})", R"({"node":"a","event":{"id":1,"type":"x"}})",
        R"({"node":7,"event":{"id":1,"type":"x","data":{}}})"})
    EXPECT_FALSE(decode_event(bad)) << bad;
  const std::string long_type = R"({"node":"a","event":{"id":1,"type":")" + std::string(65, 't') + R"(","data":{}}})";
  EXPECT_FALSE(decode_event(long_type));
  EXPECT_FALSE(decode_event(std::string(kMaxNotifyPayload + 1, ' ')));
}

TEST(NotifyCodec, StoreChangeRoundTripsInTheContractShape) {
  const StoreChange change{.kind = StoreKind::kMeeting, .id = "mtg_123", .op = StoreOp::kDelete};
  const std::string payload = encode_store_change(change);
  EXPECT_EQ(json::parse(payload), (json{{"kind", "meeting"}, {"id", "mtg_123"}, {"op", "delete"}}));
  EXPECT_EQ(decode_store_change(payload), change);
  const StoreChange room{.kind = StoreKind::kRoom, .id = "1000", .op = StoreOp::kUpsert};
  EXPECT_EQ(json::parse(encode_store_change(room)), (json{{"kind", "room"}, {"id", "1000"}, {"op", "upsert"}}));
  EXPECT_EQ(decode_store_change(encode_store_change(room)), room);
}

TEST(NotifyCodec, MalformedStoreChangesAreRefused) {
  for (const char* bad :
       {"", "{}", R"({"kind":"webhook","id":"x","op":"upsert"})", R"({"kind":"room","id":"","op":"upsert"})",
        R"({"kind":"room","id":"x","op":"patch"})", R"({"kind":"room","id":5,"op":"upsert"})"})
    EXPECT_FALSE(decode_store_change(bad)) << bad;
}

}  // namespace notify_codec_test
}  // namespace chorus::conference::cluster
