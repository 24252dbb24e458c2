// StreamRewriter: a fixed offset within a source (reordering, duplicates, 16/32-bit wraps in
// source and output), switches only at switch points with sequence last + 1 and timestamp
// last + elapsed wall-clock ticks, drops of the old source and of the new source's packets from
// before its switch point, many switches, and outgoing numbers traced back to their source.
#include "sfu/stream_rewriter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace chorus::sfu {
namespace stream_rewriter_test {

using namespace std::chrono_literals;
using TimePoint = StreamRewriter::TimePoint;

constexpr SourceKey kAlice{.producer = 1, .layer = 0};
constexpr SourceKey kAliceHigh{.producer = 1, .layer = 2};
constexpr SourceKey kBob{.producer = 2, .layer = 0};
constexpr std::uint32_t kVideoClock = 90000;
constexpr std::uint32_t kFrameTicks = 3000;  // 30 frames per second at 90 kHz

const TimePoint kStart = TimePoint{} + 1000s;

StreamRewriter make_rewriter(std::uint16_t initial_sequence = 5000, std::uint32_t initial_timestamp = 100000) {
  return StreamRewriter{StreamRewriterConfig{
      .clock_rate = kVideoClock, .initial_sequence_number = initial_sequence, .initial_timestamp = initial_timestamp}};
}

StreamRewriter::Input packet(SourceKey source, std::uint16_t sequence, std::uint32_t timestamp, TimePoint arrival,
                             bool switch_point = false) {
  return StreamRewriter::Input{.source = source,
                               .sequence_number = sequence,
                               .timestamp = timestamp,
                               .arrival = arrival,
                               .switch_point = switch_point};
}

TEST(StreamRewriter, DropsEverythingBeforeTheFirstSwitchPoint) {
  auto rewriter = make_rewriter();
  EXPECT_EQ(rewriter.rewrite(packet(kAlice, 10, 900, kStart)).error(), RewriteDrop::kNoSource);
  EXPECT_FALSE(rewriter.current_source());
  const auto first = rewriter.rewrite(packet(kAlice, 11, 900, kStart, true));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sequence_number, 5000);
  EXPECT_EQ(first->timestamp, 100000u);
  EXPECT_TRUE(first->switched);
  EXPECT_EQ(rewriter.current_source(), kAlice);
  EXPECT_EQ(rewriter.counters().dropped_no_source, 1u);
  EXPECT_EQ(rewriter.counters().switches, 1u);
}

TEST(StreamRewriter, KeepsAFixedOffsetWithinASourceThroughReorderingAndDuplicates) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 100, 9000, kStart, true)));
  const auto later = rewriter.rewrite(packet(kAlice, 103, 12000, kStart + 33ms));
  const auto earlier = rewriter.rewrite(packet(kAlice, 101, 9000, kStart + 34ms));  // reordered
  const auto again = rewriter.rewrite(packet(kAlice, 103, 12000, kStart + 35ms));   // duplicate
  ASSERT_TRUE(later && earlier && again);
  EXPECT_EQ(later->sequence_number, 5003);
  EXPECT_EQ(later->timestamp, 103000u);
  EXPECT_EQ(earlier->sequence_number, 5001);
  EXPECT_EQ(earlier->timestamp, 100000u);
  EXPECT_EQ(*again, *later);
  EXPECT_FALSE(later->switched);
  EXPECT_EQ(rewriter.counters().forwarded, 4u);
}

TEST(StreamRewriter, WrapsSequenceAndTimestampInSourceAndOutput) {
  // The source wraps 65535 → 0 and 2^32-1 → 0 one packet after the output does.
  auto rewriter = make_rewriter(65535, 0xFFFFFFFF - kFrameTicks + 1);
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 65534, 0xFFFFFFFF - 2 * kFrameTicks + 1, kStart, true)));
  const auto output_wraps = rewriter.rewrite(packet(kAlice, 65535, 0xFFFFFFFF - kFrameTicks + 1, kStart + 33ms));
  const auto source_wraps = rewriter.rewrite(packet(kAlice, 0, 0, kStart + 66ms));
  const auto straggler = rewriter.rewrite(packet(kAlice, 65535, 0xFFFFFFFF - kFrameTicks + 1, kStart + 67ms));
  ASSERT_TRUE(output_wraps && source_wraps && straggler);
  EXPECT_EQ(output_wraps->sequence_number, 0);
  EXPECT_EQ(output_wraps->timestamp, 0u);
  EXPECT_EQ(source_wraps->sequence_number, 1);
  EXPECT_EQ(source_wraps->timestamp, kFrameTicks);
  EXPECT_EQ(*straggler, *output_wraps);
}

TEST(StreamRewriter, SwitchContinuesSequenceAndAdvancesTimestampByTheElapsedTime) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 100, 9000, kStart, true)));    // 5000, 100000
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 101, 12000, kStart + 33ms)));  // 5001, 103000
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 102, 12000, kStart + 40ms)));  // 5002, same frame
  // Bob's keyframe arrives 50 ms after Alice's last frame began: 4500 ticks later.
  const auto switched = rewriter.rewrite(packet(kBob, 40000, 777777, kStart + 83ms, true));
  ASSERT_TRUE(switched);
  EXPECT_TRUE(switched->switched);
  EXPECT_EQ(switched->sequence_number, 5003);
  EXPECT_EQ(switched->timestamp, 103000u + 4500u);
  // Bob's own deltas are kept after the switch.
  const auto next = rewriter.rewrite(packet(kBob, 40001, 777777 + kFrameTicks, kStart + 116ms));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->sequence_number, 5004);
  EXPECT_EQ(next->timestamp, 103000u + 4500u + kFrameTicks);
  EXPECT_EQ(rewriter.current_source(), kBob);
}

TEST(StreamRewriter, SwitchAdvancesTheTimestampAtLeastOneTick) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 1, 500, kStart, true)));
  // Same instant, and then a clock that went backwards: still strictly after.
  const auto same_instant = rewriter.rewrite(packet(kBob, 9, 1, kStart, true));
  ASSERT_TRUE(same_instant);
  EXPECT_EQ(same_instant->timestamp, 100001u);
  const auto backwards = rewriter.rewrite(packet(kAlice, 2, 800, kStart - 1s, true));
  ASSERT_TRUE(backwards);
  EXPECT_EQ(backwards->timestamp, 100002u);
}

TEST(StreamRewriter, SwitchAfterALongPauseStepsLessThanHalfTheTimestampSpace) {
  auto rewriter = make_rewriter(0, 0);
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 1, 500, kStart, true)));
  const auto after_a_day = rewriter.rewrite(packet(kBob, 9, 1, kStart + 48h, true));
  ASSERT_TRUE(after_a_day);
  EXPECT_EQ(after_a_day->timestamp, StreamRewriter::kMaxSwitchTimestampStep);
  EXPECT_TRUE(media::is_newer(after_a_day->timestamp, std::uint32_t{0}));
}

TEST(StreamRewriter, SwitchesOnlyAtSwitchPointsAndDropsTheOtherSource) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 100, 9000, kStart, true)));
  // Bob's packets before his keyframe: not forwarded, Alice continues.
  EXPECT_EQ(rewriter.rewrite(packet(kBob, 7, 70, kStart + 1ms)).error(), RewriteDrop::kNotCurrentSource);
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 101, 12000, kStart + 33ms)));
  // A keyframe of the current source is no switch.
  const auto own_keyframe = rewriter.rewrite(packet(kAlice, 102, 15000, kStart + 66ms, true));
  ASSERT_TRUE(own_keyframe);
  EXPECT_FALSE(own_keyframe->switched);
  EXPECT_EQ(own_keyframe->sequence_number, 5002);
  ASSERT_TRUE(rewriter.rewrite(packet(kBob, 8, 3070, kStart + 70ms, true)));
  // Alice's packets after the switch are dropped, even her next keyframe's non-first packets.
  EXPECT_EQ(rewriter.rewrite(packet(kAlice, 103, 18000, kStart + 99ms)).error(), RewriteDrop::kNotCurrentSource);
  EXPECT_EQ(rewriter.counters().dropped_not_current_source, 2u);
  EXPECT_EQ(rewriter.counters().switches, 2u);
}

TEST(StreamRewriter, ReorderingAroundASwitch) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 100, 9000, kStart, true)));    // 5000
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 102, 12000, kStart + 33ms)));  // 5002 (101 late)
  // Bob's keyframe is 500..502; 501 arrives before 500, which is the switch point.
  EXPECT_EQ(rewriter.rewrite(packet(kBob, 501, 60000, kStart + 60ms)).error(), RewriteDrop::kNotCurrentSource);
  const auto switched = rewriter.rewrite(packet(kBob, 500, 60000, kStart + 61ms, true));
  ASSERT_TRUE(switched);
  EXPECT_EQ(switched->sequence_number, 5003);
  // Alice's late 101 would land on an outgoing number already past: dropped.
  EXPECT_EQ(rewriter.rewrite(packet(kAlice, 101, 12000, kStart + 62ms)).error(), RewriteDrop::kNotCurrentSource);
  // Bob's 499 is older than his switch point: dropped; 502 follows with its own offset.
  EXPECT_EQ(rewriter.rewrite(packet(kBob, 499, 57000, kStart + 63ms)).error(), RewriteDrop::kBeforeSwitchPoint);
  const auto after = rewriter.rewrite(packet(kBob, 502, 60000, kStart + 64ms));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->sequence_number, 5005);  // 5004 is Bob's 501, lost here: the receiver NACKs it
  EXPECT_EQ(after->timestamp, switched->timestamp);
  EXPECT_EQ(rewriter.source_of(5004), (StreamRewriter::SourcePacket{kBob, 501}));
  EXPECT_EQ(rewriter.source_of(5001), (StreamRewriter::SourcePacket{kAlice, 101}));
  EXPECT_EQ(rewriter.counters().dropped_before_switch_point, 1u);
}

TEST(StreamRewriter, SwitchPointAcrossTheSourceWrapStillDropsOlderPackets) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 1, 1, kStart, true)));
  ASSERT_TRUE(rewriter.rewrite(packet(kBob, 2, 10, kStart + 10ms, true)));  // switch point at 2
  EXPECT_EQ(rewriter.rewrite(packet(kBob, 65535, 5, kStart + 11ms)).error(), RewriteDrop::kBeforeSwitchPoint);
  const auto after = rewriter.rewrite(packet(kBob, 3, 10, kStart + 12ms));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->sequence_number, 5002);
}

TEST(StreamRewriter, ManySwitchesKeepOneUnbrokenStream) {
  auto rewriter = make_rewriter(65000, 0xFFFF0000);
  const SourceKey sources[] = {kAlice, kBob, kAliceHigh};
  std::uint16_t expected_sequence = 65000;
  std::uint32_t last_timestamp = 0;
  TimePoint now = kStart;
  for (int round = 0; round < 300; ++round) {
    const SourceKey source = sources[round % 3];
    // Each source has its own unrelated numbering that also wraps.
    const auto base_sequence = static_cast<std::uint16_t>(round * 9973);
    const auto base_timestamp = static_cast<std::uint32_t>(round) * 2654435761U;
    for (int i = 0; i < 10; ++i) {
      const auto out =
          rewriter.rewrite(packet(source, static_cast<std::uint16_t>(base_sequence + i),
                                  base_timestamp + static_cast<std::uint32_t>(i / 3) * kFrameTicks, now, i == 0));
      ASSERT_TRUE(out) << round << " " << i;
      ASSERT_EQ(out->sequence_number, expected_sequence) << round << " " << i;
      ASSERT_EQ(out->switched, i == 0);
      if (round > 0 || i > 0) {
        ASSERT_TRUE(out->timestamp == last_timestamp || media::is_newer(out->timestamp, last_timestamp));
      }
      if (i == 0 && round > 0) {
        ASSERT_EQ(out->timestamp - last_timestamp, 90u) << round;  // 1 ms since the newest frame began
      }
      last_timestamp = out->timestamp;
      expected_sequence = static_cast<std::uint16_t>(expected_sequence + 1);
      now += i % 3 == 2 ? 33ms : 1ms;
    }
  }
  EXPECT_EQ(rewriter.counters().switches, 300u);
  EXPECT_EQ(rewriter.counters().forwarded, 3000u);
}

TEST(StreamRewriter, TracesOutgoingNumbersBackThroughTheLastSegments) {
  auto rewriter = make_rewriter(100);
  TimePoint now = kStart;
  // Ten sources in turn, three packets each: outgoing 100..129.
  for (std::uint32_t producer = 0; producer < 10; ++producer) {
    const SourceKey source{.producer = producer};
    for (std::uint16_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(rewriter.rewrite(packet(source, static_cast<std::uint16_t>(1000 * producer + i), 0, now, i == 0)));
      now += 1ms;
    }
  }
  EXPECT_EQ(rewriter.source_of(129), (StreamRewriter::SourcePacket{SourceKey{.producer = 9}, 9002}));
  EXPECT_EQ(rewriter.source_of(127), (StreamRewriter::SourcePacket{SourceKey{.producer = 9}, 9000}));
  EXPECT_EQ(rewriter.source_of(126), (StreamRewriter::SourcePacket{SourceKey{.producer = 8}, 8002}));
  // The oldest kept segment is the third source's (10 - kMaxSegments = 2).
  EXPECT_EQ(rewriter.source_of(106), (StreamRewriter::SourcePacket{SourceKey{.producer = 2}, 2000}));
  EXPECT_FALSE(rewriter.source_of(105));
  EXPECT_FALSE(rewriter.source_of(130));  // never sent
  EXPECT_FALSE(make_rewriter().source_of(5000));
}

TEST(StreamRewriter, ResetSourceWaitsForTheNextSwitchPointOfAnySource) {
  auto rewriter = make_rewriter();
  ASSERT_TRUE(rewriter.rewrite(packet(kAlice, 10, 1000, kStart, true)));
  rewriter.reset_source();
  EXPECT_EQ(rewriter.rewrite(packet(kAlice, 11, 1000, kStart + 1ms)).error(), RewriteDrop::kNoSource);
  // The same source comes back with a keyframe: a new segment that continues the stream.
  const auto back = rewriter.rewrite(packet(kAlice, 500, 90000, kStart + 2s, true));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->switched);
  EXPECT_EQ(back->sequence_number, 5001);
  EXPECT_EQ(back->timestamp, 100000u + 2 * kVideoClock);
}

}  // namespace stream_rewriter_test
}  // namespace chorus::sfu
