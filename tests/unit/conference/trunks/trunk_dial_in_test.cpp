// Dial-in through a trunk (issue 15): the trunk known by the INVITE's source range or by our
// registration's Contact user, the called number (Request-URI user, or To when that is not a
// number) normalised and matched to a room's normalised dial_in_number; and the same through
// ConferenceService, which asks only when the plain dial-string lookup finds no room.
#include "conference/trunks/trunk_dial_in.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>

#include "conference/conference_service.hpp"
#include "signaling/message/message_parser.hpp"

namespace chorus::conference {
namespace trunk_dial_in_test {

const auto kProvider = boost::asio::ip::make_address("192.0.2.7");
const auto kStranger = boost::asio::ip::make_address("203.0.113.9");

sip::SipMessage invite(const std::string& request_user, const std::string& to_user) {
  auto parsed = sip::parse_message("INVITE sip:" + request_user +
                                   "@198.51.100.1 SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKtrunk\r\n"
                                   "From: <sip:+4917012345@provider.example>;tag=a\r\n"
                                   "To: <sip:" +
                                   to_user +
                                   "@provider.example>\r\n"
                                   "Call-ID: trunk-1\r\n"
                                   "CSeq: 1 INVITE\r\n"
                                   "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : sip::SipMessage{};
}

Trunk provider_trunk() {
  Trunk trunk;
  trunk.id = "trk_provider";
  trunk.name = "provider";
  trunk.targets = {{.host = "sip.provider.example", .port = std::nullopt, .transport = std::nullopt}};
  trunk.inbound_ranges = {"192.0.2.0/24"};
  trunk.numbering = {.country_code = "49", .national_prefix = "0", .international_prefix = "00"};
  return trunk;
}

Room numbered_room(const std::string& id, const std::string& number) {
  Room room = default_room();
  room.id = id;
  room.dial_in_number = number;
  return room;
}

struct TrunkDialIn : ::testing::Test {
  TrunkDialIn() {
    rooms.add(numbered_room("sales", "030 123456"));     // national form
    rooms.add(numbered_room("support", "+4940998877"));  // E.164
    trunks.replace(provider_trunk());
  }
  std::string room_for(const boost::asio::ip::address& source, const std::string& request_user,
                       const std::string& to_user = "someone") {
    const Room* room = find_trunk_room(rooms, trunks, source, invite(request_user, to_user));
    return room == nullptr ? "none" : room->id;
  }
  RoomDirectory rooms;
  TrunkDirectory trunks;
};

TEST_F(TrunkDialIn, EveryWritingOfTheNumberReachesTheRoom) {
  EXPECT_EQ(room_for(kProvider, "+4930123456"), "sales");
  EXPECT_EQ(room_for(kProvider, "004930123456"), "sales");
  EXPECT_EQ(room_for(kProvider, "030123456"), "sales");
  EXPECT_EQ(room_for(kProvider, "040998877"), "support");
  EXPECT_EQ(room_for(kProvider, "+49-40-998877"), "support");
}

TEST_F(TrunkDialIn, E164WithoutThePlusMatches) {
  EXPECT_EQ(room_for(kProvider, "4940998877"), "support");
  // A room numbered in E.164 digits (REST stores digits only) takes the '+' form.
  rooms.add(numbered_room("board", "4989111222"));
  EXPECT_EQ(room_for(kProvider, "+4989111222"), "board");
  EXPECT_EQ(room_for(kProvider, "089111222"), "board");
}

TEST_F(TrunkDialIn, ToUserWhenTheRequestUriUserIsNoNumber) {
  EXPECT_EQ(room_for(kProvider, "chorus", "+4930123456"), "sales");
  EXPECT_EQ(room_for(kProvider, "chorus", "alice"), "none");
}

TEST_F(TrunkDialIn, OnlyFromTheTrunksRanges) {
  EXPECT_EQ(room_for(kStranger, "+4930123456"), "none");
}

TEST_F(TrunkDialIn, UnknownOrJunkNumbersFindNoRoom) {
  EXPECT_EQ(room_for(kProvider, "+4930999999"), "none");
  EXPECT_EQ(room_for(kProvider, "+49301234567890123"), "none");
}

TEST_F(TrunkDialIn, RegistrationContactIdentifiesTheTrunkAndToCarriesTheNumber) {
  Trunk trunk = provider_trunk();
  trunk.inbound_ranges.clear();
  trunk.inbound_from_registration = true;
  trunk.registration = TrunkRegistration{.username = "4930123456",
                                         .password = "pw",
                                         .realm = {},
                                         .expires = std::chrono::seconds(600),
                                         .contact_user = "4930123456"};
  trunks.replace(trunk);
  // The provider sends to our Contact (a number itself) and names the DID in To.
  EXPECT_EQ(room_for(kStranger, "4930123456", "040998877"), "support");
  EXPECT_EQ(room_for(kStranger, "other", "040998877"), "none");
  trunk.inbound_from_registration = false;
  trunks.replace(trunk);
  EXPECT_EQ(room_for(kStranger, "4930123456", "040998877"), "none");
}

TEST(TrunkDirectoryTest, ListenerHearsReplaceAndRemoveAndStatusFollowsTheTrunk) {
  TrunkDirectory trunks;
  std::vector<std::string> heard;
  trunks.set_listener([&heard](std::string_view id, const Trunk* trunk) {
    heard.push_back(std::string(id) + (trunk ? ":set" : ":removed"));
  });
  Trunk trunk = provider_trunk();
  trunk.registration = TrunkRegistration{.username = "u", .password = "p", .realm = {}, .contact_user = {}};
  trunks.replace(trunk);
  trunks.set_status(trunk.id, {.state = RegistrationState::kRegistered});
  EXPECT_EQ(trunks.status(trunk.id)->state, RegistrationState::kRegistered);
  EXPECT_TRUE(trunks.remove(trunk.id));
  EXPECT_FALSE(trunks.remove(trunk.id));
  EXPECT_FALSE(trunks.status(trunk.id).has_value());
  trunks.set_status(trunk.id, {.state = RegistrationState::kFailed});  // late report after delete
  EXPECT_FALSE(trunks.status(trunk.id).has_value());
  EXPECT_EQ(heard, (std::vector<std::string>{"trk_provider:set", "trk_provider:removed"}));
}

TEST(ConferenceTrunkDialIn, ServiceAdmitsACallerThroughTheTrunk) {
  RoomDirectory rooms;
  rooms.add(numbered_room("sales", "030 123456"));
  TrunkDirectory trunks;
  trunks.replace(provider_trunk());
  const std::uint16_t first = chorus::test::free_udp_range(4);
  media::UdpPortPool pool("127.0.0.1", first, static_cast<std::uint16_t>(first + 3));
  ConferenceService service(rooms, pool, sdp::MediaPolicy{});
  sip::CallInfo info;
  info.handle = 1;
  info.call_id = "trunk-1";
  info.request_user = "+4930123456";
  info.source.address = kProvider;
  const std::string offer =
      "v=0\r\no=p 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
      "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  EXPECT_EQ(service.on_incoming_call(info, invite("+4930123456", "x"), offer).status, 404);  // no trunks set
  service.set_trunks(&trunks);
  const auto decision = service.on_incoming_call(info, invite("+4930123456", "x"), offer);
  ASSERT_EQ(decision.status, 200) << decision.reason;
  ASSERT_NE(service.participant(1), nullptr);
  EXPECT_EQ(service.participant(1)->room_id, "sales");
  service.on_call_ended(1, "test over");
}

}  // namespace trunk_dial_in_test
}  // namespace chorus::conference
