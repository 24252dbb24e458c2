// TrendlineEstimator and OveruseDetector: is the bottleneck queue growing, steady or draining?
// (draft-ietf-rmcat-gcc-02 §5.3–5.4, with the trendline filter libwebrtc's GoogCC uses in place
// of the draft's Kalman filter.)
//
// Each group delta d(i) (InterArrival) is accumulated into the total queuing delay the stream
// has built, smoothed exponentially, and a least-squares line is fitted through the last
// `window` points of (arrival time, smoothed delay). Its slope — milliseconds of queue gained
// per millisecond — is the trend: positive while the queue grows.
//
// The detector compares the trend, scaled by min(deltas seen, 60) × threshold_gain so a young
// estimate speaks softly, to an adaptive threshold γ:
//   - above +γ for more than kOverusingTime and twice in a row, and not falling: overusing;
//   - below −γ: underusing;  otherwise: normal.
// §5.4: γ follows |m| slowly, quickly down (k_d) and slowly up (k_u), over the time since its
// last update (at most 100 ms at a time), within [6, 600] ms; it is not moved by outliers more
// than 15 ms above it, so a single spike does not desensitise it. A static γ would either starve
// against a concurrent TCP flow or miss real congestion.
//
// Threading: plain values; one per estimator, used from the estimator's thread. No allocation:
// the window is a fixed ring.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

class OveruseDetector {
 public:
  static constexpr double kInitialThresholdMs = 12.5;
  static constexpr double kMinThresholdMs = 6.0;
  static constexpr double kMaxThresholdMs = 600.0;
  static constexpr double kUpGain = 0.0087;      // k_u: γ rises this fast (per ms) towards a larger |m|
  static constexpr double kDownGain = 0.039;     // k_d: and falls this fast towards a smaller one
  static constexpr double kMaxOutlierMs = 15.0;  // |m| beyond γ + this leaves γ alone
  static constexpr double kOverusingTimeMs = 10.0;
  static constexpr double kMaxThresholdStepMs = 100.0;

  // `modified_trend` is the scaled trend in ms; `send_delta_ms` the group's send spacing, which
  // is how long this trend sample stands for; `now_ms` the arrival time, for γ's adaptation.
  BandwidthUsage detect(double modified_trend, double send_delta_ms, double now_ms) noexcept;

  [[nodiscard]] BandwidthUsage state() const noexcept { return state_; }
  [[nodiscard]] double threshold_ms() const noexcept { return threshold_; }

 private:
  void update_threshold(double modified_trend, double now_ms) noexcept;

  BandwidthUsage state_ = BandwidthUsage::kNormal;
  double threshold_ = kInitialThresholdMs;
  std::optional<double> last_threshold_update_ms_;
  double time_over_using_ms_ = -1;  // -1: not currently above γ
  int overuse_count_ = 0;
  double previous_trend_ = 0;
};

class TrendlineEstimator {
 public:
  static constexpr std::size_t kWindow = 20;         // points in the regression
  static constexpr double kSmoothing = 0.9;          // weight of the previous smoothed delay
  static constexpr double kThresholdGain = 4.0;      // the trend is scaled by this before detection
  static constexpr std::size_t kMaxDeltaCount = 60;  // the scaling grows with deltas seen up to this

  // One group delta: its arrival and send spacing and when (receiver clock) the group arrived.
  BandwidthUsage update(std::chrono::microseconds arrival_delta, std::chrono::microseconds send_delta,
                        RemoteTime arrival) noexcept;

  [[nodiscard]] BandwidthUsage state() const noexcept { return detector_.state(); }
  [[nodiscard]] double trend() const noexcept { return trend_; }
  [[nodiscard]] double threshold_ms() const noexcept { return detector_.threshold_ms(); }
  [[nodiscard]] double modified_trend() const noexcept;

 private:
  struct Point {
    double x_ms = 0;  // arrival since the first delta
    double y_ms = 0;  // smoothed accumulated delay
  };
  // The least-squares slope through the window, or nullopt when all x are equal.
  [[nodiscard]] std::optional<double> slope() const noexcept;

  std::array<Point, kWindow> window_{};
  std::size_t points_ = 0;  // filled so far, at most kWindow
  std::size_t next_ = 0;    // ring position of the next point
  std::size_t delta_count_ = 0;
  std::optional<RemoteTime> first_arrival_;
  double accumulated_delay_ms_ = 0;
  double smoothed_delay_ms_ = 0;
  double trend_ = 0;
  OveruseDetector detector_;
};

}  // namespace chorus::sfu::bwe
