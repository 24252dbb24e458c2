#include "sfu/bwe/trendline_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::sfu::bwe {

namespace {
double to_ms(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}
}  // namespace

BandwidthUsage OveruseDetector::detect(double modified_trend, double send_delta_ms, double now_ms) noexcept {
  if (modified_trend > threshold_) {
    // §5.4: overuse only once the signal has stayed above γ for a while, on more than one
    // sample, and is not already turning down: one late group is not congestion.
    time_over_using_ms_ = time_over_using_ms_ < 0 ? send_delta_ms / 2 : time_over_using_ms_ + send_delta_ms;
    ++overuse_count_;
    if (time_over_using_ms_ > kOverusingTimeMs && overuse_count_ > 1 && modified_trend >= previous_trend_) {
      time_over_using_ms_ = 0;
      overuse_count_ = 0;
      state_ = BandwidthUsage::kOverusing;
    }
  } else if (modified_trend < -threshold_) {
    time_over_using_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::kUnderusing;
  } else {
    time_over_using_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::kNormal;
  }
  previous_trend_ = modified_trend;
  update_threshold(modified_trend, now_ms);
  return state_;
}

// §5.4: γ(i) = γ(i−1) + Δt · k · (|m(i)| − γ(i−1)), k = k_d when |m| < γ else k_u.
void OveruseDetector::update_threshold(double modified_trend, double now_ms) noexcept {
  if (!last_threshold_update_ms_) last_threshold_update_ms_ = now_ms;
  const double magnitude = std::abs(modified_trend);
  if (magnitude > threshold_ + kMaxOutlierMs) {
    last_threshold_update_ms_ = now_ms;
    return;
  }
  const double gain = magnitude < threshold_ ? kDownGain : kUpGain;
  const double elapsed = std::clamp(now_ms - *last_threshold_update_ms_, 0.0, kMaxThresholdStepMs);
  threshold_ = std::clamp(threshold_ + gain * (magnitude - threshold_) * elapsed, kMinThresholdMs, kMaxThresholdMs);
  last_threshold_update_ms_ = now_ms;
}

std::optional<double> TrendlineEstimator::slope() const noexcept {
  double mean_x = 0;
  double mean_y = 0;
  for (std::size_t i = 0; i < points_; ++i) {
    mean_x += window_[i].x_ms;
    mean_y += window_[i].y_ms;
  }
  mean_x /= static_cast<double>(points_);
  mean_y /= static_cast<double>(points_);
  double numerator = 0;
  double denominator = 0;
  for (std::size_t i = 0; i < points_; ++i) {
    const double dx = window_[i].x_ms - mean_x;
    numerator += dx * (window_[i].y_ms - mean_y);
    denominator += dx * dx;
  }
  if (denominator == 0) return std::nullopt;
  return numerator / denominator;
}

double TrendlineEstimator::modified_trend() const noexcept {
  return static_cast<double>(std::min(delta_count_, kMaxDeltaCount)) * trend_ * kThresholdGain;
}

BandwidthUsage TrendlineEstimator::update(std::chrono::microseconds arrival_delta, std::chrono::microseconds send_delta,
                                          RemoteTime arrival) noexcept {
  delta_count_ = std::min(delta_count_ + 1, std::size_t{1000});
  if (!first_arrival_) first_arrival_ = arrival;
  accumulated_delay_ms_ += to_ms(arrival_delta) - to_ms(send_delta);
  smoothed_delay_ms_ = kSmoothing * smoothed_delay_ms_ + (1 - kSmoothing) * accumulated_delay_ms_;

  window_[next_] = Point{to_ms(arrival - *first_arrival_), smoothed_delay_ms_};
  next_ = (next_ + 1) % kWindow;
  points_ = std::min(points_ + 1, kWindow);
  // The regression needs a full window; until then the previous trend (0 at first) stands.
  if (points_ == kWindow) {
    if (const auto fitted = slope()) trend_ = *fitted;
  }
  if (delta_count_ < 2) return detector_.state();
  return detector_.detect(modified_trend(), to_ms(send_delta), to_ms(arrival));
}

}  // namespace chorus::sfu::bwe
