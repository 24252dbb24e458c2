// RosterService: the room a SUBSCRIBE watches (404), who may watch it (participants from their
// call's source or dialog, trusted sources; 403 for strangers and callers still at the PIN), the
// roster built from ConferenceService's participants, the documents per subscription (full, then
// partial, nothing when nothing changed) and which events make NOTIFYs.
#include "conference/roster/roster_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "signaling/message/message_parser.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::conference {
namespace roster_service_test {

using namespace std::chrono_literals;

constexpr std::string_view kOffer =
    "v=0\r\n"
    "o=alice 1 1 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

class RecordingNotifier final : public sip::SubscriptionNotifier {
 public:
  void notify_changed(std::string_view resource, std::chrono::milliseconds min_gap) override {
    changed.emplace_back(resource, min_gap);
  }
  void terminate_resource(std::string_view resource) override { terminated.emplace_back(resource); }
  std::vector<std::pair<std::string, std::chrono::milliseconds>> changed;
  std::vector<std::string> terminated;
};

sip::PeerAddress udp_from(std::string_view ip) {
  return sip::PeerAddress{sip::TransportKind::kUdp, boost::asio::ip::make_address(std::string(ip)), 5060, 0};
}

sip::SipMessage subscribe(std::string_view room, std::string_view from) {
  auto parsed = sip::parse_message("SUBSCRIBE sip:" + std::string(room) +
                                   "@127.0.0.1 SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKsub\r\n"
                                   "From: <" +
                                   std::string(from) +
                                   ">;tag=s\r\n"
                                   "To: <sip:1000@127.0.0.1>\r\n"
                                   "Call-ID: sub-1\r\n"
                                   "CSeq: 1 SUBSCRIBE\r\n"
                                   "Event: conference\r\n"
                                   "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : sip::SipMessage{};
}

struct RosterServiceTest : ::testing::Test {
  RosterServiceTest() {
    const std::uint16_t first = chorus::test::free_udp_range(16);
    pool = std::make_unique<media::UdpPortPool>("127.0.0.1", first, static_cast<std::uint16_t>(first + 15));
    rooms.add(default_room());
    Room pin_room = default_room();
    pin_room.id = "2000";
    pin_room.dial_in_number = "2001";
    pin_room.name = "Board";
    pin_room.pin = "1234";
    rooms.add(pin_room);
    service = std::make_unique<ConferenceService>(rooms, *pool, sdp::MediaPolicy{});
    service->set_event_log(&events);
    roster = std::make_unique<RosterService>(rooms, *service, RosterSettings{.host = "192.0.2.1:5060"});
    roster->set_notifier(&notifier);
    roster->watch(events);
  }
  // A call from `from` at `ip` into `room`.
  void join(sip::CallHandle handle, std::string room, std::string from, std::string ip, std::string name) {
    sip::CallInfo info;
    info.handle = handle;
    info.call_id = "call-" + std::to_string(handle);
    info.request_user = std::move(room);
    info.from_uri = std::move(from);
    info.from_display = std::move(name);
    info.source = udp_from(ip);
    auto invite = subscribe("1000", "sip:x@example.com");  // the listener reads only CallInfo here
    ASSERT_EQ(service->on_incoming_call(info, invite, std::string(kOffer)).status, 200);
  }
  sip::SubscribeDecision decide(const sip::SipMessage& request, std::string_view ip,
                                std::optional<sip::CallHandle> call = std::nullopt, bool trusted = false) {
    const sip::PeerAddress source = udp_from(ip);
    return roster->on_subscribe(sip::SubscribeContext{request, source, call, trusted, {}});
  }

  RoomDirectory rooms;
  EventLog events;
  std::unique_ptr<media::UdpPortPool> pool;
  std::unique_ptr<ConferenceService> service;
  RecordingNotifier notifier;
  std::unique_ptr<RosterService> roster;
};

TEST_F(RosterServiceTest, TheRosterListsTheRoomsParticipants) {
  join(1, "1000", "sip:alice@example.com", "198.51.100.7", "Alice");
  join(2, "1000", "sip:alice@example.com", "198.51.100.8", "Alice");  // a second device, same URI
  const auto info = roster->roster_of("1000");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->entity, "sip:1000@192.0.2.1:5060");
  EXPECT_EQ(info->maximum_user_count, rooms.find("1000")->max_participants);
  ASSERT_EQ(info->users.size(), 1U) << "one user, two endpoints";
  EXPECT_EQ(info->users[0].entity, "sip:alice@example.com");
  EXPECT_EQ(info->users[0].display_text, "Alice");
  ASSERT_EQ(info->users[0].endpoints.size(), 2U);
  const RosterEndpoint& endpoint = info->users[0].endpoints[0];
  EXPECT_EQ(endpoint.status, "connected");
  EXPECT_EQ(endpoint.joining_method, "dialed-in");
  ASSERT_EQ(endpoint.media.size(), 1U);
  EXPECT_EQ(endpoint.media[0].type, "audio");
  EXPECT_EQ(endpoint.media[0].status, "sendrecv");
  EXPECT_EQ(endpoint.media[0].talking, false);
  EXPECT_FALSE(roster->roster_of("nope").has_value());
}

TEST_F(RosterServiceTest, AnUnknownRoomIs404) {
  EXPECT_EQ(decide(subscribe("nope", "sip:alice@example.com"), "198.51.100.7").status, 404);
}

TEST_F(RosterServiceTest, AParticipantMaySubscribeFromItsCallsSourceAndStrangersMayNot) {
  join(1, "1000", "sip:alice@example.com", "198.51.100.7", "Alice");
  const auto allowed = decide(subscribe("1000", "sip:alice@example.com"), "198.51.100.7");
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.resource, "1000");
  EXPECT_EQ(decide(subscribe("1000", "sip:alice@example.com"), "203.0.113.5").status, 403)
      << "the From URI alone is the caller's choice";
  EXPECT_EQ(decide(subscribe("1000", "sip:eve@example.com"), "198.51.100.7").status, 403);
  EXPECT_EQ(decide(subscribe("1000", "sip:eve@example.com"), "203.0.113.5", std::nullopt, true).status, 200)
      << "a trusted source";
  EXPECT_EQ(decide(subscribe("1000", "sip:eve@example.com"), "198.51.100.7", sip::CallHandle{1}).status, 200)
      << "inside the participant's own call";
}

TEST_F(RosterServiceTest, ACallerStillAtThePinMayNotReadTheRoster) {
  join(5, "2001", "sip:guest@example.com", "198.51.100.9", "Guest");
  EXPECT_EQ(decide(subscribe("2001", "sip:guest@example.com"), "198.51.100.9").status, 403);
  EXPECT_EQ(decide(subscribe("2001", "sip:guest@example.com"), "198.51.100.9", sip::CallHandle{5}).status, 403);
  const auto info = roster->roster_of("2000");
  ASSERT_TRUE(info.has_value());
  ASSERT_EQ(info->users.size(), 1U);
  EXPECT_EQ(info->users[0].endpoints[0].status, "pending");
}

TEST_F(RosterServiceTest, EachSubscriptionGetsTheFullStateThenWhatChanged) {
  join(1, "1000", "sip:alice@example.com", "198.51.100.7", "Alice");
  const auto first = roster->state_for(1, "1000", 1, true);
  ASSERT_TRUE(first.has_value());
  EXPECT_NE(first->find("state=\"full\" version=\"1\""), std::string::npos);
  EXPECT_FALSE(roster->state_for(1, "1000", 2, false).has_value()) << "nothing changed";
  join(2, "1000", "sip:bob@example.com", "198.51.100.8", "Bob");
  const auto second = roster->state_for(1, "1000", 2, false);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->find("state=\"partial\" version=\"2\""), std::string::npos);
  EXPECT_NE(second->find("sip:bob@example.com"), std::string::npos);
  EXPECT_EQ(second->find("sip:alice@example.com"), std::string::npos);
  const auto other = roster->state_for(2, "1000", 1, false);  // a subscription it never wrote for
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->find("state=\"full\""), std::string::npos);
  roster->on_subscription_ended(1);
  roster->on_subscription_ended(2);
  EXPECT_EQ(roster->remembered(), 0U);
}

TEST_F(RosterServiceTest, ParticipantEventsMakeNotificationsAndTalkingWaitsLonger) {
  join(1, "1000", "sip:alice@example.com", "198.51.100.7", "Alice");
  ASSERT_FALSE(notifier.changed.empty());
  EXPECT_EQ(notifier.changed.back(), std::make_pair(std::string("1000"), 0ms));
  events.publish(event_type::kParticipantTalkingStarted, nlohmann::json{{"room_id", "1000"}});
  EXPECT_EQ(notifier.changed.back(), std::make_pair(std::string("1000"), 3000ms));
  const std::size_t before = notifier.changed.size();
  events.publish(event_type::kParticipantJoined, nlohmann::json{{"room_id", "1000"}}, "node-b");
  events.publish(event_type::kMeetingCreated, nlohmann::json{{"room_id", "1000"}});
  EXPECT_EQ(notifier.changed.size(), before) << "another node's events and unrelated ones make none";
  service->on_call_ended(1, "bye");
  EXPECT_EQ(notifier.changed.size(), before + 1) << "participant.left";
  events.publish(event_type::kRoomDeleted, nlohmann::json{{"room_id", "1000"}});
  ASSERT_EQ(notifier.terminated.size(), 1U);
  EXPECT_EQ(notifier.terminated[0], "1000");
}

TEST_F(RosterServiceTest, GuestsMutedReachesTheRosterThoughNoParticipantEventSaysSo) {
  std::vector<std::string> changed_rooms;
  service->set_roster_changed([&](std::string_view room) { changed_rooms.emplace_back(room); });
  std::vector<std::function<void()>> posted;  // the control loop's work, never run here
  ConferenceService::AudioHooks hooks;
  hooks.post_to_control = [&](std::function<void()> work) { posted.push_back(std::move(work)); };
  service->set_audio_hooks(std::move(hooks));
  join(1, "1000", "sip:alice@example.com", "198.51.100.7", "Alice");
  changed_rooms.clear();
  ASSERT_TRUE(service->audio().set_guests_muted("1000", true));  // REST PATCH guests_muted, or *2
  EXPECT_EQ(changed_rooms, std::vector<std::string>{"1000"});
}

}  // namespace roster_service_test
}  // namespace chorus::conference
