// TrendlineEstimator and OveruseDetector: a steady queue is normal, a growing one overusing, a
// draining one underusing; overuse needs a sustained signal; the threshold adapts towards the
// signal and ignores outliers (draft-ietf-rmcat-gcc-02 §5.3–5.4).
#include <gtest/gtest.h>

#include <chrono>

#include "sfu/bwe/trendline_estimator.hpp"

namespace chorus::sfu::bwe {
namespace trendline_estimator_test {

using namespace std::chrono_literals;

// `groups` groups sent every 10 ms, each arriving `extra` later (or earlier) than its spacing.
BandwidthUsage feed(TrendlineEstimator& trendline, int groups, std::chrono::microseconds extra, RemoteTime& clock) {
  BandwidthUsage state = trendline.state();
  for (int i = 0; i < groups; ++i) {
    clock += 10ms + extra;
    state = trendline.update(10ms + extra, 10ms, clock);
  }
  return state;
}

TEST(TrendlineEstimator, SteadyQueueIsNormal) {
  TrendlineEstimator trendline;
  RemoteTime clock{0};
  EXPECT_EQ(feed(trendline, 100, 0us, clock), BandwidthUsage::kNormal);
  EXPECT_DOUBLE_EQ(trendline.trend(), 0.0);
}

TEST(TrendlineEstimator, GrowingQueueIsOverusing) {
  TrendlineEstimator trendline;
  RemoteTime clock{0};
  feed(trendline, 60, 0us, clock);
  // 1 ms more queue per 10 ms group: a slope of ~0.1 ms/ms, × 60 × 4 far above 12.5 ms.
  EXPECT_EQ(feed(trendline, 20, 1ms, clock), BandwidthUsage::kOverusing);
  EXPECT_GT(trendline.trend(), 0.0);
}

TEST(TrendlineEstimator, SlightDriftStaysNormal) {
  TrendlineEstimator trendline;
  RemoteTime clock{0};
  feed(trendline, 60, 0us, clock);
  // 20 µs per group: a slope of ~0.002, scaled ~0.5 ms — jitter, not congestion.
  EXPECT_EQ(feed(trendline, 40, 20us, clock), BandwidthUsage::kNormal);
}

TEST(TrendlineEstimator, DrainingQueueIsUnderusing) {
  TrendlineEstimator trendline;
  RemoteTime clock{0};
  feed(trendline, 60, 2ms, clock);  // build a queue first
  EXPECT_EQ(feed(trendline, 20, -2ms, clock), BandwidthUsage::kUnderusing);
  EXPECT_LT(trendline.trend(), 0.0);
}

TEST(OveruseDetector, NeedsSustainedSignalAboveThresholdBeforeOverusing) {
  OveruseDetector detector;
  EXPECT_EQ(detector.detect(20.0, 5.0, 0.0), BandwidthUsage::kNormal);      // 2.5 ms above, once
  EXPECT_EQ(detector.detect(20.0, 5.0, 5.0), BandwidthUsage::kNormal);      // 7.5 ms: not yet 10
  EXPECT_EQ(detector.detect(20.0, 5.0, 10.0), BandwidthUsage::kOverusing);  // 12.5 ms, three samples
  EXPECT_EQ(detector.detect(0.0, 5.0, 15.0), BandwidthUsage::kNormal);
}

TEST(OveruseDetector, FallingSignalDoesNotTriggerOveruse) {
  OveruseDetector detector;
  detector.detect(25.0, 10.0, 0.0);
  EXPECT_EQ(detector.detect(20.0, 10.0, 10.0), BandwidthUsage::kNormal);  // above γ but turning down
}

TEST(OveruseDetector, ThresholdRisesSlowlyTowardsLargerSignalAndFallsFasterToItsFloor) {
  OveruseDetector detector;
  const double initial = detector.threshold_ms();
  double now = 0;
  for (int i = 0; i < 10; ++i) detector.detect(25.0, 10.0, now += 10);
  const double raised = detector.threshold_ms();
  EXPECT_GT(raised, initial);
  EXPECT_LT(raised, 25.0);
  for (int i = 0; i < 100; ++i) detector.detect(0.0, 10.0, now += 10);
  EXPECT_DOUBLE_EQ(detector.threshold_ms(), OveruseDetector::kMinThresholdMs);
}

TEST(OveruseDetector, OutlierLeavesThresholdAlone) {
  OveruseDetector detector;
  detector.detect(0.0, 10.0, 0.0);
  const double before = detector.threshold_ms();
  detector.detect(100.0, 10.0, 100.0);  // more than 15 ms above γ
  EXPECT_DOUBLE_EQ(detector.threshold_ms(), before);
}

}  // namespace trendline_estimator_test
}  // namespace chorus::sfu::bwe
