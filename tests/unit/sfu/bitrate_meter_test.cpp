// BitrateMeter: bits per second over a sliding window of buckets, and since when a stream is live.
#include "sfu/bitrate_meter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace chorus::sfu {
namespace bitrate_meter_test {

using Clock = BitrateMeter::Clock;
using std::chrono::milliseconds;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours{1};

// 1000-byte packets every 10 ms: 800 kbit/s.
constexpr std::size_t kPacketBytes = 1000;
constexpr milliseconds kPacketGap{10};
constexpr std::int64_t kSteadyBps = 800'000;

// Feeds the steady stream over [from, to) and returns `to`.
Clock::time_point feed(BitrateMeter& meter, Clock::time_point from, Clock::time_point to) {
  for (Clock::time_point t = from; t < to; t += kPacketGap) meter.add(kPacketBytes, t);
  return to;
}

TEST(BitrateMeter, ReadsASteadyStreamWhateverThePhaseOfTheQueryInItsBucket) {
  BitrateMeter meter;  // 1 s in 10 buckets of 100 ms
  const Clock::time_point fed_until = feed(meter, kStart, kStart + std::chrono::seconds{3});
  // Query 0, 10, ... 90 ms into a bucket: the span follows the query, so the reading does not
  // sag by up to a bucket's worth as a fixed-divisor window would.
  for (int offset = 0; offset < 100; offset += 10) {
    BitrateMeter copy = meter;
    const Clock::time_point now = feed(copy, fed_until, fed_until + milliseconds{offset}) - milliseconds{1};
    EXPECT_NEAR(copy.rate_bps(now), kSteadyBps, kSteadyBps * 2 / 100) << "offset " << offset << " ms";
  }
}

TEST(BitrateMeter, IsZeroBeforeAnythingArrives) {
  const BitrateMeter meter;
  EXPECT_EQ(meter.rate_bps(kStart), 0);
  EXPECT_FALSE(meter.live_since(kStart));
}

TEST(BitrateMeter, ANewStreamIsReadAtItsRateBeforeAWholeWindowHasPassed) {
  BitrateMeter meter;
  const Clock::time_point now = feed(meter, kStart, kStart + milliseconds{300});
  // Three buckets of data: divided by their 300 ms, not by the 1 s window (which would read 240k).
  EXPECT_NEAR(meter.rate_bps(now - milliseconds{1}), kSteadyBps, kSteadyBps * 5 / 100);
}

TEST(BitrateMeter, ALonePacketIsSpreadOverAtLeastOneBucket) {
  BitrateMeter meter;
  meter.add(1000, kStart);
  // 8000 bits over one 100 ms bucket, not over the zero time since the packet.
  EXPECT_EQ(meter.rate_bps(kStart), 80'000);
}

TEST(BitrateMeter, ForgetsPacketsAsTheyLeaveTheWindow) {
  BitrateMeter meter;
  const Clock::time_point stop = feed(meter, kStart, kStart + std::chrono::seconds{2});
  // Half a window after the stream stopped: about half of the window still holds packets.
  EXPECT_NEAR(meter.rate_bps(stop + milliseconds{500}), kSteadyBps / 2, kSteadyBps * 6 / 100);
  // A whole window later nothing is left.
  EXPECT_EQ(meter.rate_bps(stop + milliseconds{1000}), 0);
  EXPECT_EQ(meter.rate_bps(stop + std::chrono::hours{10}), 0);
}

TEST(BitrateMeter, ABucketReusedAfterAWindowStartsFromZero) {
  BitrateMeter meter;
  meter.add(100'000, kStart);
  // 2.05 s later the same bucket slot comes round again: the old bytes must not be added.
  meter.add(1000, kStart + milliseconds{2050});
  EXPECT_EQ(meter.rate_bps(kStart + milliseconds{2050}), 80'000);
}

TEST(BitrateMeter, ALatePacketInsideTheWindowCountsOneOlderThanItIsDropped) {
  BitrateMeter meter;
  meter.add(1000, kStart + std::chrono::seconds{5});
  meter.add(1000, kStart + std::chrono::seconds{5} - milliseconds{250});  // reordered: still in the window
  EXPECT_EQ(meter.stale_adds(), 0U);
  const Clock::time_point now = kStart + std::chrono::seconds{5} + milliseconds{50};
  // 16000 bits from the late packet's bucket start (4.7 s) to now (5.05 s).
  EXPECT_EQ(meter.rate_bps(now), 16000 * 1000 / 350);
  meter.add(1000, kStart + std::chrono::seconds{3});  // two seconds late
  EXPECT_EQ(meter.stale_adds(), 1U);
  EXPECT_EQ(meter.rate_bps(now), 16000 * 1000 / 350);
}

TEST(BitrateMeter, SaysSinceWhenAStreamIsLiveAndWhenItStopped) {
  BitrateMeter meter({.idle_after = milliseconds{300}});
  const Clock::time_point stop = feed(meter, kStart, kStart + std::chrono::seconds{2});
  EXPECT_EQ(meter.live_since(stop), kStart);
  // A 7.5 fps layer's 133 ms gaps keep it live; a silence longer than idle_after ends the run.
  EXPECT_EQ(meter.live_since(stop + milliseconds{290}), kStart);
  EXPECT_FALSE(meter.live_since(stop + milliseconds{400}));
  // The sender resumes the layer: a new run, from its first packet.
  const Clock::time_point resumed = stop + std::chrono::seconds{1};
  meter.add(kPacketBytes, resumed);
  EXPECT_EQ(meter.live_since(resumed + milliseconds{10}), resumed);
}

TEST(BitrateMeter, AReorderedPacketDoesNotRestartTheLiveRun) {
  BitrateMeter meter({.idle_after = milliseconds{300}});
  meter.add(kPacketBytes, kStart);
  meter.add(kPacketBytes, kStart + milliseconds{200});
  meter.add(kPacketBytes, kStart + milliseconds{100});
  EXPECT_EQ(meter.live_since(kStart + milliseconds{250}), kStart);
}

TEST(BitrateMeter, HugeCountsSaturateInsteadOfWrapping) {
  BitrateMeter meter;
  meter.add(std::numeric_limits<std::size_t>::max(), kStart);
  meter.add(std::numeric_limits<std::size_t>::max(), kStart + milliseconds{1});
  EXPECT_GT(meter.rate_bps(kStart + milliseconds{2}), 0);
}

TEST(BitrateMeter, WorksOnAClockBeforeItsEpoch) {
  BitrateMeter meter;
  const Clock::time_point zero{};
  feed(meter, zero - milliseconds{1500}, zero + milliseconds{500});
  EXPECT_NEAR(meter.rate_bps(zero + milliseconds{499}), kSteadyBps, kSteadyBps * 2 / 100);
}

TEST(BitrateMeter, ClampsItsConfiguration) {
  const BitrateMeter one_bucket({.window = milliseconds{1000}, .buckets = 0});
  EXPECT_EQ(one_bucket.window(), milliseconds{1000});
  const BitrateMeter many({.window = milliseconds{6400}, .buckets = 10'000});
  EXPECT_EQ(many.window(), milliseconds{6400});  // 64 buckets of 100 ms
  const BitrateMeter tiny({.window = milliseconds{0}});
  EXPECT_GT(tiny.window(), Clock::duration::zero());
}

TEST(BitrateMeter, ResetForgetsEverything) {
  BitrateMeter meter;
  const Clock::time_point now = feed(meter, kStart, kStart + std::chrono::seconds{1});
  meter.reset();
  EXPECT_EQ(meter.rate_bps(now), 0);
  EXPECT_FALSE(meter.live_since(now));
  meter.add(1000, now);
  EXPECT_EQ(meter.rate_bps(now), 80'000);
}

}  // namespace bitrate_meter_test
}  // namespace chorus::sfu
