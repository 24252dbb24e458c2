// RFC 3264 offerer side: build_offer() for an INVITE without SDP, accept_answer() for the ACK's
// answer, and the whole exchange between two Chorus ends.
#include <gtest/gtest.h>

#include <string>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace chorus::sdp {
namespace offerer_test {

const OriginInfo kOrigin{"chorus", 9001, 1, "Chorus"};
const LocalMediaAddress kLocal{"198.51.100.10"};

SessionDescription parse(std::string_view text) {
  auto sd = parse_sdp(text);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return *sd;
}

SessionDescription default_offer(Direction direction = Direction::kSendRecv) {
  auto offer = build_offer(MediaPolicy{}, kLocal, MediaPorts{{30000}, {}}, kOrigin, direction);
  if (!offer) {
    ADD_FAILURE() << offer.error().reason;
    return {};
  }
  return *offer;
}

// An answer from 192.0.2.2 to default_offer() with the given audio lines.
SessionDescription answer_with(std::string_view media_lines) {
  std::string text = "v=0\r\no=- 7 7 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n";
  text += media_lines;
  return parse(text);
}

TEST(BuildOffer, OffersEveryPolicyCodecWithStaticAndDynamicTypes) {
  EXPECT_EQ(serialize_sdp(default_offer()),
            "v=0\r\no=chorus 9001 1 IN IP4 198.51.100.10\r\ns=Chorus\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 30000 RTP/AVP 96 9 0 8 101\r\n"
            "a=rtpmap:96 opus/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n");
}

TEST(BuildOffer, SkipsPayloadType101ForDynamicCodecs) {
  MediaPolicy many;
  many.audio_codecs = {{"opus", 48000, 2},  {"iLBC", 8000, 1}, {"speex", 8000, 1},  {"speex", 16000, 1},
                       {"speex", 32000, 1}, {"AMR", 8000, 1},  {"AMR-WB", 16000, 1}};
  auto offer = build_offer(many, kLocal, MediaPorts{{30000}, {}}, kOrigin);
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->media[0].formats, (std::vector<std::string>{"96", "97", "98", "99", "100", "102", "103", "101"}));
}

TEST(BuildOffer, OffersHoldDirection) {
  EXPECT_EQ(default_offer(Direction::kSendOnly).media[0].direction(), Direction::kSendOnly);
}

TEST(BuildOffer, RefusesWithoutPortAddressOrCodec) {
  EXPECT_EQ(build_offer(MediaPolicy{}, kLocal, MediaPorts{}, kOrigin).error().sip_status, 500);
  EXPECT_FALSE(build_offer(MediaPolicy{}, LocalMediaAddress{}, MediaPorts{{30000}, {}}, kOrigin));
  MediaPolicy none;
  none.audio_codecs.clear();
  EXPECT_FALSE(build_offer(none, kLocal, MediaPorts{{30000}, {}}, kOrigin));
}

TEST(AcceptAnswer, ReadsTheCodecTheAnswerChose) {
  auto streams = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                                                            "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"));
  ASSERT_TRUE(streams) << streams.error().reason;
  ASSERT_EQ(streams->size(), 1u);
  const NegotiatedStream& s = (*streams)[0];
  EXPECT_TRUE(s.accepted);
  EXPECT_EQ(s.codec, (Codec{"PCMU", 8000, 1}));
  EXPECT_EQ(s.payload_type, 0);
  EXPECT_EQ(s.telephone_event_pt, 101);
  EXPECT_EQ(s.remote_address, "192.0.2.2");
  EXPECT_EQ(s.remote_port, 7078);
  EXPECT_EQ(s.remote_rtcp_port, 7079);
  EXPECT_EQ(s.ptime_ms, 20);
  EXPECT_EQ(s.local_direction, Direction::kSendRecv);
}

TEST(AcceptAnswer, TakesTheFirstAnsweredFormatThatWeOffered) {
  auto streams = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 18 13 8 0\r\na=ptime:30\r\n"));
  ASSERT_TRUE(streams) << streams.error().reason;
  EXPECT_EQ((*streams)[0].codec.name, "PCMA");  // 18 (G729) and 13 (CN) are not ours to use
  EXPECT_EQ((*streams)[0].ptime_ms, 30);
  EXPECT_FALSE((*streams)[0].telephone_event_pt);
}

TEST(AcceptAnswer, RefusesAnswerWithAnotherMediaLineCount) {
  auto streams = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 0\r\nm=video 7080 RTP/AVP 31\r\n"));
  ASSERT_FALSE(streams);
  EXPECT_EQ(streams.error().sip_status, 488);
}

TEST(AcceptAnswer, RefusesAnswerThatRejectsOurAudio) {
  auto rejected = accept_answer(default_offer(), answer_with("m=audio 0 RTP/AVP 0\r\n"));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().warning_code, 305);
  EXPECT_FALSE(accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 18\r\n")));
  EXPECT_FALSE(accept_answer(default_offer(), answer_with("m=audio 7078 RTP/SAVP 0\r\n")));
}

TEST(AcceptAnswer, ReportsRejectedSectionsBesideAcceptedOnes) {
  SessionDescription offer = default_offer();
  MediaDescription video;
  video.media = "video";
  video.port = 30002;
  video.protocol = "RTP/AVP";
  video.formats = {"31"};
  offer.media.push_back(video);
  auto streams = accept_answer(offer, answer_with("m=audio 7078 RTP/AVP 9\r\nm=video 0 RTP/AVP 31\r\n"));
  ASSERT_TRUE(streams) << streams.error().reason;
  EXPECT_TRUE((*streams)[0].accepted);
  EXPECT_EQ((*streams)[0].codec.name, "G722");
  EXPECT_FALSE((*streams)[1].accepted);
  EXPECT_EQ((*streams)[1].index, 1u);
}

TEST(AcceptAnswer, CombinesOurDirectionWithTheAnswers) {
  auto recv_only = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 0\r\na=recvonly\r\n"));
  EXPECT_EQ((*recv_only)[0].local_direction, Direction::kSendOnly);
  auto send_only = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 0\r\na=sendonly\r\n"));
  EXPECT_EQ((*send_only)[0].local_direction, Direction::kRecvOnly);
  auto held =
      accept_answer(default_offer(Direction::kSendOnly), answer_with("m=audio 7078 RTP/AVP 0\r\na=recvonly\r\n"));
  EXPECT_EQ((*held)[0].local_direction, Direction::kSendOnly);
  auto zero = accept_answer(default_offer(), answer_with("m=audio 7078 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n"));
  EXPECT_EQ((*zero)[0].local_direction, Direction::kRecvOnly);
}

TEST(AcceptAnswer, UsesRtcpMuxOnlyWhenBothSidesSaySo) {
  SessionDescription offer = default_offer();
  auto without = accept_answer(offer, answer_with("m=audio 7078 RTP/AVP 0\r\na=rtcp-mux\r\n"));
  EXPECT_FALSE((*without)[0].rtcp_mux);  // we did not offer it
  offer.media[0].add_attribute("rtcp-mux");
  auto with = accept_answer(offer, answer_with("m=audio 7078 RTP/AVP 0\r\na=rtcp-mux\r\n"));
  EXPECT_TRUE((*with)[0].rtcp_mux);
  EXPECT_EQ((*with)[0].remote_rtcp_port, 7078);
}

TEST(OfferAnswer, TwoChorusEndsAgreeThroughTheWire) {
  // INVITE without SDP: our offer goes out in the 200, the peer answers in the ACK.
  SessionDescription offer = default_offer();
  auto offer_on_wire = parse(serialize_sdp(offer));
  auto plan = plan_answer(offer_on_wire, MediaPolicy{});
  ASSERT_TRUE(plan) << plan.error().reason;
  auto answer =
      build_answer(*plan, LocalMediaAddress{"192.0.2.2"}, MediaPorts{{40000}, {}}, OriginInfo{"peer", 1, 1, "-"});
  ASSERT_TRUE(answer) << answer.error().reason;
  auto streams = accept_answer(offer, parse(serialize_sdp(*answer)));
  ASSERT_TRUE(streams) << streams.error().reason;
  const NegotiatedStream& ours = (*streams)[0];
  const NegotiatedStream& theirs = plan->sections[0].stream;
  EXPECT_EQ(ours.codec, (Codec{"opus", 48000, 2}));
  EXPECT_EQ(ours.codec, theirs.codec);
  EXPECT_EQ(ours.payload_type, theirs.payload_type);
  EXPECT_EQ(ours.telephone_event_pt, 101);
  EXPECT_EQ(theirs.telephone_event_pt, 101);
  EXPECT_EQ(ours.remote_address, "192.0.2.2");
  EXPECT_EQ(ours.remote_port, 40000);
  EXPECT_EQ(theirs.remote_address, "198.51.100.10");
  EXPECT_EQ(theirs.remote_port, 30000);
}

TEST(IsHold, RecognisesHoldFormsButNotIceAddresses) {
  EXPECT_TRUE(is_hold(parse("v=0\no=- 1 2 IN IP4 a\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\n")));
  EXPECT_FALSE(
      is_hold(parse("v=0\no=- 1 2 IN IP4 a\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\na=ice-ufrag:x\n"
                    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n")));
  EXPECT_FALSE(is_hold(parse("v=0\no=- 1 2 IN IP4 a\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 0 RTP/AVP 0\n")));
  EXPECT_TRUE(is_hold(parse("v=0\no=- 1 2 IN IP4 a\ns=-\nc=IN IP6 ::\nt=0 0\nm=audio 4000 RTP/AVP 0\n")));
}

}  // namespace offerer_test
}  // namespace chorus::sdp
