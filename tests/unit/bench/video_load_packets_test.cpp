// video_load's packets (bench/tools/video_load_packets.hpp): the synthetic VP8 stream is what the
// SFU router takes for VP8 (its own Vp8Descriptor finds the key frames and their size), frames and
// key frames follow RFC 7741 / RFC 6386 and the PLI answer; the stamp survives the SFU's PictureID
// rewrite; sequence counting over a window (gaps, wrap, duplicates, reordering, restarts); and the
// RTCP a publisher reads is counted only when it names the publisher's stream.
#include "bench/tools/video_load_packets.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "media/rtcp/compound_builder.hpp"
#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "sfu/payload/vp8_descriptor.hpp"

namespace chorus::bench {
namespace video_load_packets_test {

constexpr std::uint32_t kSsrc = 0x11223344;

Vp8StreamSettings settings(std::uint32_t packets_per_frame = 3, std::size_t packet_size = 1200) {
  Vp8StreamSettings s;
  s.ssrc = kSsrc;
  s.first_sequence = 0xFFFE;  // wraps on the third packet
  s.first_timestamp = 90'000;
  s.first_picture_id = 0x7FFF;  // wraps at the second frame
  s.packets_per_frame = packets_per_frame;
  s.ticks_per_frame = 3000;
  s.width = 640;
  s.height = 360;
  s.packet_size = packet_size;
  return s;
}

// The first packet of settings(): RTP header, RFC 7741 §4.2 descriptor, RFC 6386 §9.1 key frame header.
constexpr std::array<std::uint8_t, 28> kFirstPacketStart = {
    0x80, 0x60,              // V=2, no padding/extension/CSRC; M=0, PT 96
    0xFF, 0xFE,              // sequence number 65534
    0x00, 0x01, 0x5F, 0x90,  // timestamp 90000
    0x11, 0x22, 0x33, 0x44,  // SSRC
    0x90,                    // X=1 S=1 PartID=0: a frame's first packet
    0x80,                    // I=1
    0xFF, 0xFF,              // M=1, PictureID 0x7FFF
    0x30, 0xB3, 0x00,        // frame tag: P=0 (key frame), show_frame
    0x9D, 0x01, 0x2A,        // start code
    0x80, 0x02,              // width 640, no scaling (little-endian)
    0x68, 0x01,              // height 360
    0xBD, 0xCA,              // filler up to the stamp (payload octet i: i * 13 + 7, mod 256)
};

struct Written {
  std::vector<std::uint8_t> bytes;
  media::RtpPacket packet() { return *media::RtpPacket::parse(bytes); }
  sfu::Vp8Descriptor descriptor() { return *sfu::Vp8Descriptor::parse(packet().payload()); }
};

Written next(Vp8Packetizer& packetizer, std::uint32_t index = 0) {
  Written w{std::vector<std::uint8_t>(packetizer.settings().packet_size)};
  const auto size = packetizer.next(w.bytes, PayloadStamp{123'456'789'000ULL, 7, index});
  EXPECT_EQ(size, packetizer.settings().packet_size);
  return w;
}

TEST(Vp8Packetizer, FirstPacketMatchesTheAnnotatedWireVector) {
  auto packetizer = *Vp8Packetizer::create(settings());
  auto first = next(packetizer);
  ASSERT_EQ(first.bytes.size(), 1200u);
  EXPECT_TRUE(std::equal(kFirstPacketStart.begin(), kFirstPacketStart.end(), first.bytes.begin()));
}

TEST(Vp8Packetizer, FirstFrameIsAKeyFrameTheRouterRecognises) {
  auto packetizer = *Vp8Packetizer::create(settings());
  auto first = next(packetizer);
  auto descriptor = first.descriptor();
  ASSERT_TRUE(descriptor.is_keyframe());
  EXPECT_EQ(descriptor.keyframe_info(), (sfu::Vp8KeyframeInfo{640, 360, 0, 0}));
  EXPECT_EQ(descriptor.picture_id(), 0x7FFF);
  // The rest of the key frame continues the partition; the next frame is an inter frame.
  auto second = next(packetizer);
  EXPECT_FALSE(second.descriptor().begins_frame());
  EXPECT_FALSE(second.descriptor().is_keyframe());
  (void)next(packetizer);
  auto inter = next(packetizer);
  EXPECT_TRUE(inter.descriptor().begins_frame());
  EXPECT_FALSE(inter.descriptor().is_keyframe());
  EXPECT_EQ(packetizer.keyframes(), 1u);
  EXPECT_EQ(packetizer.frames(), 2u);
}

TEST(Vp8Packetizer, MarksEachFramesLastPacketAndAdvancesTimestampPictureIdAndSequence) {
  auto packetizer = *Vp8Packetizer::create(settings());
  std::vector<Written> packets;
  for (int i = 0; i < 6; ++i) packets.push_back(next(packetizer));
  const std::array<bool, 6> markers{false, false, true, false, false, true};
  const std::array<std::uint16_t, 6> sequences{0xFFFE, 0xFFFF, 0, 1, 2, 3};
  for (std::size_t i = 0; i < packets.size(); ++i) {
    auto packet = packets[i].packet();
    EXPECT_EQ(packet.marker(), markers[i]) << i;
    EXPECT_EQ(packet.sequence_number(), sequences[i]) << i;
    EXPECT_EQ(packet.ssrc(), kSsrc);
    EXPECT_EQ(packet.payload_type(), kVp8PayloadType);
    // RFC 7741 §4.2: every packet of a picture carries its PictureID, wrapping at 15 bits.
    EXPECT_EQ(packets[i].descriptor().picture_id(), i < 3 ? 0x7FFF : 0);
    EXPECT_EQ(packet.timestamp(), i < 3 ? 90'000u : 93'000u);
  }
}

TEST(Vp8Packetizer, RequestedKeyFrameStartsAtTheNextFrameNotMidFrame) {
  auto packetizer = *Vp8Packetizer::create(settings());
  for (int i = 0; i < 4; ++i) (void)next(packetizer);  // key frame, then the first inter frame begins
  packetizer.request_keyframe();                       // a PLI arrives mid-frame
  EXPECT_FALSE(next(packetizer).descriptor().begins_frame());
  (void)next(packetizer);
  auto answer = next(packetizer);
  EXPECT_TRUE(answer.descriptor().is_keyframe());
  EXPECT_EQ(packetizer.keyframes(), 2u);
  (void)next(packetizer);
  (void)next(packetizer);
  EXPECT_FALSE(next(packetizer).descriptor().is_keyframe());  // one request, one key frame
}

TEST(Vp8Packetizer, OnePacketFramesAreEachMarkedAndBeginAFrame) {
  auto packetizer = *Vp8Packetizer::create(settings(1));
  for (int i = 0; i < 3; ++i) {
    auto w = next(packetizer);
    EXPECT_TRUE(w.packet().marker());
    EXPECT_TRUE(w.descriptor().begins_frame());
    EXPECT_EQ(w.descriptor().is_keyframe(), i == 0);
  }
}

TEST(Vp8Packetizer, RefusesSizesOutsideItsLimitsAndBuffersTooSmall) {
  EXPECT_FALSE(Vp8Packetizer::create(settings(3, kMinPacketSize - 1)));
  EXPECT_FALSE(Vp8Packetizer::create(settings(3, kMaxPacketSize + 1)));
  EXPECT_FALSE(Vp8Packetizer::create(settings(0)));
  auto packetizer = *Vp8Packetizer::create(settings(3, kMinPacketSize));
  std::vector<std::uint8_t> small(kMinPacketSize - 1);
  EXPECT_FALSE(packetizer.next(small, {}));
  EXPECT_EQ(packetizer.packets(), 0u);  // nothing consumed: the next packet is still the first
  EXPECT_TRUE(next(packetizer).descriptor().is_keyframe());
}

TEST(FrameShape, SplitsTheRateIntoFramesWhoseTimestampsFollowThePacing) {
  const auto video = frame_shape(1000, 30);  // 33 packets per frame, 33 ms of 90 kHz
  EXPECT_EQ(video.packets_per_frame, 33u);
  EXPECT_EQ(video.ticks_per_frame, 2970u);
  const auto slow = frame_shape(10, 30);  // fewer packets than frames: one packet per frame
  EXPECT_EQ(slow.packets_per_frame, 1u);
  EXPECT_EQ(slow.ticks_per_frame, 9000u);
  EXPECT_EQ(frame_shape(0, 30).packets_per_frame, 1u);
}

TEST(InspectPayload, ReadsTheStampBackAfterTheSfuRewritesThePictureId) {
  auto packetizer = *Vp8Packetizer::create(settings());
  Written w{std::vector<std::uint8_t>(1200)};
  const PayloadStamp stamp{0x0102030405060708ULL, 9, 0xA0B0C0D0};
  ASSERT_TRUE(packetizer.next(w.bytes, stamp));
  auto packet = w.packet();
  ASSERT_TRUE(sfu::write_vp8_picture_id(packet.mutable_payload(), 0x1234));
  const auto inspected = inspect_payload(packet.payload());
  ASSERT_TRUE(inspected);
  EXPECT_EQ(inspected->stamp, stamp);
  EXPECT_TRUE(inspected->keyframe);
  EXPECT_EQ(inspected->picture_id, 0x1234);
}

TEST(InspectPayload, RefusesPayloadsThatAreNotOurs) {
  const std::vector<std::uint8_t> empty;
  EXPECT_EQ(inspect_payload(empty).error(), PayloadError::kNotVp8);
  std::vector<std::uint8_t> truncated_descriptor{0x80, 0x80};  // X, I announced, PictureID missing
  EXPECT_EQ(inspect_payload(truncated_descriptor).error(), PayloadError::kNotVp8);
  std::vector<std::uint8_t> short_payload(kStampOffset + kStampSize - 1, 0);
  short_payload[0] = 0x10;  // S=1, no extension: a valid descriptor, but no room for the stamp
  EXPECT_EQ(inspect_payload(short_payload).error(), PayloadError::kTooShort);
}

TEST(SequenceTracker, CountsGapsAsLossAcrossTheWrap) {
  SequenceTracker t;
  for (std::uint16_t s : {65533, 65534, 1, 2}) t.on_packet(s);  // 65535 and 0 missing
  EXPECT_EQ(t.expected(), 6u);
  EXPECT_EQ(t.received(), 4u);
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.reordered(), 0u);
}

TEST(SequenceTracker, LatePacketFillsItsGapAndADuplicateCountsOnce) {
  SequenceTracker t;
  for (std::uint16_t s : {10, 12, 11, 12, 11, 13}) t.on_packet(s);
  EXPECT_EQ(t.expected(), 4u);
  EXPECT_EQ(t.received(), 4u);
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.duplicates(), 2u);
}

TEST(SequenceTracker, PacketFromJustBeforeTheWindowWidensIt) {
  SequenceTracker t;
  for (std::uint16_t s : {100, 101, 98}) t.on_packet(s);  // 98 was in flight when the window opened
  EXPECT_EQ(t.expected(), 4u);
  EXPECT_EQ(t.received(), 3u);
  EXPECT_EQ(t.lost(), 1u);  // 99
}

TEST(SequenceTracker, LargeJumpBackRestartsAndKeepsWhatWasCounted) {
  SequenceTracker t;
  for (std::uint16_t s = 5000; s < 5010; ++s) t.on_packet(s);
  t.on_packet(100);  // a restarted sender, far behind
  t.on_packet(102);
  EXPECT_EQ(t.restarts(), 1u);
  EXPECT_EQ(t.expected(), 13u);  // 10 before, 100..102 after
  EXPECT_EQ(t.received(), 12u);
  EXPECT_EQ(t.lost(), 1u);
}

TEST(SequenceTracker, DuplicatesAreFoundAfterALongGap) {
  SequenceTracker t;
  t.on_packet(0);
  t.on_packet(9000);  // a gap longer than the history: every slot of it is cleared
  t.on_packet(9000);
  t.on_packet(8999);
  EXPECT_EQ(t.duplicates(), 1u);
  EXPECT_EQ(t.received(), 3u);
  EXPECT_EQ(t.lost(), 8998u);
}

TEST(SequenceTracker, ResetOpensANewWindow) {
  SequenceTracker t;
  for (std::uint16_t s : {1, 5}) t.on_packet(s);
  t.reset();
  EXPECT_EQ(t.expected(), 0u);
  EXPECT_FALSE(t.highest());
  for (std::uint16_t s : {7, 8}) t.on_packet(s);
  EXPECT_EQ(t.expected(), 2u);
  EXPECT_EQ(t.lost(), 0u);
}

std::vector<std::uint8_t> compound_with(const auto&... packets) {
  std::vector<std::uint8_t> out(512);
  media::rtcp::CompoundBuilder builder(out);
  (builder.add(packets), ...);
  out.resize(builder.finish().value_or(0));
  return out;
}

TEST(ScanFeedback, CountsPliFirAndNackOnlyWhenTheyNameOurStream) {
  const media::rtcp::ReceiverReport report{1, {}};
  const auto compound = compound_with(report, media::rtcp::Pli{1, kSsrc}, media::rtcp::Pli{1, 0x99},
                                      media::rtcp::Fir{1, {{0x99, 1}, {kSsrc, 2}}}, media::rtcp::Fir{1, {{0x98, 3}}},
                                      media::rtcp::GenericNack{1, kSsrc, {{10, 0}}});
  ASSERT_FALSE(compound.empty());
  const auto seen = scan_feedback(compound, kSsrc);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->reports, 1u);
  EXPECT_EQ(seen->pli, 1u);
  EXPECT_EQ(seen->fir, 1u);
  EXPECT_EQ(seen->nack, 1u);
  EXPECT_EQ(scan_feedback(compound, 0)->pli, 2u);  // 0: any stream
}

TEST(ScanFeedback, RefusesWhatIsNotRtcp) {
  const std::array<std::uint8_t, 8> not_rtcp{0x80, 0x60, 0, 1, 0, 0, 0, 0};  // an RTP header
  EXPECT_FALSE(scan_feedback(not_rtcp, kSsrc));
  const std::array<std::uint8_t, 0> empty{};
  EXPECT_FALSE(scan_feedback(empty, kSsrc));
}

}  // namespace video_load_packets_test
}  // namespace chorus::bench
