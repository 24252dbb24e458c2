// Video offer/answer (video_answer.hpp) against the offers browsers, softphones and room systems
// send (video_offers.hpp): the answer's lines and what plan_answer() reports per section.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"
#include "tests/unit/signaling/sdp/video_offers.hpp"

namespace chorus::sdp {
namespace video_answer_test {

using test::chrome_room_offer;

SessionDescription parse(std::string_view text) {
  auto sd = parse_sdp(text, kVideoSdpLimits);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return *sd;
}

MediaPolicy video_policy() {
  MediaPolicy p;
  p.accept_srtp = true;
  p.video.enabled = true;
  return p;
}

const OriginInfo kOrigin{"chorus", 5000, 1, "Chorus"};
const LocalMediaAddress kLocal{"198.51.100.10"};

AnswerPlan plan_ok(const SessionDescription& offer, const MediaPolicy& policy) {
  auto plan = plan_answer(offer, policy);
  if (!plan) {
    ADD_FAILURE() << plan.error().reason;
    return {};
  }
  return *plan;
}

// The answer on ports 20000, 20002, ...; secure sections get a=setup:passive as their keying
// (what the conference adds through MediaPorts::extra_attributes).
SessionDescription answer_for(const AnswerPlan& plan) {
  MediaPorts ports;
  for (std::size_t i = 0; i < plan.ports_needed(); ++i) {
    ports.rtp_ports.push_back(static_cast<std::uint16_t>(20000 + 2 * i));
    ports.extra_attributes.push_back({Attribute{"setup", "passive"}});
  }
  auto answer = build_answer(plan, kLocal, ports, kOrigin);
  if (!answer) {
    ADD_FAILURE() << answer.error().reason;
    return {};
  }
  return *answer;
}

// One media section of `sd` as text, from its m= line.
std::string section_text(const SessionDescription& sd, std::size_t index) {
  SessionDescription one;
  one.media.push_back(sd.media.at(index));
  std::string text = serialize_sdp(one);
  return text.substr(text.find("m="));
}

constexpr std::string_view kChromeFeedback96 =
    "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n";
constexpr FeedbackSupport kAllFeedback{true, true, true, true, true};

// Built member by member: GCC 12 warns (maybe-uninitialized) on nested braced VideoFormat temporaries.
// `offered`: the offer's a=fmtp for the format, which the answer keeps (what the peer decodes).
VideoFormat video_format(std::string name, int pt, std::string fmtp, std::optional<int> rtx, FeedbackSupport fb,
                         std::string offered = {}) {
  VideoFormat v;
  v.codec = Codec{std::move(name), 90000, 1};
  v.payload_type = pt;
  v.fmtp = std::move(fmtp);
  v.offered_fmtp = std::move(offered);
  v.rtx_payload_type = rtx;
  v.feedback = fb;
  return v;
}

// Everything but the direction, simulcast and mid lines is the same in each Chrome video answer.
std::string chrome_video_answer(int port, std::string_view direction_and_after) {
  std::string s = "m=video " + std::to_string(port) + " UDP/TLS/RTP/SAVPF 96 97 102 103 106 107\r\n";
  s += "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
       "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
       "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
       "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
       "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
       "a=extmap-allow-mixed\r\n"
       "a=rtpmap:96 VP8/90000\r\n";
  s += kChromeFeedback96;
  s +=
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
      "a=rtpmap:102 H264/90000\r\na=fmtp:102 profile-level-id=42001f;packetization-mode=1;level-asymmetry-allowed=1\r\n"
      "a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\na=rtcp-fb:102 ccm fir\r\na=rtcp-fb:102 goog-remb\r\n"
      "a=rtcp-fb:102 transport-cc\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
      "a=rtpmap:106 H264/90000\r\na=fmtp:106 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n"
      "a=rtcp-fb:106 nack\r\na=rtcp-fb:106 nack pli\r\na=rtcp-fb:106 ccm fir\r\na=rtcp-fb:106 goog-remb\r\n"
      "a=rtcp-fb:106 transport-cc\r\na=rtpmap:107 rtx/90000\r\na=fmtp:107 apt=106\r\n";
  s += direction_and_after;
  return s;
}

TEST(VideoAnswer, ChromeRoomOfferNeedsTheVideoSdpLimits) {
  const std::string offer = chrome_room_offer();
  auto strict = parse_sdp(offer);
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().find("more than 1024 lines"), std::string::npos) << strict.error();
  auto video = parse_sdp(offer, kVideoSdpLimits);
  ASSERT_TRUE(video) << video.error();
  EXPECT_EQ(video->media.size(), 11u);
  EXPECT_LT(offer.size(), kMaxSdpBytes);
}

TEST(VideoAnswer, AnswersChromeCameraWithThreeSimulcastLayers) {
  const AnswerPlan plan = plan_ok(parse(chrome_room_offer()), video_policy());
  ASSERT_EQ(plan.sections.size(), 11u);
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(section_text(answer, 1),
            chrome_video_answer(20002,
                                "a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rid:q recv\r\na=rid:h recv\r\n"
                                "a=rid:f recv\r\na=simulcast:recv q;h;f\r\na=mid:1\r\na=setup:passive\r\n"));

  const NegotiatedStream& camera = plan.sections[1].stream;
  EXPECT_TRUE(camera.accepted);
  EXPECT_EQ(camera.mid, "1");
  EXPECT_EQ(camera.remote_direction, Direction::kSendOnly);
  EXPECT_EQ(camera.local_direction, Direction::kRecvOnly);
  EXPECT_EQ(camera.codec, (Codec{"VP8", 90000, 1}));
  EXPECT_EQ(camera.payload_type, 96);
  ASSERT_EQ(camera.video_formats.size(), 3u);
  EXPECT_EQ(camera.video_formats[0], video_format("VP8", 96, "", 97, kAllFeedback));
  EXPECT_EQ(camera.video_formats[1],
            video_format("H264", 102, "profile-level-id=42001f;packetization-mode=1;level-asymmetry-allowed=1", 103,
                         kAllFeedback, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"));
  EXPECT_EQ(camera.video_formats[2].payload_type, 106);
  EXPECT_EQ(camera.video_formats[2].rtx_payload_type, 107);
  EXPECT_EQ(camera.extensions, (std::vector<HeaderExtension>{{std::string(kAbsSendTimeUri), 2},
                                                             {std::string(kTransportWideCcUri), 3},
                                                             {std::string(kMidExtensionUri), 4},
                                                             {std::string(kRtpStreamIdUri), 10},
                                                             {std::string(kRepairedRtpStreamIdUri), 11}}));
  EXPECT_EQ(camera.receive_rids, (std::vector<SimulcastRid>{{"q", false}, {"h", false}, {"f", false}}));
  EXPECT_EQ(camera.simulcast_layers_dropped, 0u);
  EXPECT_TRUE(camera.rtcp_mux);
  EXPECT_TRUE(camera.rtcp_rsize);
  EXPECT_FALSE(camera.bundle_only);
  EXPECT_TRUE(camera.remote_ssrcs.empty());  // rid-based simulcast: no a=ssrc
}

TEST(VideoAnswer, AnswersChromeReceiveSlotsAsSendOnlyWithoutRids) {
  const AnswerPlan plan = plan_ok(parse(chrome_room_offer()), video_policy());
  EXPECT_EQ(plan.ports_needed(), 11u);
  const SessionDescription answer = answer_for(plan);
  for (std::size_t i = 2; i <= 10; ++i) {
    SCOPED_TRACE(i);
    const NegotiatedStream& slot = plan.sections[i].stream;
    EXPECT_EQ(slot.local_direction, Direction::kSendOnly);
    EXPECT_EQ(slot.remote_direction, Direction::kRecvOnly);
    EXPECT_TRUE(slot.receive_rids.empty());
    EXPECT_EQ(slot.video_formats.size(), 3u);
  }
  EXPECT_EQ(section_text(answer, 10),
            chrome_video_answer(20020, "a=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=mid:10\r\na=setup:passive\r\n"));
  // The conference writes our send streams' a=ssrc/a=msid itself (MediaPorts::extra_attributes).
  const std::string text = serialize_sdp(answer);
  EXPECT_EQ(text.find("a=ssrc"), std::string::npos);
  EXPECT_EQ(text.find("a=msid"), std::string::npos);
  EXPECT_TRUE(parse_sdp(text)) << "our answer parses with the default limits";
}

TEST(VideoAnswer, AnswersChromeAudioWithItsRtpExtras) {
  const AnswerPlan plan = plan_ok(parse(chrome_room_offer()), video_policy());
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(section_text(answer, 0),
            "m=audio 20000 UDP/TLS/RTP/SAVPF 111 110\r\na=rtpmap:111 opus/48000/2\r\n"
            "a=rtpmap:110 telephone-event/48000\r\na=ptime:20\r\na=sendrecv\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
            "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
            "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
            "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap-allow-mixed\r\n"
            "a=rtcp-fb:111 transport-cc\r\na=mid:0\r\na=setup:passive\r\n");
  const NegotiatedStream& audio = plan.sections[0].stream;
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.extensions.size(), 4u);
  EXPECT_TRUE(audio.rtcp_rsize);
  EXPECT_EQ(audio.remote_ssrcs, std::vector<std::uint32_t>{3735928559u});
  EXPECT_TRUE(audio.video_formats.empty());
}

TEST(VideoAnswer, LeavesChromeAudioAsBeforeWhileVideoIsOff) {
  MediaPolicy audio_only;
  audio_only.accept_srtp = true;
  const AnswerPlan plan = plan_ok(parse(chrome_room_offer()), audio_only);
  EXPECT_EQ(plan.ports_needed(), 1u);
  for (std::size_t i = 1; i <= 10; ++i) EXPECT_EQ(plan.sections[i].reject_reason, RejectReason::kMediaType);
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(section_text(answer, 0),
            "m=audio 20000 UDP/TLS/RTP/SAVPF 111 110\r\na=rtpmap:111 opus/48000/2\r\n"
            "a=rtpmap:110 telephone-event/48000\r\na=ptime:20\r\na=sendrecv\r\na=rtcp-mux\r\na=mid:0\r\n"
            "a=setup:passive\r\n");
  EXPECT_EQ(section_text(answer, 1), "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n");
  EXPECT_TRUE(plan.sections[0].stream.extensions.empty());
  EXPECT_FALSE(plan.sections[0].stream.rtcp_rsize);
}

TEST(VideoAnswer, AnswersFirefoxSendrecvVideoWithSimulcast) {
  const AnswerPlan plan = plan_ok(parse(test::kFirefoxOffer), video_policy());
  ASSERT_EQ(plan.ports_needed(), 2u);
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(section_text(answer, 1),
            "m=video 20002 UDP/TLS/RTP/SAVPF 120 124 126 127\r\n"
            "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
            "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
            "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
            "a=extmap:8 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
            "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\na=extmap-allow-mixed\r\n"
            "a=rtpmap:120 VP8/90000\r\na=rtcp-fb:120 nack\r\na=rtcp-fb:120 nack pli\r\na=rtcp-fb:120 ccm fir\r\n"
            "a=rtcp-fb:120 goog-remb\r\na=rtcp-fb:120 transport-cc\r\na=rtpmap:124 rtx/90000\r\n"
            "a=fmtp:124 apt=120\r\na=rtpmap:126 H264/90000\r\n"
            "a=fmtp:126 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n"
            "a=rtcp-fb:126 nack\r\na=rtcp-fb:126 nack pli\r\na=rtcp-fb:126 ccm fir\r\na=rtcp-fb:126 goog-remb\r\n"
            "a=rtcp-fb:126 transport-cc\r\na=rtpmap:127 rtx/90000\r\na=fmtp:127 apt=126\r\n"
            "a=sendrecv\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rid:h recv\r\na=rid:m recv\r\na=rid:l recv\r\n"
            "a=simulcast:recv h;m;l\r\na=mid:1\r\na=setup:passive\r\n");
  const NegotiatedStream& video = plan.sections[1].stream;
  EXPECT_EQ(video.local_direction, Direction::kSendRecv);
  EXPECT_EQ(video.receive_rids, (std::vector<SimulcastRid>{{"h", false}, {"m", false}, {"l", false}}));
  EXPECT_EQ(video.remote_ssrcs.size(), 6u);
  ASSERT_EQ(video.remote_ssrc_groups.size(), 3u);
  EXPECT_EQ(video.remote_ssrc_groups[0], (SsrcGroup{"FID", {1404093325u, 1727003391u}}));
  // H.264 97 has no packetization-mode (mode 0): refused, and its rtx 98 with it.
  ASSERT_FALSE(plan.sections[1].notes.empty());
  EXPECT_EQ(plan.sections[1].notes[0], "H264 97 refused: packetization-mode is not 1");

  // Firefox's audio: ssrc-audio-level and mid; csrc-audio-level (offered recvonly) is not ours.
  EXPECT_EQ(plan.sections[0].stream.extensions,
            (std::vector<HeaderExtension>{{std::string(kAudioLevelUri), 1}, {std::string(kMidExtensionUri), 3}}));
}

TEST(VideoAnswer, AnswersBaresipVp8WithoutFeedbackOrExtensions) {
  const AnswerPlan plan = plan_ok(parse(test::kBaresipVideoOffer), video_policy());
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(serialize_sdp(answer),
            "v=0\r\no=chorus 5000 1 IN IP4 198.51.100.10\r\ns=Chorus\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 20000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\na=rtcp-rsize\r\na=setup:passive\r\n"
            "m=video 20002 RTP/AVP 100\r\na=rtpmap:100 VP8/90000\r\na=sendrecv\r\na=rtcp-rsize\r\n"
            "a=setup:passive\r\n");
  const NegotiatedStream& video = plan.sections[1].stream;
  EXPECT_EQ(video.local_direction, Direction::kSendRecv);
  EXPECT_EQ(video.remote_address, "192.0.2.2");
  EXPECT_EQ(video.remote_port, 3718);
  EXPECT_EQ(video.remote_rtcp_port, 3719);
  EXPECT_EQ(video.video_formats,
            std::vector<VideoFormat>{video_format("VP8", 100, "", std::nullopt, {}, "max-fs=3600")});
  EXPECT_EQ(video.remote_ssrcs, std::vector<std::uint32_t>{1382036481u});
  EXPECT_TRUE(video.mid.empty());
}

TEST(VideoAnswer, AnswersRoomSystemH264BaselineWithItsContentAndBandwidth) {
  const AnswerPlan plan = plan_ok(parse(test::kRoomSystemOffer), video_policy());
  const SessionDescription answer = answer_for(plan);
  EXPECT_EQ(section_text(answer, 1),
            "m=video 20002 RTP/AVP 110\r\na=rtpmap:110 H264/90000\r\n"
            "a=fmtp:110 profile-level-id=42801f;packetization-mode=1;level-asymmetry-allowed=1\r\n"
            "a=rtcp-fb:110 nack pli\r\na=rtcp-fb:110 ccm fir\r\na=sendrecv\r\na=content:main\r\n"
            "a=setup:passive\r\n");
  const NegotiatedStream& video = plan.sections[1].stream;
  EXPECT_EQ(video.codec, (Codec{"H264", 90000, 1}));
  EXPECT_EQ(video.payload_type, 110);
  ASSERT_EQ(video.video_formats.size(), 1u);
  EXPECT_EQ(video.video_formats[0].feedback, (FeedbackSupport{false, true, true, false, false}));
  EXPECT_EQ(video.content, "main");
  EXPECT_EQ(video.remote_max_bitrate_bps, 1'920'000u);  // b=TIAS
  EXPECT_FALSE(video.rtcp_rsize);
  EXPECT_EQ(plan.sections[1].notes,
            (std::vector<std::string>{"H264 109 refused: profile is not Constrained Baseline or Baseline",
                                      "H264 111 refused: packetization-mode is not 1"}));
  const NegotiatedStream& audio = plan.sections[0].stream;
  EXPECT_EQ(audio.codec.name, "G722");
  EXPECT_EQ(audio.remote_max_bitrate_bps, 2'048'000u);  // session b=AS:2048
}

TEST(VideoAnswer, SendsToRoomSystemAndReceivesFromItInOneSection) {
  MediaPolicy no_receive = video_policy();
  no_receive.video.max_receive_streams = 0;
  const AnswerPlan plan = plan_ok(parse(test::kRoomSystemOffer), no_receive);
  EXPECT_EQ(plan.sections[1].stream.local_direction, Direction::kSendOnly);
  EXPECT_EQ(plan.sections[1].notes.back(), "not receiving: max_receive_streams reached");
  MediaPolicy neither = no_receive;
  neither.video.max_send_streams = 0;
  const AnswerPlan refused = plan_ok(parse(test::kRoomSystemOffer), neither);
  EXPECT_EQ(refused.sections[1].reject_reason, RejectReason::kTooManyStreams);
  EXPECT_EQ(refused.ports_needed(), 1u);
}

}  // namespace video_answer_test
}  // namespace chorus::sdp
