#include "sfu/bwe/aimd_rate_control.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::sfu::bwe {

namespace {

constexpr double kCapacitySmoothing = 0.05;  // weight of a new acknowledged-bitrate sample
constexpr double kMinVariance = 0.4;
constexpr double kMaxVariance = 2.5;
constexpr double kCapacityBand = 3.0;  // ± this many deviations is "near"
constexpr double kAckedHeadroom = 1.5;
constexpr double kAckedHeadroomBps = 10'000;
constexpr double kMinMultiplicativeIncreaseBps = 1'000;
// §5.5's additive step assumes video: frames at ~30/s cut into packets of at most ~1200 octets.
constexpr double kAssumedFramesPerSecond = 30.0;
constexpr double kMaxPacketBits = 1200.0 * 8;
constexpr std::chrono::milliseconds kMinReduceInterval{10};
constexpr std::chrono::milliseconds kMaxReduceInterval{200};

double seconds(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

}  // namespace

void LinkCapacityEstimate::on_overuse(double acked_bps) noexcept {
  const double sample = acked_bps / 1000;
  if (!mean_kbps_) {
    mean_kbps_ = sample;
  } else {
    *mean_kbps_ = (1 - kCapacitySmoothing) * *mean_kbps_ + kCapacitySmoothing * sample;
  }
  const double error = *mean_kbps_ - sample;
  variance_ = (1 - kCapacitySmoothing) * variance_ + kCapacitySmoothing * error * error / std::max(*mean_kbps_, 1.0);
  variance_ = std::clamp(variance_, kMinVariance, kMaxVariance);
}

double LinkCapacityEstimate::deviation_kbps() const noexcept {
  return std::sqrt(variance_ * mean_kbps_.value_or(0));
}
double LinkCapacityEstimate::upper_bps() const noexcept {
  return (mean_kbps_.value_or(0) + kCapacityBand * deviation_kbps()) * 1000;
}
double LinkCapacityEstimate::lower_bps() const noexcept {
  return std::max(0.0, (mean_kbps_.value_or(0) - kCapacityBand * deviation_kbps()) * 1000);
}

AimdRateControl::AimdRateControl(AimdConfig config) noexcept
    : config_(config), estimate_(std::clamp(config.start_bps, config.min_bps, config.max_bps)) {}

void AimdRateControl::set_estimate(double bps, Timestamp now) noexcept {
  estimate_ = std::clamp(bps, config_.min_bps, config_.max_bps);
  last_update_ = now;
}

void AimdRateControl::change_state(BandwidthUsage usage) noexcept {
  switch (usage) {
    case BandwidthUsage::kNormal:
      if (state_ == State::kHold) state_ = State::kIncrease;
      break;
    case BandwidthUsage::kOverusing:
      state_ = State::kDecrease;
      break;
    case BandwidthUsage::kUnderusing:
      state_ = State::kHold;
      break;
  }
}

bool AimdRateControl::time_to_reduce_further(Timestamp now, double acked_bps) const noexcept {
  const auto interval = std::clamp<std::chrono::microseconds>(rtt_, kMinReduceInterval, kMaxReduceInterval);
  if (!last_decrease_ || now - *last_decrease_ >= interval) return true;
  return estimate_ > 2 * acked_bps;
}

// §5.5: close to convergence, add about one packet per response time.
double AimdRateControl::additive_increase(std::chrono::microseconds elapsed) const noexcept {
  const double bits_per_frame = estimate_ / kAssumedFramesPerSecond;
  const double packets_per_frame = std::ceil(bits_per_frame / kMaxPacketBits);
  const double average_packet_bits = bits_per_frame / std::max(packets_per_frame, 1.0);
  const double response_time = seconds(rtt_ + kResponseTimeExtra);
  const double per_second = std::max(kMinAdditiveBpsPerSecond, average_packet_bits / response_time);
  return per_second * seconds(elapsed);
}

// §5.5: far from it, grow by a factor per second (elapsed capped at one second).
double AimdRateControl::multiplicative_increase(std::chrono::microseconds elapsed) const noexcept {
  const double factor = std::pow(kIncreasePerSecond, std::min(seconds(elapsed), 1.0));
  return std::max(estimate_ * (factor - 1), kMinMultiplicativeIncreaseBps);
}

double AimdRateControl::decreased(std::optional<double> acked_bps) noexcept {
  if (!acked_bps) return estimate_ * kBeta;
  double target = kBeta * *acked_bps;
  // The acknowledged bitrate lags (it averages a window); if it is still above the estimate,
  // the last known capacity is the better base.
  if (target > estimate_ && link_capacity_.known()) target = kBeta * link_capacity_.mean_bps();
  target = std::min(target, estimate_);
  if (link_capacity_.known() && *acked_bps < link_capacity_.lower_bps()) link_capacity_.reset();  // link got slower
  link_capacity_.on_overuse(*acked_bps);
  return target;
}

double AimdRateControl::update(BandwidthUsage usage, std::optional<double> acked_bps, Timestamp now) noexcept {
  change_state(usage);
  const auto elapsed = last_update_ ? std::chrono::duration_cast<std::chrono::microseconds>(now - *last_update_)
                                    : std::chrono::microseconds::zero();
  if (acked_bps && link_capacity_.known() && *acked_bps > link_capacity_.upper_bps()) {
    link_capacity_.reset();  // well above the old congestion point: the link got faster
  }
  double next = estimate_;
  switch (state_) {
    case State::kHold:
      break;
    case State::kIncrease: {
      // Near the last congestion point is "a link capacity is known": it is forgotten as soon as
      // the throughput outgrows it, and re-seeded when a decrease finds the link slower.
      next += link_capacity_.known() ? additive_increase(elapsed) : multiplicative_increase(elapsed);
      if (acked_bps) next = std::min(next, std::max(kAckedHeadroom * *acked_bps + kAckedHeadroomBps, estimate_));
      break;
    }
    case State::kDecrease:
      next = decreased(acked_bps);
      state_ = State::kHold;
      last_decrease_ = now;
      break;
  }
  estimate_ = std::clamp(next, config_.min_bps, config_.max_bps);
  last_update_ = now;
  return estimate_;
}

}  // namespace chorus::sfu::bwe
