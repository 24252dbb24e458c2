#include "sfu/bwe/loss_based_bwe.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::sfu::bwe {

void LossBasedBwe::on_feedback(std::size_t received, std::size_t lost, double current_bps, double delay_based_bps,
                               std::chrono::microseconds rtt, Timestamp now) noexcept {
  if (!window_start_) window_start_ = now;
  received_ += received;
  lost_ += lost;
  const std::size_t total = received_ + lost_;
  if (total < kMinPackets || now - *window_start_ < kEvaluationInterval) return;
  window_start_ = now;
  const double fraction = static_cast<double>(lost_) / static_cast<double>(total);
  received_ = 0;
  lost_ = 0;
  evaluate(fraction, current_bps, delay_based_bps, rtt, now);
}

void LossBasedBwe::evaluate(double fraction, double current_bps, double delay_based_bps, std::chrono::microseconds rtt,
                            Timestamp now) noexcept {
  loss_fraction_ = fraction;
  const auto since_last = last_evaluation_ ? now - *last_evaluation_ : Clock::duration::zero();
  last_evaluation_ = now;
  if (fraction > kHighLoss) {
    if (!last_decrease_ || now - *last_decrease_ >= kDecreaseInterval + rtt) {
      // §6: As(i) = As(i−1) × (1 − 0.5 p).
      const double base = bound_ ? std::min(*bound_, current_bps) : current_bps;
      bound_ = base * (1 - fraction / 2);
      last_decrease_ = now;
    }
    return;
  }
  if (fraction >= kLowLoss || !bound_) return;  // hold, or nothing to recover
  const double seconds = std::min(std::chrono::duration<double>(since_last).count(), 1.0);
  const double grown = *bound_ * std::pow(kIncreasePerSecond, seconds);
  bound_ = std::max(grown, *bound_ + kMinIncreaseBps * seconds);
  if (*bound_ >= delay_based_bps) bound_.reset();
}

}  // namespace chorus::sfu::bwe
