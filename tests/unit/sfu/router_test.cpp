// Router on a real media worker over loopback: who fills a receiver's slot (the last-N speakers,
// never itself), how a slot switches (only at the new source's keyframe, with unbroken sequence
// numbers, timestamps and VP8 picture ids), slots going dark when their publisher leaves, NACKs
// answered with RTX from the cache, receivers' PLIs passed on rate limited, simulcast layer choice
// under a receive cap, and the producer bitrate limit. Phones on loopback stand for the endpoints.
#include "tests/unit/sfu/router_test_support.hpp"

#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"

namespace chorus::sfu::test {
namespace router_test {

using chorus::test::wait_until;

constexpr ParticipantId kAnn = 1;
constexpr ParticipantId kBob = 2;
constexpr ParticipantId kCat = 3;

std::uint16_t sequence_of(std::span<const std::uint8_t> packet) {
  return static_cast<std::uint16_t>((packet[2] << 8) | packet[3]);
}
std::uint32_t timestamp_of(std::span<const std::uint8_t> packet) {
  return (std::uint32_t{packet[4]} << 24) | (std::uint32_t{packet[5]} << 16) | (std::uint32_t{packet[6]} << 8) |
         packet[7];
}

class RouterForwardingTest : public RouterTest {
 protected:
  // Ann publishes one stream: a keyframe, then inter frames, 3000 ticks apart.
  void publish(ParticipantId who, std::uint16_t first_sequence, int packets, bool keyframe_first,
               std::uint16_t first_picture = 1000) {
    for (int i = 0; i < packets; ++i) {
      const auto sequence = static_cast<std::uint16_t>(first_sequence + i);
      auto packet = vp8_packet(publisher_ssrc(who), sequence, 3000U * sequence,
                               static_cast<std::uint16_t>(first_picture + i), keyframe_first && i == 0);
      send(who, packet);
    }
  }
};

TEST_F(RouterForwardingTest, ForwardsAPublishersVideoIntoTheReceiversSlotWithItsOwnHeader) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, /*produce=*/true, /*slot=*/false);
  add_video(kBob, false, true);
  publish(kAnn, 10, 1, true);  // the router learns Ann sends video, then asks her for a keyframe
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  EXPECT_EQ((*listener_->map_of(kBob))[0].display_name, "Ann");
  EXPECT_EQ((*listener_->map_of(kBob))[0].mid, "v2");
  EXPECT_GE(plis_in(receive(kAnn, 200ms)), 1) << "the new slot's source was asked for a keyframe";
  publish(kAnn, 11, 5, true);
  auto got = receive(kBob, {}, 5);
  ASSERT_EQ(got.rtp.size(), 5U);
  for (std::size_t i = 0; i < got.rtp.size(); ++i) {
    auto packet = media::RtpPacket::parse(got.rtp[i]);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(packet->ssrc(), slot_ssrc(kBob));
    EXPECT_EQ(packet->payload_type(), kReceiverVp8);
    if (i > 0) EXPECT_EQ(sequence_of(got.rtp[i]), static_cast<std::uint16_t>(sequence_of(got.rtp[i - 1]) + 1));
  }
  EXPECT_TRUE(receive(kAnn, 100ms).rtp.empty()) << "Ann has no slot";
}

TEST_F(RouterForwardingTest, AReceiverIsNeverShownItself) {
  join(kAnn, "Ann");
  add_video(kAnn, true, true);
  publish(kAnn, 1, 3, true);
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kAnn).has_value(); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE((*listener_->map_of(kAnn))[0].participant.has_value());
  publish(kAnn, 4, 3, true);
  EXPECT_TRUE(receive(kAnn).rtp.empty()) << "its own video never comes back in its slot";
}

TEST_F(RouterForwardingTest, TheSlotSwitchesToTheNewSpeakerOnlyAtItsKeyframeWithoutABreak) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  join(kCat, "Cat");
  add_video(kAnn, true, false);
  add_video(kCat, true, false);
  add_video(kBob, false, true);
  publish(kAnn, 100, 1, true);
  publish(kCat, 500, 1, true);
  speak(kAnn, {kAnn, kBob, kCat});
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  publish(kAnn, 101, 4, true, 2000);
  auto before = receive(kBob, {}, 4);
  ASSERT_EQ(before.rtp.size(), 4U);
  // Cat takes the floor: the slot is retargeted, Cat asked for a keyframe; Ann keeps flowing meanwhile.
  speak(kCat, {kAnn, kBob, kCat});
  ASSERT_TRUE(wait_until([&] { return (*listener_->map_of(kBob))[0].participant == kCat; }));
  EXPECT_GE(plis_in(receive(kCat, 200ms)), 1);
  publish(kCat, 501, 3, false, 7000);  // inter frames of Cat: not a switch point
  publish(kAnn, 105, 2, false, 2004);  // Ann still flows until Cat's keyframe
  auto between = receive(kBob, {}, 2);
  ASSERT_EQ(between.rtp.size(), 2U) << "only Ann's two packets";
  publish(kCat, 504, 3, true, 7003);   // Cat's keyframe: the switch
  publish(kAnn, 107, 2, false, 2006);  // Ann's late packets are no longer forwarded
  auto after = receive(kBob, {}, 3);
  ASSERT_EQ(after.rtp.size(), 3U);
  // One unbroken stream across the switch: sequence +1, timestamp forward, picture id +1.
  EXPECT_EQ(sequence_of(after.rtp[0]), static_cast<std::uint16_t>(sequence_of(between.rtp.back()) + 1));
  EXPECT_GT(timestamp_of(after.rtp[0]) - timestamp_of(between.rtp.back()), 0U);
  EXPECT_LT(timestamp_of(after.rtp[0]) - timestamp_of(between.rtp.back()), 90000U * 10);
  EXPECT_EQ(picture_id_of(after.rtp[0]), static_cast<std::uint16_t>(*picture_id_of(between.rtp.back()) + 1));
  EXPECT_EQ(picture_id_of(after.rtp[1]), static_cast<std::uint16_t>(*picture_id_of(after.rtp[0]) + 1));
}

TEST_F(RouterForwardingTest, AReceiverWithoutTheSpeakersCodecIsShownTheNextSpeakerItCanDecode) {
  // Bob is an H.264-only room system; Ann's camera is VP8, Cat's H.264. Ann talks, but an SFU does
  // not transcode: Bob's one slot shows Cat, and passing Ann over is counted once.
  join(kAnn, "Ann");
  join(kBob, "Bob");
  join(kCat, "Cat");
  add_video(kAnn, true, false);
  add_video(kCat, true, false, {}, {true, true, false, false, false}, /*h264=*/true);
  add_video(kBob, false, true, {}, {true, true, false, false, false}, /*h264=*/true);
  publish(kAnn, 1, 1, true);
  auto cat_key = h264_packet(publisher_ssrc(kCat), 1, 3000, true);
  send(kCat, cat_key);
  speak(kAnn, {kAnn, kBob, kCat});
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kCat; }));
  EXPECT_EQ(counters_->codec_mismatches.load(), 1U);
  for (std::uint16_t sequence = 2; sequence < 5; ++sequence) {
    auto packet = h264_packet(publisher_ssrc(kCat), sequence, 3000U * sequence, sequence == 2);
    send(kCat, packet);
  }
  auto got = receive(kBob, {}, 3);
  ASSERT_EQ(got.rtp.size(), 3U);
  EXPECT_EQ(media::RtpPacket::parse(got.rtp[0])->payload_type(), kH264);
  speak(kAnn, {kAnn, kBob, kCat});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ((*listener_->map_of(kBob))[0].participant, kCat) << "still Cat: Ann's VP8 cannot reach Bob";
  EXPECT_EQ(counters_->codec_mismatches.load(), 1U) << "logged and counted once per pair";
}

TEST_F(RouterForwardingTest, TheSlotGoesDarkWhenItsPublisherLeaves) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, true, false);
  add_video(kBob, false, true);
  publish(kAnn, 1, 1, true);
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  worker_.remove_session(peers_[kAnn].session);
  on_worker([](Router& router) { router.remove_participant(kAnn); });
  ASSERT_TRUE(wait_until([&] { return !(*listener_->map_of(kBob))[0].participant.has_value(); }));
}

TEST_F(RouterForwardingTest, AReceiversNackIsAnsweredWithRtxFromTheCache) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, true, false);
  add_video(kBob, false, true);
  publish(kAnn, 40, 1, true);
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  publish(kAnn, 41, 4, true);
  auto got = receive(kBob, {}, 4);
  ASSERT_EQ(got.rtp.size(), 4U);
  const std::uint16_t lost = sequence_of(got.rtp[2]);
  std::array<std::uint8_t, 64> nack{};
  auto length = media::rtcp::GenericNack{0x1234, slot_ssrc(kBob), {media::rtcp::NackItem{lost, 0}}}.write(nack);
  ASSERT_TRUE(length.has_value());
  peers_[kBob].phone->send_raw(server_of(kBob), std::span(nack).first(*length));
  auto repaired = receive(kBob, {}, 1);
  ASSERT_EQ(repaired.rtp.size(), 1U);
  auto rtx = media::RtpPacket::parse(repaired.rtp[0]);
  ASSERT_TRUE(rtx.has_value());
  EXPECT_EQ(rtx->ssrc(), slot_rtx_ssrc(kBob));
  EXPECT_EQ(rtx->payload_type(), kReceiverRtx);
  // RFC 4588 §4: the original sequence number first, then the original payload.
  ASSERT_GE(rtx->payload().size(), 2U);
  EXPECT_EQ((rtx->payload()[0] << 8) | rtx->payload()[1], lost);
  auto original = media::RtpPacket::parse(got.rtp[2]);
  EXPECT_TRUE(std::ranges::equal(rtx->payload().subspan(2), original->payload()));
}

TEST_F(RouterForwardingTest, AReceiversPlisReachThePublisherRateLimited) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, true, false);
  add_video(kBob, false, true);
  publish(kAnn, 1, 1, true);
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  publish(kAnn, 2, 2, true);
  (void)receive(kAnn, 400ms);  // the slot's own first request, and the interval after it
  std::array<std::uint8_t, 16> pli{};
  auto length = media::rtcp::Pli{0x1234, slot_ssrc(kBob)}.write(pli);
  for (int i = 0; i < 5; ++i) peers_[kBob].phone->send_raw(server_of(kBob), std::span(pli).first(*length));
  EXPECT_EQ(plis_in(receive(kAnn, 200ms)), 1) << "five PLIs within the interval are one request";
}

TEST_F(RouterForwardingTest, APublisherWithoutRtcpFeedbackIsAskedForKeyframesThroughTheListener) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, true, false, {}, FeedbackCaps{});  // a SIP phone that takes no PLI/FIR
  add_video(kBob, false, true);
  publish(kAnn, 1, 1, true);
  ASSERT_TRUE(wait_until([&] { return listener_->info_requests() >= 1; }));
}

TEST_F(RouterForwardingTest, AProducerAboveItsBitrateLimitIsCutAndCounted) {
  config_.max_producer_bps = 200'000;
  router_ = std::make_shared<Router>("room", config_, listener_, counters_);
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, true, false);
  add_video(kBob, false, true);
  publish(kAnn, 1, 1, true);
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  // 300 packets of ~1.1 kB at once: far above 200 kbit/s.
  for (int i = 0; i < 300; ++i)
    send(kAnn, vp8_packet(publisher_ssrc(kAnn), static_cast<std::uint16_t>(2 + i), 3000U * i,
                          static_cast<std::uint16_t>(i), i == 0, 320, 180, {}, 1100));
  ASSERT_TRUE(wait_until([&] { return counters_->dropped_over_bitrate.load() > 0; }));
  auto got = receive(kBob);
  EXPECT_LT(got.rtp.size(), 100U);
}

}  // namespace router_test
}  // namespace chorus::sfu::test
