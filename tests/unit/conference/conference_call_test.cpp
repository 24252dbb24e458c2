// The dial-in path end to end, as chorusd wires it: TransactionLayer → UserAgent → ConferenceService
// → UdpPortPool, with SIP from literal text and a recording sender. Proves the SIP answer carries
// the leased port, the ports go back when the call ends (BYE either way), and failures map to SIP.
#include <gtest/gtest.h>

#include "conference/conference_service.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::conference {
namespace conference_call_test {

using sip::uatest::kCallerOffer;
using sip::uatest::RecordingSender;
using sip::uatest::RequestSpec;
using sip::uatest::udp_peer;

struct ConferenceCallTest : ::testing::Test {
  ConferenceCallTest() {
    rooms.add(default_room());
    ua.attach(transactions);
  }

  void deliver(const RequestSpec& spec) {
    transactions.on_message(sip::uatest::parse(sip::uatest::request_text(spec)), udp_peer());
  }
  RequestSpec invite(std::string user = "1000") {
    RequestSpec spec;
    spec.uri = "sip:" + user + "@127.0.0.1";
    spec.content_type = "application/sdp";
    spec.body = std::string(kCallerOffer);
    return spec;
  }

  RoomDirectory rooms;
  const std::uint16_t first_port = chorus::test::free_udp_range(4);
  media::UdpPortPool pool{"127.0.0.1", first_port, static_cast<std::uint16_t>(first_port + 3)};
  ConferenceService service{rooms, pool, sdp::MediaPolicy{}};
  ManualTimerQueue timers;
  RecordingSender sender;
  sip::UserAgent ua{timers, sender, service};
  sip::TransactionLayer transactions{timers, sender, ua};
};

TEST_F(ConferenceCallTest, CallToRoomIsAnsweredOnLeasedPortAndByeReleasesIt) {
  deliver(invite());
  auto oks = sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  auto answer = sdp::parse_sdp(oks[0].body);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  ASSERT_EQ(answer->media.size(), 1u);
  const std::uint16_t port = answer->media[0].port;
  EXPECT_TRUE(port == first_port || port == first_port + 2) << port;
  EXPECT_EQ(answer->media[0].formats.front(), "0") << "PCMU, our first choice among the offered";
  EXPECT_EQ(pool.bound_ports(), 2u);
  EXPECT_EQ(service.participants_in("1000"), 1u);

  const std::string tag = oks[0].to.tag();
  RequestSpec ack;
  ack.method = "ACK";
  ack.to_tag = tag;
  deliver(ack);
  RequestSpec bye;
  bye.method = "BYE";
  bye.to_tag = tag;
  bye.cseq = 2;
  deliver(bye);
  EXPECT_EQ(sender.responses(200, "BYE").size(), 1u);
  EXPECT_EQ(pool.bound_ports(), 0u);
  EXPECT_EQ(service.participant_count(), 0u);
  EXPECT_EQ(ua.call_count(), 0u);
}

TEST_F(ConferenceCallTest, UnknownRoomGets404AndNoCall) {
  deliver(invite("9999"));
  EXPECT_EQ(sender.responses(404, "INVITE").size(), 1u);
  EXPECT_EQ(ua.call_count(), 0u);
  EXPECT_EQ(pool.bound_ports(), 0u);
}

TEST_F(ConferenceCallTest, MissingAckEndsCallAndReleasesPorts) {
  deliver(invite());
  EXPECT_EQ(pool.bound_ports(), 2u);
  timers.advance(Millis(32000));
  // The caller never proved its UDP address (no ACK): the call ends without a BYE (issue 12).
  EXPECT_TRUE(sender.requests("BYE").empty());
  EXPECT_EQ(pool.bound_ports(), 0u);
  EXPECT_EQ(service.participant_count(), 0u);
}

TEST_F(ConferenceCallTest, ShutdownReleasesEveryPort) {
  deliver(invite());
  RequestSpec second = invite();
  second.call_id = "call-2@198.51.100.7";
  deliver(second);
  EXPECT_EQ(pool.bound_ports(), 4u);
  RequestSpec third = invite();
  third.call_id = "call-3@198.51.100.7";
  deliver(third);
  EXPECT_EQ(sender.responses(503, "INVITE").size(), 1u) << "two pairs only";
  ua.shutdown();
  EXPECT_TRUE(sender.requests("BYE").empty()) << "neither call was ACKed: no BYE to an unproven address";
  EXPECT_EQ(pool.bound_ports(), 0u);
}

TEST_F(ConferenceCallTest, InviteWithoutOfferThenAnswerInAck) {
  RequestSpec spec;
  deliver(spec);
  auto oks = sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  auto offer = sdp::parse_sdp(oks[0].body);
  ASSERT_TRUE(offer.has_value());
  RequestSpec ack;
  ack.method = "ACK";
  ack.to_tag = oks[0].to.tag();
  ack.content_type = "application/sdp";
  ack.body =
      "v=0\r\n"
      "o=alice 5 5 IN IP4 198.51.100.7\r\n"
      "s=-\r\n"
      "c=IN IP4 198.51.100.7\r\n"
      "t=0 0\r\n"
      "m=audio 49180 RTP/AVP 8\r\n"
      "a=rtpmap:8 PCMA/8000\r\n";
  deliver(ack);
  EXPECT_TRUE(sender.requests("BYE").empty());
  const Participant* p = service.participant(1);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->streams.size(), 1u);
  EXPECT_EQ(p->streams[0].payload_type, 8);
}

}  // namespace conference_call_test
}  // namespace chorus::conference
