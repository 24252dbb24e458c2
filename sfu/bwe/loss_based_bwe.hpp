// LossBasedBwe: the loss-based half of the send-side estimate (draft-ietf-rmcat-gcc-02 §6),
// expressed as an upper bound on the delay-based estimate.
//
// Loss is counted over at least kMinPackets reported packets and at least kEvaluationInterval
// (as libwebrtc's GoogCC does with transport-cc losses): fewer packets say little — one lost out
// of five is not 20 % loss — and at 5 % random loss a 20-packet sample reads above 10 % one time
// in thirteen, which would ratchet the bound down by chance. Then:
//   - above 10 %: the bound drops to (1 − loss/2) × the current estimate, at most once per
//     300 ms + RTT, so the previous decrease has time to show in the feedback;
//   - 2..10 %: hold — some random loss (Wi-Fi, a lossy last mile) is not congestion;
//   - below 2 %: the bound grows by 8 %/s, and disappears once it reaches the delay-based
//     estimate: without real loss the loss controller has no opinion and the delay-based
//     estimate (and the probes that raise it) rules alone.
//
// Threading: a plain value; one per estimator, used from the estimator's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

class LossBasedBwe {
 public:
  static constexpr double kLowLoss = 0.02;
  static constexpr double kHighLoss = 0.10;
  static constexpr std::size_t kMinPackets = 20;
  static constexpr std::chrono::milliseconds kEvaluationInterval{1000};
  static constexpr std::chrono::milliseconds kDecreaseInterval{300};
  static constexpr double kIncreasePerSecond = 1.08;
  static constexpr double kMinIncreaseBps = 1'000;

  // One feedback's counts. `current_bps` is the combined estimate now (what a decrease starts
  // from), `delay_based_bps` the delay-based one (where a recovering bound dissolves).
  void on_feedback(std::size_t received, std::size_t lost, double current_bps, double delay_based_bps,
                   std::chrono::microseconds rtt, Timestamp now) noexcept;

  // The bound, or nullopt when loss gives no reason for one.
  [[nodiscard]] std::optional<double> bound_bps() const noexcept { return bound_; }
  // The loss fraction of the last complete measurement.
  [[nodiscard]] std::optional<double> loss_fraction() const noexcept { return loss_fraction_; }

 private:
  void evaluate(double fraction, double current_bps, double delay_based_bps, std::chrono::microseconds rtt,
                Timestamp now) noexcept;

  std::size_t received_ = 0;
  std::size_t lost_ = 0;
  std::optional<double> bound_;
  std::optional<double> loss_fraction_;
  std::optional<Timestamp> window_start_;  // when the current count began
  std::optional<Timestamp> last_evaluation_;
  std::optional<Timestamp> last_decrease_;
};

}  // namespace chorus::sfu::bwe
