// DelayBasedBwe: the delay-based half of the send-side estimate (draft-ietf-rmcat-gcc-02 §5):
// feedback → send-time groups (InterArrival) → trendline and adaptive threshold
// (TrendlineEstimator) → AIMD (AimdRateControl).
//
// Per feedback:
//   - overusing: decrease to 0.85 × the acknowledged bitrate, but only once per RTT (10..200 ms)
//     while the overuse lasts, unless the estimate is still above twice what gets through.
//     Overusing before any acknowledged bitrate is known halves the estimate every 200 ms;
//   - otherwise a probe result above the estimate replaces it outright (that is what probing is
//     for); else the AIMD state machine steps.
//
// Threading: a plain value; one per estimator, used from the estimator's thread. No allocation.
#pragma once

#include <chrono>
#include <optional>

#include "sfu/bwe/aimd_rate_control.hpp"
#include "sfu/bwe/bwe_types.hpp"
#include "sfu/bwe/inter_arrival.hpp"
#include "sfu/bwe/transport_feedback_adapter.hpp"
#include "sfu/bwe/trendline_estimator.hpp"

namespace chorus::sfu::bwe {

struct DelayBasedResult {
  double estimate_bps = 0;
  BandwidthUsage usage = BandwidthUsage::kNormal;
  bool probe = false;  // the estimate jumped to a probe result
};

class DelayBasedBwe {
 public:
  static constexpr std::chrono::milliseconds kInitialHalvingInterval{200};

  explicit DelayBasedBwe(AimdConfig config) noexcept : aimd_(config) {}

  DelayBasedResult on_feedback(const FeedbackBatch& batch, std::optional<double> acked_bps,
                               std::optional<double> probe_bps, Timestamp now) noexcept;
  void set_rtt(std::chrono::microseconds rtt) noexcept { aimd_.set_rtt(rtt); }

  [[nodiscard]] double estimate_bps() const noexcept { return aimd_.estimate_bps(); }
  [[nodiscard]] BandwidthUsage usage() const noexcept { return trendline_.state(); }
  [[nodiscard]] const TrendlineEstimator& trendline() const noexcept { return trendline_; }
  [[nodiscard]] const AimdRateControl& rate_control() const noexcept { return aimd_; }
  [[nodiscard]] const InterArrival& inter_arrival() const noexcept { return inter_arrival_; }

 private:
  void on_overuse(std::optional<double> acked_bps, Timestamp now) noexcept;

  InterArrival inter_arrival_;
  TrendlineEstimator trendline_;
  AimdRateControl aimd_;
  std::optional<Timestamp> last_halving_;
};

}  // namespace chorus::sfu::bwe
