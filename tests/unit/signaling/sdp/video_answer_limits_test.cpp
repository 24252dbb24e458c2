// Video offer/answer on crafted and hostile offers: stream budgets, section limits, codecs we do
// not take, broken rtx/rid/simulcast/extmap/ssrc lines. Each gets a clear answer (or 488), never
// a crash or a half-built section.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace chorus::sdp {
namespace video_answer_limits_test {

// An offer from 192.0.2.2 with the given media lines after the session header.
SessionDescription offer_with(std::string_view media_lines, std::string_view session_lines = {}) {
  std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n";
  text += session_lines;
  text += media_lines;
  auto sd = parse_sdp(text, kVideoSdpLimits);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return *sd;
}

MediaPolicy video_policy() {
  MediaPolicy p;
  p.video.enabled = true;
  return p;
}

AnswerPlan plan_ok(const SessionDescription& offer, const MediaPolicy& policy = video_policy()) {
  auto plan = plan_answer(offer, policy);
  if (!plan) {
    ADD_FAILURE() << plan.error().reason;
    return {};
  }
  return *plan;
}

std::vector<std::string> values(const PlannedSection& s, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& a : s.answer_attributes) {
    if (a.name == name) out.push_back(a.value.value_or(""));
  }
  return out;
}

bool has_note(const PlannedSection& s, std::string_view text) {
  for (const auto& note : s.notes) {
    if (note.find(text) != std::string::npos) return true;
  }
  return false;
}

constexpr std::string_view kAudio = "m=audio 4000 RTP/AVP 0\r\n";

std::string vp8(int port, std::string_view direction, std::string_view extra = {}) {
  std::string s = "m=video " + std::to_string(port) + " RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\na=";
  s.append(direction).append("\r\n").append(extra);
  return s;
}

std::string many_videos(std::size_t count, std::string_view direction) {
  std::string s(kAudio);
  for (std::size_t i = 0; i < count; ++i) s += vp8(static_cast<int>(5000 + 2 * i), direction);
  return s;
}

TEST(VideoLimits, ReceivesOnlyMaxReceiveStreamsOf49SendingSections) {
  AnswerPlan plan = plan_ok(offer_with(many_videos(49, "sendonly")));
  ASSERT_EQ(plan.sections.size(), 50u);
  EXPECT_EQ(plan.ports_needed(), 3u);  // audio and two receive streams
  EXPECT_EQ(plan.sections[1].stream.local_direction, Direction::kRecvOnly);
  EXPECT_EQ(plan.sections[2].stream.local_direction, Direction::kRecvOnly);
  for (std::size_t i = 3; i < 50; ++i) EXPECT_EQ(plan.sections[i].reject_reason, RejectReason::kTooManyStreams);
}

TEST(VideoLimits, SendrecvSectionsKeepTheDirectionLeftInBudget) {
  AnswerPlan plan = plan_ok(offer_with(many_videos(49, "sendrecv")));
  EXPECT_EQ(plan.ports_needed(), 10u);  // audio and nine send streams, two of them also receiving
  EXPECT_EQ(plan.sections[1].stream.local_direction, Direction::kSendRecv);
  EXPECT_EQ(plan.sections[2].stream.local_direction, Direction::kSendRecv);
  EXPECT_EQ(plan.sections[3].stream.local_direction, Direction::kSendOnly);
  EXPECT_TRUE(has_note(plan.sections[3], "not receiving: max_receive_streams reached"));
  EXPECT_EQ(plan.sections[9].stream.local_direction, Direction::kSendOnly);
  EXPECT_EQ(plan.sections[10].reject_reason, RejectReason::kTooManyStreams);
  EXPECT_EQ(to_string(RejectReason::kTooManyStreams), "too many streams of this media type");
}

TEST(VideoLimits, InactiveSectionsTakeNoBudget) {
  AnswerPlan plan = plan_ok(offer_with(many_videos(3, "inactive") + vp8(6000, "sendonly") + vp8(6002, "sendonly")));
  EXPECT_EQ(plan.sections[1].stream.local_direction, Direction::kInactive);
  EXPECT_TRUE(plan.sections[1].stream.accepted);
  EXPECT_EQ(plan.sections[4].stream.local_direction, Direction::kRecvOnly);
  EXPECT_EQ(plan.sections[5].stream.local_direction, Direction::kRecvOnly);
}

TEST(VideoLimits, RefusesAnOfferWithMoreThanMaxSectionsWith488) {
  MediaPolicy policy = video_policy();
  policy.max_sections = 32;
  auto plan = plan_answer(offer_with(many_videos(49, "sendrecv")), policy);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().sip_status, 488);
  EXPECT_EQ(plan.error().warning_value("chorus"), "399 chorus \"Too many media sections\"");
  policy.max_sections = 50;
  EXPECT_TRUE(plan_answer(offer_with(many_videos(49, "sendrecv")), policy));
}

TEST(VideoLimits, RejectsSectionOfUnknownCodecsAndKeepsTheRest) {
  auto offer = offer_with(std::string(kAudio) +
                          "m=video 5000 RTP/AVPF 98 45 34\r\na=rtpmap:98 VP9/90000\r\na=rtpmap:45 AV1/90000\r\n");
  AnswerPlan plan = plan_ok(offer);
  EXPECT_EQ(plan.sections[1].reject_reason, RejectReason::kNoCommonCodec);
  EXPECT_EQ(plan.ports_needed(), 1u);
  auto only_video = plan_answer(offer_with("m=video 5000 RTP/AVPF 98\r\na=rtpmap:98 VP9/90000\r\n"), video_policy());
  ASSERT_FALSE(only_video);
  EXPECT_EQ(only_video.error().warning_code, 305);
  EXPECT_EQ(only_video.error().reason, "No common codec");
}

TEST(VideoLimits, AcceptsAtMostEightFormatsPerSection) {
  std::string media = "m=video 5000 RTP/AVPF";
  std::string lines;
  for (int pt = 96; pt < 116; ++pt) {
    media.append(" ").append(std::to_string(pt));
    lines.append("a=rtpmap:").append(std::to_string(pt)).append(" VP8/90000\r\n");
  }
  AnswerPlan plan = plan_ok(offer_with(media + "\r\n" + lines + "a=rtcp-fb:* nack\r\n"));
  EXPECT_EQ(plan.sections[0].stream.video_formats.size(), kMaxVideoFormats);
  EXPECT_EQ(plan.sections[0].answer_formats.size(), kMaxVideoFormats);
  EXPECT_EQ(plan.sections[0].stream.video_formats.back().payload_type, 103);
  EXPECT_TRUE(has_note(plan.sections[0], "video format 104 ignored"));
}

TEST(VideoLimits, AcceptsAVideoOnlyOffer) {
  AnswerPlan plan = plan_ok(offer_with(vp8(5000, "sendrecv")));
  EXPECT_EQ(plan.ports_needed(), 1u);
  auto refused = plan_answer(offer_with(vp8(5000, "sendrecv")), MediaPolicy{});
  ASSERT_FALSE(refused);  // video off: as before, no audio stream
  EXPECT_EQ(refused.error().reason, "No audio stream offered");
}

TEST(VideoLimits, RefusesH264WithoutPacketizationModeOne) {
  auto offer = offer_with(
      "m=video 5000 RTP/AVPF 97 99\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f\r\n"
      "a=rtpmap:99 H264/90000\r\na=fmtp:99 profile-level-id=42e01f;packetization-mode=2\r\n");
  auto plan = plan_answer(offer, video_policy());
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().reason, "No common codec");
}

TEST(VideoLimits, AnswersH264LevelsPerRfc6184) {
  auto level_of = [](std::string_view fmtp) {
    auto plan = plan_ok(
        offer_with("m=video 5000 RTP/AVPF 97\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 " + std::string(fmtp) + "\r\n"));
    return plan.sections.at(0).stream.video_formats.at(0).fmtp;
  };
  // Without level-asymmetry-allowed both sides use the lower level; with it, ours (3.1).
  EXPECT_EQ(level_of("profile-level-id=42e033;packetization-mode=1"),
            "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1");
  EXPECT_EQ(level_of("profile-level-id=42e00c;packetization-mode=1"),
            "profile-level-id=42e00c;packetization-mode=1;level-asymmetry-allowed=1");
  EXPECT_EQ(level_of("profile-level-id=42e00c;packetization-mode=1;level-asymmetry-allowed=1"),
            "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1");
  // No profile-level-id: Baseline level 1 (§8.1).
  EXPECT_EQ(level_of("packetization-mode=1"), "profile-level-id=42000a;packetization-mode=1;level-asymmetry-allowed=1");
  MediaPolicy level4 = video_policy();
  level4.video.h264_max_level_idc = 40;
  auto plan = plan_ok(offer_with("m=video 5000 RTP/AVPF 97\r\na=rtpmap:97 H264/90000\r\n"
                                 "a=fmtp:97 profile-level-id=42e033;packetization-mode=1\r\n"),
                      level4);
  EXPECT_EQ(plan.sections[0].stream.video_formats[0].fmtp,
            "profile-level-id=42e028;packetization-mode=1;level-asymmetry-allowed=1");
}

TEST(VideoLimits, IgnoresRtxWhoseAptNamesNothing) {
  AnswerPlan plan = plan_ok(offer_with(
      "m=video 5000 RTP/AVPF 96 97 98 99\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=120\r\n"
      "a=rtpmap:98 rtx/90000\r\na=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=96\r\n"));
  const PlannedSection& s = plan.sections[0];
  EXPECT_EQ(s.answer_formats, (std::vector<std::string>{"96", "99"}));
  EXPECT_EQ(s.stream.video_formats[0].rtx_payload_type, 99);
  EXPECT_TRUE(has_note(s, "rtx 97 ignored: its apt= names no offered format"));
  EXPECT_TRUE(has_note(s, "rtx 98 ignored"));
}

TEST(VideoLimits, IgnoresRidsWithoutSimulcast) {
  constexpr std::string_view kRidExt = "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n";
  AnswerPlan plan =
      plan_ok(offer_with(vp8(5000, "sendonly", std::string(kRidExt) + "a=rid:q send\r\na=rid:f send\r\n")));
  const PlannedSection& s = plan.sections[0];
  EXPECT_TRUE(s.stream.receive_rids.empty());
  EXPECT_TRUE(values(s, "rid").empty());
  EXPECT_TRUE(values(s, "simulcast").empty());
  EXPECT_TRUE(has_note(s, "a=rid ignored: no a=simulcast"));
}

std::string simulcast_offer(std::size_t rids, std::string_view direction = "sendonly") {
  std::string extra = "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n";
  std::string list;
  for (std::size_t i = 0; i < rids; ++i) {
    extra.append("a=rid:r").append(std::to_string(i)).append(" send\r\n");
    list.append(i == 0 ? "" : ";").append("r").append(std::to_string(i));
  }
  extra.append("a=simulcast:send ").append(list).append("\r\n");
  return vp8(5000, direction, extra);
}

TEST(VideoLimits, KeepsTheFirstThreeOfTenSimulcastLayers) {
  AnswerPlan plan = plan_ok(offer_with(simulcast_offer(10)));
  const PlannedSection& s = plan.sections[0];
  EXPECT_EQ(s.stream.receive_rids, (std::vector<SimulcastRid>{{"r0", false}, {"r1", false}, {"r2", false}}));
  EXPECT_EQ(s.stream.simulcast_layers_dropped, 7u);
  EXPECT_EQ(values(s, "rid"), (std::vector<std::string>{"r0 recv", "r1 recv", "r2 recv"}));
  EXPECT_EQ(values(s, "simulcast"), std::vector<std::string>{"recv r0;r1;r2"});
  EXPECT_TRUE(has_note(s, "7 simulcast layers beyond 3 dropped"));
}

TEST(VideoLimits, KeepsPausedMarksAndAlternativesAndDropsUndeclaredRids) {
  AnswerPlan plan = plan_ok(offer_with(vp8(5000, "sendonly",
                                           "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                                           "a=rid:a send\r\na=rid:b send\r\na=rid:c send pt=97\r\na=rid:d recv\r\n"
                                           "a=simulcast:send ~a,x;b;c;d\r\n")));
  const PlannedSection& s = plan.sections[0];
  // x is not declared, c is restricted to a format we did not take, d is declared recv.
  EXPECT_EQ(values(s, "simulcast"), std::vector<std::string>{"recv ~a;b"});
  EXPECT_EQ(s.stream.receive_rids, (std::vector<SimulcastRid>{{"a", true}, {"b", false}}));
  EXPECT_TRUE(has_note(s, "simulcast stream dropped"));
}

TEST(VideoLimits, IgnoresSimulcastWithoutTheRidExtensionOrOnASendStream) {
  std::string without_extension = simulcast_offer(3);
  without_extension.erase(without_extension.find("a=extmap"),
                          without_extension.find("a=rid") - without_extension.find("a=extmap"));
  AnswerPlan plain = plan_ok(offer_with(without_extension));
  EXPECT_TRUE(plain.sections[0].stream.receive_rids.empty());
  EXPECT_TRUE(has_note(plain.sections[0], "rtp-stream-id header extension is not offered"));

  AnswerPlan send_stream = plan_ok(offer_with(simulcast_offer(3, "recvonly")));
  EXPECT_EQ(send_stream.sections[0].stream.local_direction, Direction::kSendOnly);
  EXPECT_TRUE(values(send_stream.sections[0], "simulcast").empty());

  AnswerPlan they_receive = plan_ok(offer_with(vp8(5000, "sendrecv",
                                                   "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                                                   "a=rid:a recv\r\na=simulcast:recv a\r\n")));
  EXPECT_TRUE(values(they_receive.sections[0], "simulcast").empty());
  EXPECT_TRUE(has_note(they_receive.sections[0], "the offerer sends no simulcast"));
}

TEST(VideoLimits, AnswersExtmapIdsOnlyInTheirRange) {
  constexpr std::string_view kExtmaps =
      "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:256 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:15 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
      "a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
      "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:5/sendonly urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n";
  AnswerPlan plan = plan_ok(offer_with(vp8(5000, "sendrecv", kExtmaps)));
  const PlannedSection& s = plan.sections[0];
  EXPECT_EQ(values(s, "extmap"), (std::vector<std::string>{"2 urn:ietf:params:rtp-hdrext:sdes:mid",
                                                           "5/recvonly urn:ietf:params:rtp-hdrext:sdes:"
                                                           "repaired-rtp-stream-id"}));
  EXPECT_TRUE(values(s, "extmap-allow-mixed").empty());
  EXPECT_TRUE(has_note(s, "extmap id is not 1-255"));
  EXPECT_TRUE(has_note(s, "a=extmap id 15 ignored without a=extmap-allow-mixed"));
  EXPECT_TRUE(has_note(s, "a=extmap 3 ignored: id or URI repeated"));

  AnswerPlan mixed = plan_ok(offer_with(vp8(5000, "sendrecv", kExtmaps), "a=extmap-allow-mixed\r\n"));
  EXPECT_EQ(mixed.sections[0].stream.extensions,
            (std::vector<HeaderExtension>{{std::string(kRtpStreamIdUri), 15},
                                          {std::string(kMidExtensionUri), 2},
                                          {std::string(kRepairedRtpStreamIdUri), 5}}));
  EXPECT_EQ(values(mixed.sections[0], "extmap-allow-mixed").size(), 1u);
}

TEST(VideoLimits, AnswersTransportCcOnlyWithItsExtension) {
  constexpr std::string_view kFeedback = "a=rtcp-fb:* transport-cc\r\na=rtcp-fb:96 nack\r\n";
  AnswerPlan without = plan_ok(offer_with(vp8(5000, "sendrecv", kFeedback)));
  EXPECT_EQ(without.sections[0].stream.video_formats[0].feedback, (FeedbackSupport{true, false, false, false, false}));
  EXPECT_EQ(values(without.sections[0], "rtcp-fb"), std::vector<std::string>{"96 nack"});
  AnswerPlan with =
      plan_ok(offer_with(vp8(5000, "sendrecv",
                             std::string(kFeedback) + "a=extmap:3 http://www.ietf.org/id/"
                                                      "draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n")));
  EXPECT_EQ(values(with.sections[0], "rtcp-fb"), (std::vector<std::string>{"96 nack", "96 transport-cc"}));
}

TEST(VideoLimits, BoundsTheSsrcsASectionReports) {
  std::string extra;
  for (int i = 0; i < 500; ++i) extra.append("a=ssrc:").append(std::to_string(1000 + i)).append(" cname:x\r\n");
  for (int i = 0; i < 40; ++i) extra.append("a=ssrc-group:FID ").append(std::to_string(1000 + i)).append(" 1\r\n");
  AnswerPlan plan = plan_ok(offer_with(vp8(5000, "sendonly", extra)));
  const NegotiatedStream& s = plan.sections[0].stream;
  EXPECT_EQ(s.remote_ssrcs.size(), kMaxRemoteSsrcs);
  EXPECT_EQ(s.remote_ssrcs.front(), 1000u);
  EXPECT_EQ(s.remote_ssrc_groups.size(), kMaxSsrcGroups);
  EXPECT_TRUE(has_note(plan.sections[0], "436 a=ssrc lines beyond the first 64 SSRCs ignored"));
  EXPECT_TRUE(has_note(plan.sections[0], "8 a=ssrc-group lines beyond the first 32 ignored"));
}

TEST(VideoLimits, ReadsBandwidthFromTiasThenAsAndSaturates) {
  auto bitrate = [](std::string_view lines, std::string_view session = {}) {
    return plan_ok(offer_with(vp8(5000, "sendonly", lines), session)).sections[0].stream.remote_max_bitrate_bps;
  };
  EXPECT_EQ(bitrate(""), 0u);
  EXPECT_EQ(bitrate("b=AS:0\r\n"), 0u);  // "no bandwidth" reads as none given
  EXPECT_EQ(bitrate("b=AS:512\r\n"), 512'000u);
  EXPECT_EQ(bitrate("b=AS:512\r\nb=TIAS:400000\r\n"), 400'000u);
  EXPECT_EQ(bitrate("b=AS:18446744073709551615\r\n"), UINT64_MAX);
  EXPECT_EQ(bitrate("", "b=AS:2048\r\n"), 2'048'000u);
}

TEST(VideoLimits, SurvivesGarbageInEveryVideoAttribute) {
  constexpr std::string_view kGarbage =
      "a=extmap:x\r\na=extmap\r\na=rtcp-fb:\r\na=rtcp-fb:96\r\na=rtcp-fb:999 nack\r\na=rid:\r\na=rid:q\r\n"
      "a=rid:!! send\r\na=simulcast:\r\na=simulcast:send ;;\r\na=ssrc:\r\na=ssrc:x y\r\na=ssrc-group:\r\n"
      "a=ssrc-group:FID x\r\na=msid:\r\na=content:\r\na=content:,,\r\na=fmtp:96 ;;=\r\na=fmtp:\r\n"
      "a=rtpmap:97 rtx\r\na=fmtp:97 apt\r\na=rtcp-rsize:junk\r\n";
  auto offer = offer_with(vp8(5000, "sendonly", kGarbage));
  AnswerPlan plan = plan_ok(offer);
  const PlannedSection& s = plan.sections[0];
  EXPECT_TRUE(s.stream.accepted);
  EXPECT_EQ(s.answer_formats, std::vector<std::string>{"96"});
  EXPECT_FALSE(s.stream.content);
  EXPECT_TRUE(s.stream.remote_ssrcs.empty());
  EXPECT_LE(s.notes.size(), kMaxSectionNotes);
  auto answer = build_answer(plan, LocalMediaAddress{"198.51.100.10"}, MediaPorts{{20000}, {}}, OriginInfo{});
  ASSERT_TRUE(answer);
  EXPECT_TRUE(parse_sdp(serialize_sdp(*answer)));
}

TEST(VideoLimits, AcceptsBundleOnlySectionsInABundleGroup) {
  constexpr std::string_view kSession = "a=group:BUNDLE 0 1\r\n";
  const std::string media =
      "m=audio 4000 RTP/AVP 0\r\na=mid:0\r\n"
      "m=video 0 RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\na=mid:1\r\na=bundle-only\r\na=sendonly\r\n"
      "m=video 0 RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\na=mid:2\r\na=bundle-only\r\na=sendonly\r\n";
  AnswerPlan plan = plan_ok(offer_with(media, kSession));
  EXPECT_TRUE(plan.sections[1].stream.accepted);
  EXPECT_TRUE(plan.sections[1].stream.bundle_only);
  EXPECT_EQ(plan.sections[1].stream.remote_port, 0);
  EXPECT_EQ(plan.sections[2].reject_reason, RejectReason::kDisabledByOfferer);  // mid 2 is in no group
  EXPECT_EQ(plan.ports_needed(), 2u);
  auto answer = build_answer(plan, LocalMediaAddress{"198.51.100.10"}, MediaPorts{{20000, 20000}, {}}, OriginInfo{});
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->media[1].port, 20000);  // the caller gave it the bundle's port

  MediaPolicy audio_only;
  EXPECT_EQ(plan_ok(offer_with(media, kSession), audio_only).sections[1].reject_reason,
            RejectReason::kDisabledByOfferer);
}

TEST(VideoLimits, AudioOnlyAnswersToOurOfferRejectVideoSections) {
  MediaPolicy policy = video_policy();
  auto ours = build_offer(policy, LocalMediaAddress{"198.51.100.10"}, MediaPorts{{20000}, {}}, OriginInfo{});
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->media.size(), 1u);  // our offers stay audio-only
  auto video_instead = offer_with(vp8(5000, "sendrecv"));
  auto read = accept_answer(*ours, video_instead);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().sip_status, 488);
  auto extra_line = offer_with(std::string(kAudio) + vp8(5000, "sendrecv"));
  ASSERT_FALSE(accept_answer(*ours, extra_line));
}

}  // namespace video_answer_limits_test
}  // namespace chorus::sdp
