// RFC 3264 answerer rules: plan_answer() and build_answer() against real and crafted offers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace chorus::sdp {
namespace offer_answer_test {

SessionDescription parse(std::string_view text) {
  auto sd = parse_sdp(text);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return *sd;
}

// An offer from 192.0.2.2 with the given media lines after the session header.
SessionDescription offer_with(std::string_view media_lines, std::string_view session_lines = {}) {
  std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n";
  text += session_lines;
  text += media_lines;
  return parse(text);
}

// Captured from baresip 1.0.0 (see sdp_parser_test.cpp).
constexpr std::string_view kBaresipOffer =
    "v=0\r\no=- 2945566452 1714698394 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
    "a=tool:baresip 1.0.0\r\nm=audio 3716 RTP/AVP 0 8 9 96 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=sendrecv\r\na=label:1\r\na=rtcp-rsize\r\na=ssrc:2979106551 cname:sip:alice@127.0.0.1:5072\r\n"
    "a=minptime:20\r\na=ptime:20\r\n";

constexpr std::string_view kWebRtcAudioAndVideo =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Hk3f\r\na=ice-pwd:p2xWJ4vUbn2Dk1zdwlT8IJ7O\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\n"
    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Hk3f\r\na=mid:1\r\na=sendrecv\r\n"
    "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

const MediaPolicy kDefaultPolicy{};
const OriginInfo kOrigin{"chorus", 5000, 1, "Chorus"};
const LocalMediaAddress kLocal{"198.51.100.10"};

AnswerPlan plan_ok(const SessionDescription& offer, const MediaPolicy& policy = kDefaultPolicy) {
  auto plan = plan_answer(offer, policy);
  if (!plan) {
    ADD_FAILURE() << plan.error().reason;
    return {};
  }
  return *plan;
}

std::string answer_text(const SessionDescription& offer, const MediaPolicy& policy, const MediaPorts& ports) {
  AnswerPlan plan = plan_ok(offer, policy);
  auto answer = build_answer(plan, kLocal, ports, kOrigin);
  if (!answer) {
    ADD_FAILURE() << answer.error().reason;
    return {};
  }
  return serialize_sdp(*answer);
}

TEST(PlanAnswer, AnswersBaresipWithOurPreferredCodecAndItsPayloadNumbers) {
  AnswerPlan plan = plan_ok(parse(kBaresipOffer));
  ASSERT_EQ(plan.sections.size(), 1u);
  EXPECT_EQ(plan.ports_needed(), 1u);
  const NegotiatedStream& s = plan.sections[0].stream;
  EXPECT_TRUE(s.accepted);
  EXPECT_EQ(s.codec, (Codec{"opus", 48000, 2}));
  EXPECT_EQ(s.payload_type, 96);
  EXPECT_EQ(s.telephone_event_pt, 101);
  EXPECT_EQ(s.ptime_ms, 20);
  EXPECT_EQ(s.local_direction, Direction::kSendRecv);
  EXPECT_EQ(s.remote_address, "192.0.2.2");
  EXPECT_EQ(s.remote_port, 3716);
  EXPECT_EQ(s.remote_rtcp_port, 3717);
  EXPECT_FALSE(s.rtcp_mux);
  EXPECT_FALSE(plan.hold);
}

TEST(BuildAnswer, WritesTheBaresipAnswer) {
  EXPECT_EQ(answer_text(parse(kBaresipOffer), kDefaultPolicy, MediaPorts{{20000}, {}}),
            "v=0\r\no=chorus 5000 1 IN IP4 198.51.100.10\r\ns=Chorus\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 20000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n");
}

TEST(BuildAnswer, AnswersSippDefaultOfferWithPcmu) {
  auto offer = parse(
      "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
  EXPECT_EQ(answer_text(offer, kDefaultPolicy, MediaPorts{{20002}, {}}),
            "v=0\r\no=chorus 5000 1 IN IP4 198.51.100.10\r\ns=Chorus\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 20002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n");
}

TEST(PlanAnswer, PicksByOurPreferenceNotTheOfferersOrder) {
  auto offer = offer_with("m=audio 4000 RTP/AVP 0 8 9\r\n");  // static types, no rtpmap
  EXPECT_EQ(plan_ok(offer).sections[0].stream.codec.name, "G722");
  MediaPolicy alaw_first;
  alaw_first.audio_codecs = {{"PCMA", 8000, 1}, {"PCMU", 8000, 1}};
  EXPECT_EQ(plan_ok(offer, alaw_first).sections[0].stream.payload_type, 8);
}

TEST(PlanAnswer, KeepsTheOfferersDynamicPayloadNumbers) {
  auto offer = offer_with(
      "m=audio 4000 RTP/AVP 109 100\r\na=rtpmap:109 opus/48000/2\r\n"
      "a=rtpmap:100 telephone-event/48000\r\na=fmtp:100 0-16\r\n");
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.sections[0].stream.payload_type, 109);
  EXPECT_EQ(plan.sections[0].stream.telephone_event_pt, 100);
  EXPECT_EQ(plan.sections[0].answer_formats, (std::vector<std::string>{"109", "100"}));
  EXPECT_EQ(plan.sections[0].answer_attributes[2], (Attribute{"fmtp", "100 0-16"}));
}

TEST(PlanAnswer, MatchesOpusOnlyAsTwoChannels) {
  // RFC 7587 §7: "opus/48000" without /2 is not opus as SDP knows it.
  auto offer = offer_with("m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000\r\n");
  EXPECT_EQ(plan_ok(offer).sections[0].stream.codec.name, "PCMU");
  MediaPolicy mono_opus;
  mono_opus.audio_codecs = {{"opus", 48000, 1}};  // configured as mono: still matches opus/48000/2
  auto stereo = offer_with("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n");
  EXPECT_EQ(plan_ok(stereo, mono_opus).sections[0].stream.codec, (Codec{"opus", 48000, 2}));
}

TEST(PlanAnswer, MatchesEncodingNamesCaseInsensitivelyAndEchoesTheirSpelling) {
  auto offer = offer_with("m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 OPUS/48000/2\r\n");
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.sections[0].stream.codec.name, "opus");
  EXPECT_EQ(plan.sections[0].answer_attributes[0], (Attribute{"rtpmap", "97 OPUS/48000/2"}));
}

TEST(PlanAnswer, MatchesClockRate) {
  auto offer = offer_with("m=audio 4000 RTP/AVP 97 0\r\na=rtpmap:97 G722/16000\r\n");
  EXPECT_EQ(plan_ok(offer).sections[0].stream.codec.name, "PCMU");
}

TEST(PlanAnswer, LeavesOutTelephoneEventWhenPolicyDisablesIt) {
  MediaPolicy no_dtmf;
  no_dtmf.telephone_event = false;
  AnswerPlan plan = plan_ok(parse(kBaresipOffer), no_dtmf);
  EXPECT_FALSE(plan.sections[0].stream.telephone_event_pt);
  EXPECT_EQ(plan.sections[0].answer_formats, std::vector<std::string>{"96"});
}

TEST(PlanAnswer, IgnoresTelephoneEventInTheCodecList) {
  MediaPolicy policy;
  policy.audio_codecs = {{"telephone-event", 8000, 1}, {"PCMU", 8000, 1}};
  EXPECT_EQ(plan_ok(parse(kBaresipOffer), policy).sections[0].stream.codec.name, "PCMU");
}

TEST(PlanAnswer, AnswersAvpfAsAvpf) {
  auto offer = offer_with("m=audio 4000 RTP/AVPF 0\r\na=rtcp-fb:* nack\r\n");
  auto answer = build_answer(plan_ok(offer), kLocal, MediaPorts{{20000}, {}}, kOrigin);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->media[0].protocol, "RTP/AVPF");
  EXPECT_EQ(answer->media[0].port, 20000);
}

TEST(PlanAnswer, RefusesSrtpOnlyOfferWith488) {
  auto offer = offer_with(
      "m=audio 48176 RTP/SAVP 0 96\r\na=rtpmap:96 opus/48000/2\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:ep2B2bhKULlGRbI2aSsi9kxC9tMUOs0AHkgiQX/u\r\n");
  auto plan = plan_answer(offer, kDefaultPolicy);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().sip_status, 488);
  EXPECT_EQ(plan.error().warning_code, 302);
  EXPECT_EQ(plan.error().reason, "SRTP is not supported");
  EXPECT_EQ(plan.error().warning_value("chorus"), "302 chorus \"SRTP is not supported\"");
}

TEST(PlanAnswer, TakesThePlainStreamOfABestEffortSrtpOffer) {
  auto offer = offer_with(
      "m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n"
      "m=audio 5002 RTP/AVP 0\r\n");
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.sections[0].reject_reason, RejectReason::kSrtpNotAccepted);
  EXPECT_TRUE(plan.sections[1].stream.accepted);
  EXPECT_EQ(plan.ports_needed(), 1u);
}

TEST(PlanAnswer, RefusesWebRtcOfferWhileSrtpIsOff) {
  auto plan = plan_answer(parse(kWebRtcAudioAndVideo), kDefaultPolicy);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().warning_code, 302);
}

TEST(PlanAnswer, AcceptsWebRtcAudioWhenSrtpIsOnAndRejectsVideo) {
  MediaPolicy srtp;
  srtp.accept_srtp = true;
  AnswerPlan plan = plan_ok(parse(kWebRtcAudioAndVideo), srtp);
  ASSERT_EQ(plan.sections.size(), 2u);
  const NegotiatedStream& audio = plan.sections[0].stream;
  EXPECT_TRUE(audio.accepted);
  EXPECT_EQ(audio.payload_type, 111);
  EXPECT_EQ(audio.telephone_event_pt, 110);  // the one at opus's clock rate
  EXPECT_EQ(audio.telephone_event_clock_rate, 48000);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_EQ(audio.local_direction, Direction::kSendRecv);  // c=0.0.0.0 with ICE is not hold
  EXPECT_FALSE(plan.hold);
  EXPECT_EQ(plan.sections[1].reject_reason, RejectReason::kMediaType);

  auto unkeyed = build_answer(plan, kLocal, MediaPorts{{20010}, {}}, kOrigin);
  ASSERT_FALSE(unkeyed);  // an SRTP answer needs the media layer's keying attributes
  EXPECT_EQ(unkeyed.error().sip_status, 500);

  std::vector<Attribute> keys{{"setup", "passive"}, {"fingerprint", "sha-256 AA:BB"}};
  auto answer = build_answer(plan, kLocal, MediaPorts{{20010}, {keys}}, kOrigin);
  ASSERT_TRUE(answer);
  const MediaDescription& a = answer->media[0];
  EXPECT_EQ(a.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_TRUE(a.rtcp_mux());
  EXPECT_EQ(a.mid(), "0");
  EXPECT_EQ(a.attribute_value("setup"), "passive");
  EXPECT_EQ(answer->media[1].port, 0);
  EXPECT_EQ(answer->media[1].mid(), "1");  // RFC 5888: rejected sections keep their mid
}

TEST(PlanAnswer, RejectsVideoWithPortZeroWhileAcceptingAudio) {
  auto offer = offer_with("m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 107\r\na=rtpmap:107 H263-1998/90000\r\n");
  AnswerPlan plan = plan_ok(offer);
  auto answer = build_answer(plan, kLocal, MediaPorts{{20000}, {}}, kOrigin);
  ASSERT_TRUE(answer);
  EXPECT_EQ(serialize_sdp(*answer),
            "v=0\r\no=chorus 5000 1 IN IP4 198.51.100.10\r\ns=Chorus\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
            "m=video 0 RTP/AVP 107\r\n");
  EXPECT_FALSE(plan.streams()[1].accepted);
}

TEST(PlanAnswer, RefusesOfferWithNoCommonCodec) {
  auto plan = plan_answer(offer_with("m=audio 4000 RTP/AVP 18 3\r\n"), kDefaultPolicy);  // G729, GSM
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().sip_status, 488);
  EXPECT_EQ(plan.error().warning_code, 305);
  EXPECT_EQ(plan.error().reason, "No common codec");
}

TEST(PlanAnswer, RefusesVideoOnlyOffer) {
  auto plan = plan_answer(offer_with("m=video 4002 RTP/AVP 31\r\n"), kDefaultPolicy);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().warning_code, 304);
}

TEST(PlanAnswer, RefusesNonRtpAndMulticastStreams) {
  auto msrp = plan_answer(offer_with("m=audio 4000 TCP/MSRP *\r\n"), kDefaultPolicy);
  ASSERT_FALSE(msrp);
  EXPECT_EQ(msrp.error().warning_code, 302);
  auto multicast = plan_answer(offer_with("m=audio 4000 RTP/AVP 0\r\nc=IN IP4 224.2.1.1/127\r\n"), kDefaultPolicy);
  ASSERT_FALSE(multicast);
  EXPECT_EQ(multicast.error().warning_code, 301);
  auto no_media = plan_answer(parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=0 0\r\n"), kDefaultPolicy);
  ASSERT_FALSE(no_media);
  EXPECT_EQ(no_media.error().sip_status, 488);
}

TEST(PlanAnswer, AnswersOneAudioStreamByDefault) {
  auto offer = offer_with("m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n");
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.ports_needed(), 1u);
  EXPECT_EQ(plan.sections[1].reject_reason, RejectReason::kTooManyStreams);
  MediaPolicy two;
  two.max_audio_streams = 2;
  AnswerPlan both = plan_ok(offer, two);
  ASSERT_EQ(both.ports_needed(), 2u);
  auto answer = build_answer(both, kLocal, MediaPorts{{20000, 20002}, {}}, kOrigin);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->media[0].port, 20000);
  EXPECT_EQ(answer->media[1].port, 20002);
  auto short_of_ports = build_answer(both, kLocal, MediaPorts{{20000}, {}}, kOrigin);
  ASSERT_FALSE(short_of_ports);
  EXPECT_EQ(short_of_ports.error().sip_status, 500);
}

TEST(PlanAnswer, AnswersAnAllDisabledOfferWithAllPortsZero) {
  AnswerPlan plan = plan_ok(offer_with("m=audio 0 RTP/AVP 0\r\n"));
  EXPECT_EQ(plan.ports_needed(), 0u);
  auto answer = build_answer(plan, kLocal, MediaPorts{}, kOrigin);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->media.at(0).port, 0);
}

TEST(PlanAnswer, RejectsLayeredEncoding) {
  AnswerPlan plan = plan_ok(offer_with("m=audio 4000/2 RTP/AVP 0\r\nm=audio 4004 RTP/AVP 0\r\n"));
  EXPECT_EQ(plan.sections[0].reject_reason, RejectReason::kPortCount);
  EXPECT_TRUE(plan.sections[1].stream.accepted);
}

TEST(PlanAnswer, TakesPtimeFromTheOfferElsePolicy) {
  EXPECT_EQ(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\na=ptime:30\r\n")).sections[0].stream.ptime_ms, 30);
  EXPECT_EQ(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\n"),
                    [] {
                      MediaPolicy p;
                      p.ptime_ms = 40;
                      return p;
                    }())
                .sections[0]
                .stream.ptime_ms,
            40);
  EXPECT_EQ(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\na=maxptime:10\r\n")).sections[0].stream.ptime_ms, 10);
  EXPECT_EQ(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\na=ptime:5000\r\n")).sections[0].stream.ptime_ms, 20);
  EXPECT_EQ(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\n", "a=ptime:60\r\n")).sections[0].stream.ptime_ms, 60);
}

TEST(PlanAnswer, EchoesRtcpMuxOnlyWhenOffered) {
  AnswerPlan mux = plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\n"));
  EXPECT_TRUE(mux.sections[0].stream.rtcp_mux);
  EXPECT_EQ(mux.sections[0].stream.remote_rtcp_port, 4000);
  EXPECT_EQ(mux.sections[0].answer_attributes.back(), (Attribute{"rtcp-mux", std::nullopt}));
  AnswerPlan plain = plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\na=rtcp:4005\r\n"));
  EXPECT_FALSE(plain.sections[0].stream.rtcp_mux);
  EXPECT_EQ(plain.sections[0].stream.remote_rtcp_port, 4005);  // RFC 3605
}

struct HoldCase {
  const char* name;
  std::string_view media_lines;
  std::string_view session_lines;
  Direction expected_local;
  bool hold;
};

class PlanAnswerDirection : public ::testing::TestWithParam<HoldCase> {};

TEST_P(PlanAnswerDirection, MirrorsTheOfferedDirection) {
  const HoldCase& c = GetParam();
  SessionDescription offer = offer_with(c.media_lines, c.session_lines);
  EXPECT_EQ(is_hold(offer), c.hold);
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.hold, c.hold);
  EXPECT_EQ(plan.sections[0].stream.local_direction, c.expected_local);
  auto answer = build_answer(plan, kLocal, MediaPorts{{20000}, {}}, kOrigin);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->effective_direction(answer->media[0]), c.expected_local);
}

INSTANTIATE_TEST_SUITE_P(
    HoldAndResume, PlanAnswerDirection,
    ::testing::Values(
        HoldCase{"Resume", "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", "", Direction::kSendRecv, false},
        HoldCase{"NoAttribute", "m=audio 4000 RTP/AVP 0\r\n", "", Direction::kSendRecv, false},
        HoldCase{"SendOnlyHold", "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", "", Direction::kRecvOnly, true},
        HoldCase{"InactiveHold", "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n", "", Direction::kInactive, true},
        HoldCase{"SessionLevelSendOnly", "m=audio 4000 RTP/AVP 0\r\n", "a=sendonly\r\n", Direction::kRecvOnly, true},
        HoldCase{"Rfc2543ZeroAddress", "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n", "", Direction::kRecvOnly,
                 true},
        HoldCase{"ZeroAddressAndRecvOnly", "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n", "",
                 Direction::kInactive, true},
        HoldCase{"RecvOnlyOffer", "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", "", Direction::kSendOnly, false}),
    [](const ::testing::TestParamInfo<HoldCase>& info) { return std::string(info.param.name); });

TEST(BuildAnswer, UsesIp6ForAnIpv6LocalAddress) {
  auto answer = build_answer(plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\n")), LocalMediaAddress{"[2001:db8::10]"},
                             MediaPorts{{20000}, {}}, OriginInfo{"chorus", 77, 3, ""});
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->connection->address_type, "IP6");
  EXPECT_EQ(answer->connection->address, "2001:db8::10");
  EXPECT_EQ(answer->origin, (Origin{"chorus", "77", "3", "IN", "IP6", "2001:db8::10"}));
  EXPECT_EQ(answer->session_name, "-");
}

TEST(BuildAnswer, RefusesMissingAddressOrZeroPort) {
  AnswerPlan plan = plan_ok(offer_with("m=audio 4000 RTP/AVP 0\r\n"));
  EXPECT_FALSE(build_answer(plan, LocalMediaAddress{""}, MediaPorts{{20000}, {}}, kOrigin));
  EXPECT_FALSE(build_answer(plan, kLocal, MediaPorts{{0}, {}}, kOrigin));
}

std::string rfc5118_body(const char* name) {
  auto path = std::filesystem::path(CHORUS_SHARED_DIR) / "conformance" / "rfc5118" / name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string message = text.str();
  auto blank = message.find("\r\n\r\n");
  return blank == std::string::npos ? std::string() : message.substr(blank + 4);
}

TEST(PlanAnswer, NegotiatesRfc5118Ipv6Offers) {
  if (!std::filesystem::exists(std::filesystem::path(CHORUS_SHARED_DIR) / "conformance")) {
    GTEST_SKIP() << "no ../shared/conformance";
  }
  SessionDescription v6 = parse(rfc5118_body("ipv6-in-sdp"));  // G726-32 only
  EXPECT_EQ(plan_answer(v6, kDefaultPolicy).error().warning_code, 305);
  MediaPolicy g726;
  g726.audio_codecs = {{"G726-32", 8000, 1}};
  AnswerPlan plan = plan_ok(v6, g726);
  EXPECT_EQ(plan.sections[0].stream.remote_address, "2001:db8::20");
  EXPECT_EQ(plan.sections[0].stream.payload_type, 2);
  EXPECT_FALSE(plan.sections[1].stream.accepted);

  SessionDescription mixed = parse(rfc5118_body("mult-ip-in-sdp"));  // PCMU by static type only
  AnswerPlan mixed_plan = plan_ok(mixed);
  EXPECT_EQ(mixed_plan.sections[0].stream.codec.name, "PCMU");
  EXPECT_EQ(mixed_plan.sections[0].stream.remote_address, "192.0.2.1");
  EXPECT_EQ(mixed_plan.sections[1].reject_reason, RejectReason::kMediaType);
}

}  // namespace offer_answer_test
}  // namespace chorus::sdp
