// LossBasedBwe (draft-ietf-rmcat-gcc-02 §6): no bound below 2 % loss, hold between 2 and 10 %,
// (1 − loss/2) above 10 % at most once per 300 ms + RTT, evaluation over enough packets and
// time, recovery at 8 %/s until the bound dissolves into the delay-based estimate.
#include <gtest/gtest.h>

#include <chrono>

#include "sfu/bwe/loss_based_bwe.hpp"

namespace chorus::sfu::bwe {
namespace loss_based_bwe_test {

using namespace std::chrono_literals;

const Timestamp kT0{100s};
constexpr auto kRtt = std::chrono::microseconds(100ms);

// One evaluation's worth: 100 packets of which `lost` were lost, one second after `now`.
void second_of(LossBasedBwe& loss, std::size_t lost, double current, double delay_based, Timestamp& now) {
  now += 1s;
  loss.on_feedback(100 - lost, lost, current, delay_based, kRtt, now);
}

TEST(LossBasedBwe, SetsNoBoundBelowTwoPercent) {
  LossBasedBwe loss;
  Timestamp now = kT0;
  loss.on_feedback(0, 0, 1e6, 1e6, kRtt, now);
  for (int i = 0; i < 5; ++i) second_of(loss, 1, 1e6, 1e6, now);
  EXPECT_FALSE(loss.bound_bps());
  ASSERT_TRUE(loss.loss_fraction());
  EXPECT_DOUBLE_EQ(*loss.loss_fraction(), 0.01);
}

TEST(LossBasedBwe, DecreasesByHalfTheLossFractionAboveTenPercent) {
  LossBasedBwe loss;
  Timestamp now = kT0;
  loss.on_feedback(0, 0, 1e6, 1e6, kRtt, now);
  second_of(loss, 20, 1e6, 1e6, now);
  ASSERT_TRUE(loss.bound_bps());
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 900'000.0);  // 1 Mbit/s × (1 − 0.2 / 2)
  second_of(loss, 40, 1e6, 1e6, now);
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 720'000.0);  // from the bound, the lower of the two
}

TEST(LossBasedBwe, HoldsBetweenTwoAndTenPercent) {
  LossBasedBwe loss;
  Timestamp now = kT0;
  loss.on_feedback(0, 0, 1e6, 1e6, kRtt, now);
  second_of(loss, 20, 1e6, 1e6, now);
  for (int i = 0; i < 5; ++i) second_of(loss, 5, 900'000, 1e6, now);
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 900'000.0);
}

TEST(LossBasedBwe, WaitsForEnoughPacketsAndTimeBeforeJudging) {
  LossBasedBwe loss;
  loss.on_feedback(5, 5, 1e6, 1e6, kRtt, kT0);          // 50 % of 10 packets: too few to judge
  loss.on_feedback(5, 5, 1e6, 1e6, kRtt, kT0 + 500ms);  // 20 packets, but half a second
  EXPECT_FALSE(loss.loss_fraction());
  loss.on_feedback(5, 5, 1e6, 1e6, kRtt, kT0 + 1s);
  ASSERT_TRUE(loss.loss_fraction());
  EXPECT_DOUBLE_EQ(*loss.loss_fraction(), 0.5);
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 750'000.0);
}

TEST(LossBasedBwe, DecreasesAtMostOncePerIntervalPlusRtt) {
  LossBasedBwe loss;
  const auto long_rtt = std::chrono::microseconds(900ms);  // 300 ms + RTT = 1.2 s
  loss.on_feedback(0, 0, 1e6, 1e6, long_rtt, kT0);
  loss.on_feedback(80, 20, 1e6, 1e6, long_rtt, kT0 + 1s);
  loss.on_feedback(80, 20, 1e6, 1e6, long_rtt, kT0 + 2s);  // 1 s after the decrease: too soon
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 900'000.0);
  loss.on_feedback(80, 20, 1e6, 1e6, long_rtt, kT0 + 3s);
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 810'000.0);
}

TEST(LossBasedBwe, RecoversEightPercentPerSecondThenDissolvesIntoDelayBasedEstimate) {
  LossBasedBwe loss;
  Timestamp now = kT0;
  loss.on_feedback(0, 0, 1e6, 1e6, kRtt, now);
  second_of(loss, 20, 1e6, 1e6, now);  // bound 900 kbit/s
  second_of(loss, 0, 900'000, 1e6, now);
  EXPECT_DOUBLE_EQ(*loss.bound_bps(), 972'000.0);
  second_of(loss, 0, 972'000, 1e6, now);  // 1.05 Mbit/s ≥ the delay-based 1 Mbit/s: no opinion left
  EXPECT_FALSE(loss.bound_bps());
}

}  // namespace loss_based_bwe_test
}  // namespace chorus::sfu::bwe
