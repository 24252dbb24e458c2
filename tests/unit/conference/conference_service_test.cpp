// ConferenceService as the UA's CallListener: rooms by dial string (404, 486), SDP offer/answer
// against the media policy (488 with a Warning), RTP ports leased from a real UdpPortPool on
// 127.0.0.1 (503 when none are left, back to the pool when the call ends), our own offer for an
// INVITE without SDP, re-offers (hold). Each test has its own port range.
#include "conference/conference_service.hpp"
#include "common/ascii.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "signaling/message/message_parser.hpp"
#include "signaling/sdp/sdp_parser.hpp"

namespace chorus::conference {
namespace conference_service_test {

// A caller's offer: opus on 111 and telephone-event on 100 (dynamic numbers the answer must keep),
// then PCMU.
constexpr std::string_view kOpusOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 111 0 100\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:100 telephone-event/8000\r\n"
    "a=sendrecv\r\n";

constexpr std::string_view kPcmaOnlyOffer =
    "v=0\r\n"
    "o=bob 1 1 IN IP4 198.51.100.8\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.8\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 8\r\n";

constexpr std::string_view kNoCommonCodecOffer =
    "v=0\r\n"
    "o=carol 1 1 IN IP4 198.51.100.9\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.9\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 18 97\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:97 iLBC/8000\r\n";

constexpr std::string_view kHoldOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=sendonly\r\n";

constexpr std::string_view kTwoAudioOffer =
    "v=0\r\n"
    "o=dave 1 1 IN IP4 198.51.100.10\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.10\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 0\r\n"
    "m=audio 30002 RTP/AVP 0\r\n";

sip::SipMessage any_invite() {
  auto parsed = sip::parse_message(
      "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKconf\r\n"
      "From: <sip:alice@example.com>;tag=a\r\n"
      "To: <sip:1000@127.0.0.1>\r\n"
      "Call-ID: conf-1\r\n"
      "CSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : sip::SipMessage{};
}

sip::CallInfo call_to(std::string room, sip::CallHandle handle) {
  sip::CallInfo info;
  info.handle = handle;
  info.call_id = "conf-" + std::to_string(handle);
  info.request_user = std::move(room);
  info.from_uri = "sip:alice@example.com";
  info.from_display = "Alice";
  info.user_agent = "Softphone/1.2";
  return info;
}

sdp::SessionDescription sdp_of(std::string_view text) {
  auto parsed = sdp::parse_sdp(text);
  if (!parsed) {
    ADD_FAILURE() << "SDP does not parse: " << parsed.error() << "\n" << text;
    return {};
  }
  return *parsed;
}

struct ConferenceTest : ::testing::Test {
  // A pool of `pairs` RTP/RTCP pairs on ports that are free now.
  void start(std::uint16_t pairs, std::size_t max_participants = 100) {
    first = chorus::test::free_udp_range(2u * pairs);
    pool = std::make_unique<media::UdpPortPool>("127.0.0.1", first, static_cast<std::uint16_t>(first + 2 * pairs - 1));
    Room room = default_room();
    room.max_participants = max_participants;
    rooms.add(room);
    service = std::make_unique<ConferenceService>(rooms, *pool, policy);
  }
  sip::CallDecision call(std::string room, sip::CallHandle handle, std::optional<std::string> offer) {
    return service->on_incoming_call(call_to(std::move(room), handle), any_invite(), offer);
  }

  RoomDirectory rooms;
  sdp::MediaPolicy policy;
  std::uint16_t first = 0;
  std::unique_ptr<media::UdpPortPool> pool;
  std::unique_ptr<ConferenceService> service;
};

TEST_F(ConferenceTest, UnknownRoomGets404) {
  start(4);
  auto decision = call("2000", 1, std::string(kOpusOffer));
  EXPECT_EQ(decision.status, 404);
  EXPECT_EQ(service->participant_count(), 0u);
  EXPECT_EQ(pool->bound_ports(), 0u);
}

TEST_F(ConferenceTest, RoomAnswersWithLeasedPortAndOfferPayloadNumbers) {
  start(4);
  auto decision = call("1000", 1, std::string(kOpusOffer));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  EXPECT_EQ(pool->leased_pairs(), 1u);
  EXPECT_EQ(pool->bound_ports(), 2u);

  const Participant* p = service->participant(1);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->ports.size(), 1u);
  const sdp::SessionDescription answer = sdp_of(decision.sdp);
  ASSERT_EQ(answer.media.size(), 1u);
  const sdp::MediaDescription& m = answer.media[0];
  EXPECT_EQ(m.port, p->ports[0]->rtp_port());
  EXPECT_GE(m.port, first);
  EXPECT_LE(m.port, first + 7);
  // Our first choice, opus, under the offerer's number 111; DTMF under its 100.
  ASSERT_FALSE(m.formats.empty());
  EXPECT_EQ(m.formats[0], "111");
  EXPECT_NE(std::find(m.formats.begin(), m.formats.end(), "100"), m.formats.end());
  auto rtpmap = m.rtpmap("111");
  ASSERT_TRUE(rtpmap.has_value());
  EXPECT_EQ(ascii_lowercase(rtpmap->encoding), "opus");
  ASSERT_NE(answer.effective_connection(m), nullptr);
  EXPECT_EQ(answer.effective_connection(m)->address, "127.0.0.1");

  ASSERT_EQ(p->streams.size(), 1u);
  EXPECT_TRUE(p->streams[0].accepted);
  EXPECT_EQ(p->streams[0].payload_type, 111);
  EXPECT_EQ(p->streams[0].remote_port, 49170);
}

TEST_F(ConferenceTest, StaticOfferGetsStaticAnswer) {
  start(2);
  auto decision = call("1000", 1, std::string(kPcmaOnlyOffer));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const sdp::SessionDescription answer = sdp_of(decision.sdp);
  ASSERT_EQ(answer.media.size(), 1u);
  ASSERT_FALSE(answer.media[0].formats.empty());
  EXPECT_EQ(answer.media[0].formats[0], "8");
}

TEST_F(ConferenceTest, ParticipantIsListedWithCallerDetails) {
  start(4);
  ASSERT_EQ(call("1000", 7, std::string(kOpusOffer)).status, 200);
  EXPECT_EQ(service->participant_count(), 1u);
  EXPECT_EQ(service->participants_in("1000"), 1u);
  EXPECT_EQ(service->participants_in("2000"), 0u);
  const Participant* p = service->participant(7);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->room_id, "1000");
  EXPECT_EQ(p->call, 7u);
  EXPECT_EQ(p->from_uri, "sip:alice@example.com");
  EXPECT_EQ(p->display_name, "Alice");
  EXPECT_EQ(p->user_agent, "Softphone/1.2");
  EXPECT_EQ(service->participant(8), nullptr);
}

TEST_F(ConferenceTest, CallEndedReleasesPorts) {
  start(4);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  ASSERT_EQ(call("1000", 2, std::string(kPcmaOnlyOffer)).status, 200);
  EXPECT_EQ(pool->bound_ports(), 4u);
  service->on_call_ended(1, "BYE");
  EXPECT_EQ(pool->bound_ports(), 2u);
  EXPECT_EQ(service->participant(1), nullptr);
  service->on_call_ended(2, "BYE");
  EXPECT_EQ(pool->bound_ports(), 0u);
  EXPECT_EQ(service->participant_count(), 0u);
  service->on_call_ended(2, "again");  // unknown: nothing happens
  EXPECT_EQ(pool->bound_ports(), 0u);
}

TEST_F(ConferenceTest, FullRoomGets486) {
  start(4, 1);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  auto decision = call("1000", 2, std::string(kOpusOffer));
  EXPECT_EQ(decision.status, 486);
  EXPECT_EQ(service->participant_count(), 1u);
  EXPECT_EQ(pool->bound_ports(), 2u);
  service->on_call_ended(1, "BYE");  // a place is free again
  EXPECT_EQ(call("1000", 3, std::string(kOpusOffer)).status, 200);
}

TEST_F(ConferenceTest, ARemoteCallerAimingMediaAtLoopbackGets488WithWarningAndNoPorts) {
  // Issue 12: no remote caller may aim our media at the server's own services.
  constexpr std::string_view kLoopbackOffer =
      "v=0\r\no=eve 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 0\r\n";
  start(4);
  auto remote = call_to("1000", 1);
  remote.source.address = boost::asio::ip::make_address("203.0.113.7");
  auto decision = service->on_incoming_call(remote, any_invite(), std::string(kLoopbackOffer));
  EXPECT_EQ(decision.status, 488);
  ASSERT_EQ(decision.extra_headers.size(), 1u);
  EXPECT_EQ(decision.extra_headers[0].name, "Warning");
  EXPECT_EQ(decision.extra_headers[0].value, "305 chorus \"Loopback media address refused\"");
  EXPECT_EQ(service->participant_count(), 0u);
  EXPECT_EQ(pool->bound_ports(), 0u);
  // The same offer from a caller on loopback (a local softphone) is answered.
  auto local = call_to("1000", 2);
  local.source.address = boost::asio::ip::make_address("127.0.0.1");
  EXPECT_EQ(service->on_incoming_call(local, any_invite(), std::string(kLoopbackOffer)).status, 200);
}

TEST_F(ConferenceTest, NoCommonCodecGets488WithWarning) {
  start(4);
  auto decision = call("1000", 1, std::string(kNoCommonCodecOffer));
  EXPECT_EQ(decision.status, 488);
  ASSERT_EQ(decision.extra_headers.size(), 1u);
  EXPECT_EQ(decision.extra_headers[0].name, "Warning");
  EXPECT_TRUE(decision.extra_headers[0].value.starts_with("305 chorus \"")) << decision.extra_headers[0].value;
  EXPECT_EQ(service->participant_count(), 0u);
  EXPECT_EQ(pool->bound_ports(), 0u);
}

TEST_F(ConferenceTest, BadSdpGets400) {
  start(2);
  auto decision = call("1000", 1, std::string("this is not sdp"));
  EXPECT_EQ(decision.status, 400);
  EXPECT_EQ(pool->bound_ports(), 0u);
}

TEST_F(ConferenceTest, PoolExhaustedGets503AndLeaksNothing) {
  start(1);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  auto decision = call("1000", 2, std::string(kOpusOffer));
  EXPECT_EQ(decision.status, 503);
  ASSERT_FALSE(decision.extra_headers.empty());
  EXPECT_EQ(decision.extra_headers[0].name, "Retry-After");
  EXPECT_EQ(service->participant_count(), 1u);
  EXPECT_EQ(pool->leased_pairs(), 1u);
}

TEST_F(ConferenceTest, PartialLeaseIsGivenBackOn503) {
  policy.max_audio_streams = 2;
  start(1);
  auto decision = call("1000", 1, std::string(kTwoAudioOffer));  // needs two pairs, the pool has one
  EXPECT_EQ(decision.status, 503);
  EXPECT_EQ(pool->bound_ports(), 0u);
  EXPECT_EQ(service->participant_count(), 0u);
}

TEST_F(ConferenceTest, InviteWithoutOfferGetsOurOfferThenAcceptsMatchingAnswer) {
  start(4);
  auto decision = call("1000", 1, std::nullopt);
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const sdp::SessionDescription offer = sdp_of(decision.sdp);
  ASSERT_EQ(offer.media.size(), 1u);
  const Participant* p = service->participant(1);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->ports.size(), 1u);
  EXPECT_EQ(offer.media[0].port, p->ports[0]->rtp_port());
  EXPECT_TRUE(p->our_pending_offer.has_value());

  // The caller picks PCMU (static 0) from our offer.
  const std::string answer =
      "v=0\r\n"
      "o=alice 5 5 IN IP4 198.51.100.7\r\n"
      "s=-\r\n"
      "c=IN IP4 198.51.100.7\r\n"
      "t=0 0\r\n"
      "m=audio 49180 RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n";
  EXPECT_TRUE(service->on_remote_answer(1, answer));
  p = service->participant(1);
  EXPECT_FALSE(p->our_pending_offer.has_value());
  ASSERT_EQ(p->streams.size(), 1u);
  EXPECT_TRUE(p->streams[0].accepted);
  EXPECT_EQ(p->streams[0].payload_type, 0);
  EXPECT_EQ(p->streams[0].remote_port, 49180);
}

TEST_F(ConferenceTest, AnswerWithCodecWeDidNotOfferIsRefused) {
  start(2);
  ASSERT_EQ(call("1000", 1, std::nullopt).status, 200);
  const std::string answer =
      "v=0\r\n"
      "o=alice 5 5 IN IP4 198.51.100.7\r\n"
      "s=-\r\n"
      "c=IN IP4 198.51.100.7\r\n"
      "t=0 0\r\n"
      "m=audio 49180 RTP/AVP 18\r\n"
      "a=rtpmap:18 G729/8000\r\n";
  EXPECT_FALSE(service->on_remote_answer(1, answer));
  EXPECT_FALSE(service->on_remote_answer(99, answer)) << "unknown call";
}

TEST_F(ConferenceTest, HoldReOfferIsAnsweredRecvOnly) {
  start(4);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  const std::uint16_t port = service->participant(1)->ports[0]->rtp_port();
  ASSERT_TRUE(service->participant(1)->current_local.has_value());
  const sdp::Origin first = service->participant(1)->current_local->origin;

  auto decision = service->on_remote_offer(1, kHoldOffer);
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const sdp::SessionDescription answer = sdp_of(decision.sdp);
  ASSERT_EQ(answer.media.size(), 1u);
  EXPECT_EQ(answer.effective_direction(answer.media[0]), sdp::Direction::kRecvOnly);
  EXPECT_EQ(answer.media[0].port, port) << "the stream keeps its ports";
  EXPECT_EQ(pool->leased_pairs(), 1u);
  // RFC 3264 §8: same o= session id, a higher version.
  EXPECT_EQ(answer.origin.session_id, first.session_id);
  EXPECT_GT(std::stoull(answer.origin.session_version), std::stoull(first.session_version));
}

TEST_F(ConferenceTest, UnacceptableReOfferKeepsTheSession) {
  start(2);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  auto decision = service->on_remote_offer(1, kNoCommonCodecOffer);
  EXPECT_EQ(decision.status, 488);
  EXPECT_EQ(service->participant_count(), 1u);
  EXPECT_EQ(pool->leased_pairs(), 1u);
  EXPECT_EQ(service->participant(1)->streams[0].payload_type, 111);
}

TEST_F(ConferenceTest, OfferRequestedGivesANewVersionOfOurOffer) {
  start(2);
  ASSERT_EQ(call("1000", 1, std::string(kOpusOffer)).status, 200);
  const std::string offer_text = service->on_offer_requested(1);
  const sdp::SessionDescription offer = sdp_of(offer_text);
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].port, service->participant(1)->ports[0]->rtp_port());
  EXPECT_EQ(pool->leased_pairs(), 1u);
  EXPECT_TRUE(service->on_offer_requested(99).empty());
}

TEST(RoomDirectory, FindsByIdOrNumberAndRefusesClashes) {
  RoomDirectory rooms;
  EXPECT_TRUE(rooms.add(default_room()));
  Room sales{"sales", "2000", "Sales", RoomMode::kMcu, 10};
  EXPECT_TRUE(rooms.add(sales));
  ASSERT_NE(rooms.find_by_dial_string("sales"), nullptr);
  ASSERT_NE(rooms.find_by_dial_string("2000"), nullptr);
  EXPECT_EQ(rooms.find_by_dial_string("2000")->id, "sales");
  EXPECT_EQ(rooms.find_by_dial_string("1000")->id, "1000");
  EXPECT_EQ(rooms.find_by_dial_string("3000"), nullptr);
  EXPECT_FALSE(rooms.add(Room{"sales", "4000", "Again", RoomMode::kMcu, 10})) << "id taken";
  EXPECT_FALSE(rooms.add(Room{"support", "2000", "Support", RoomMode::kMcu, 10})) << "number taken";
  EXPECT_FALSE(rooms.add(Room{"support", "sales", "Support", RoomMode::kMcu, 10})) << "number shadows an id";
  EXPECT_FALSE(rooms.add(Room{"2000", "", "Shadow", RoomMode::kMcu, 10})) << "id shadows a number";
  EXPECT_EQ(rooms.find_by_dial_string("2000")->id, "sales");
  EXPECT_EQ(rooms.size(), 2u);
}

}  // namespace conference_service_test
}  // namespace chorus::conference
