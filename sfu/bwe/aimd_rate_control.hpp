// AimdRateControl: the delay-based rate controller (draft-ietf-rmcat-gcc-02 §5.5). It turns the
// detector's verdicts into a bitrate with a three-state machine:
//
//   verdict \ state   Hold       Increase   Decrease
//   overusing         Decrease   Decrease   (stays)
//   normal            Increase   (stays)    Hold
//   underusing        Hold       Hold       Hold
//
// - Increase: multiplicative, ~8 %/s, while far from any congestion point (none seen yet, or
//   the link has since outgrown it); additive once a link capacity is known: about one average
//   packet per response time (RTT + 100 ms), at least 4 kbit/s per second — slowly probing the
//   edge we already fell off once. Never above 1.5 × the acknowledged bitrate + 10 kbit/s: the
//   estimate must not run ahead of what the sender actually gets through.
// - Decrease: to β = 0.85 × the acknowledged bitrate (what really reached the receiver), never
//   up; the acknowledged bitrate at that moment feeds the link capacity estimate (mean and
//   variance). A throughput above its +3σ bound means the link got faster: the capacity is
//   forgotten and increases go multiplicative again; one below −3σ at a decrease means the link
//   got slower: the capacity restarts from that sample.
// - Underuse: hold, so the queue the overuse built can drain.
//
// Threading: a plain value; one per estimator, used from the estimator's thread.
#pragma once

#include <chrono>
#include <optional>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

struct AimdConfig {
  double min_bps = 50'000;
  double max_bps = 30'000'000;
  double start_bps = 1'000'000;
};

// The link capacity seen at decreases: an exponential mean of the acknowledged bitrate with a
// variance normalised by the mean (kbit/s), as the draft's "average max bitrate".
class LinkCapacityEstimate {
 public:
  void on_overuse(double acked_bps) noexcept;
  void reset() noexcept { mean_kbps_.reset(); }
  [[nodiscard]] bool known() const noexcept { return mean_kbps_.has_value(); }
  [[nodiscard]] double mean_bps() const noexcept { return mean_kbps_.value_or(0) * 1000; }
  [[nodiscard]] double upper_bps() const noexcept;
  [[nodiscard]] double lower_bps() const noexcept;

 private:
  [[nodiscard]] double deviation_kbps() const noexcept;
  std::optional<double> mean_kbps_;
  double variance_ = 0.4;
};

class AimdRateControl {
 public:
  enum class State { kHold, kIncrease, kDecrease };

  static constexpr double kBeta = 0.85;
  static constexpr double kIncreasePerSecond = 1.08;
  static constexpr double kMinAdditiveBpsPerSecond = 4'000;
  static constexpr std::chrono::milliseconds kResponseTimeExtra{100};
  static constexpr std::chrono::milliseconds kDefaultRtt{200};

  explicit AimdRateControl(AimdConfig config) noexcept;

  // One detector verdict with the acknowledged bitrate at that moment. Returns the new estimate.
  double update(BandwidthUsage usage, std::optional<double> acked_bps, Timestamp now) noexcept;
  // A probe or the caller sets the estimate outright (clamped to [min, max]).
  void set_estimate(double bps, Timestamp now) noexcept;
  void set_rtt(std::chrono::microseconds rtt) noexcept { rtt_ = rtt; }

  // While overusing, whether enough time has passed since the last decrease (one RTT, clamped to
  // 10..200 ms) or the estimate is still above twice what gets through, to decrease again.
  [[nodiscard]] bool time_to_reduce_further(Timestamp now, double acked_bps) const noexcept;

  [[nodiscard]] double estimate_bps() const noexcept { return estimate_; }
  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] const LinkCapacityEstimate& link_capacity() const noexcept { return link_capacity_; }

 private:
  void change_state(BandwidthUsage usage) noexcept;
  [[nodiscard]] double additive_increase(std::chrono::microseconds elapsed) const noexcept;
  [[nodiscard]] double multiplicative_increase(std::chrono::microseconds elapsed) const noexcept;
  [[nodiscard]] double decreased(std::optional<double> acked_bps) noexcept;

  AimdConfig config_;
  double estimate_;
  State state_ = State::kHold;
  LinkCapacityEstimate link_capacity_;
  std::chrono::microseconds rtt_ = kDefaultRtt;
  std::optional<Timestamp> last_update_;
  std::optional<Timestamp> last_decrease_;
};

}  // namespace chorus::sfu::bwe
