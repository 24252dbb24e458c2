// RTCP statistics: interarrival jitter (RFC 3550 A.8), loss from expected vs received (A.3),
// RTT from LSR/DLSR with the worked example of RFC 3550 §6.4.1, and NTP conversions.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "media/rtcp/rtcp_statistics.hpp"

namespace chorus::media::rtcp {
namespace rtcp_statistics_test {

using namespace std::chrono_literals;

TEST(JitterEstimator, ConstantTransitGivesZeroJitterAcrossTimestampWrap) {
  JitterEstimator estimator;
  std::uint32_t ts = 0xFFFFFF00U;  // wraps after two packets
  for (int i = 0; i < 50; ++i, ts += 160) estimator.update(ts + 1000, ts);
  EXPECT_EQ(estimator.jitter(), 0U);
}

TEST(JitterEstimator, FollowsAppendixA8OnSyntheticSequence) {
  // 20 ms audio at 8 kHz: timestamps step by 160; arrivals alternate 0 and 32 units late, so
  // every |D| after the first packet is 32. A.8: J1 = 32/16 = 2, J2 = 2 + (32 - 2)/16 = 3.875.
  JitterEstimator estimator;
  estimator.update(5000, 0);
  EXPECT_EQ(estimator.jitter(), 0U);  // the first packet only sets the transit reference
  estimator.update(5000 + 160 + 32, 160);
  EXPECT_EQ(estimator.jitter(), 2U);
  estimator.update(5000 + 320, 320);
  EXPECT_EQ(estimator.jitter(), 3U);  // 3.875 truncated, as A.8 reports (jitter >> 4)

  double reference = 3.875;
  for (std::uint32_t i = 3; i < 200; ++i) {
    const std::uint32_t ts = i * 160;
    estimator.update(5000 + ts + (i % 2 == 1 ? 32 : 0), ts);
    reference += (32.0 - reference) / 16.0;
    // The integer form differs from the real-valued formula by the truncation of the report
    // (< 1) and its rounding term (at most 8/16): within 1.5 units.
    EXPECT_LE(std::abs(static_cast<double>(estimator.jitter()) - reference), 1.5) << "packet " << i;
  }
  EXPECT_EQ(estimator.jitter(), 31U);  // converging on |D| = 32 from below
}

TEST(LossTracker, ReportsIntervalFractionAndCumulativeLoss) {
  LossTracker tracker(1000);
  // 100 expected (1000..1099), 90 received: 10 lost, 10/100 * 256 = 25.
  EXPECT_EQ(tracker.report(1099, 90), (LossReport{25, 10}));
  // The next 100 all arrived: no new loss in this interval, the total stays 10.
  EXPECT_EQ(tracker.report(1199, 190), (LossReport{0, 10}));
  // 120 received for 100 expected (duplicates): cumulative goes negative, fraction is 0.
  EXPECT_EQ(tracker.report(1299, 310), (LossReport{0, -10}));
  // Nothing new expected: no fraction.
  EXPECT_EQ(tracker.report(1299, 310), (LossReport{0, -10}));
}

TEST(LossTracker, ClampsCumulativeLossToTwentyFourBits) {
  LossTracker tracker(0);
  EXPECT_EQ(tracker.report(0x01000000, 0).cumulative_lost, 0x7FFFFF);
  EXPECT_EQ(tracker.report(0x01000000, 0).fraction_lost, 0);
  LossTracker duplicates(0);
  EXPECT_EQ(duplicates.report(0, 0x01000000).cumulative_lost, -0x800000);
}

TEST(LossTracker, FractionOfAllLostIs255) {
  LossTracker tracker(10);
  EXPECT_EQ(tracker.report(19, 0).fraction_lost, 255);  // 10 of 10 lost: 256 saturates to 255
}

TEST(RoundTripTime, MatchesRfc3550WorkedExample) {
  // RFC 3550 §6.4.1 figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
  // DLSR = 0x0005:4000 (5.250 s); A - LSR - DLSR = 0x0006:2000 = 6.125 s.
  EXPECT_EQ(round_trip_time(0xB7108000U, 0xB7052000U, 0x00054000U), std::chrono::microseconds(6'125'000));
}

TEST(RoundTripTime, NoSenderReportYetGivesNothing) {
  EXPECT_FALSE(round_trip_time(0xB7108000U, 0, 0));
}

TEST(RoundTripTime, ClockSkewClampsToZero) {
  EXPECT_EQ(round_trip_time(0xB7108000U, 0xB7052000U, 0x00100000U), 0us);  // DLSR longer than A - LSR
  EXPECT_EQ(round_trip_time(0xB7052000U, 0xB7108000U, 0), 0us);            // arrival before LSR
}

TEST(RoundTripTime, SurvivesMiddle32Wrap) {
  EXPECT_EQ(round_trip_time(0x00010000U, 0xFFFF8000U, 0x00008000U), 1s);  // 1.5 s since SR, 0.5 s held
}

TEST(Ntp, Middle32TakesLowSecondsAndHighFraction) {
  EXPECT_EQ(ntp_middle32(NtpTime{0xE88F1A20U, 0x80000000U}), 0x1A208000U);
}

TEST(Ntp, ConvertsUnixEpochAndHalfSecond) {
  const std::chrono::system_clock::time_point epoch{};
  EXPECT_EQ(to_ntp(epoch), (NtpTime{2'208'988'800U, 0}));
  EXPECT_EQ(to_ntp(epoch + 1500ms), (NtpTime{2'208'988'801U, 0x80000000U}));
}

TEST(Ntp, ShortFormatForDelaySinceLastSr) {
  EXPECT_EQ(to_ntp_short(1500ms), 0x00018000U);
  EXPECT_EQ(to_ntp_short(-1ms), 0U);
  EXPECT_EQ(to_ntp_short(std::chrono::hours(24)), 0xFFFFFFFFU);
  EXPECT_EQ(from_ntp_short(0x00054000U), 5250ms);
}

}  // namespace rtcp_statistics_test
}  // namespace chorus::media::rtcp
