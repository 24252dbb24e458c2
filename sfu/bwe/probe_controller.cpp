#include "sfu/bwe/probe_controller.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chorus::sfu::bwe {

ProbeController::ProbeController(ProbeControllerConfig config) : config_(config) {
  if (!(config_.step > 1.0) || !(config_.min_gain > 1.0)) {
    throw std::invalid_argument("probe controller: step and min_gain must be above 1");
  }
  if (!(config_.success_ratio > 0.0 && config_.success_ratio <= 1.0)) {
    throw std::invalid_argument("probe controller: success_ratio must be in (0, 1]");
  }
  if (config_.cluster_duration <= std::chrono::milliseconds::zero() ||
      config_.timeout <= std::chrono::milliseconds::zero() || config_.min_packets == 0) {
    throw std::invalid_argument("probe controller: duration, timeout and min_packets must be positive");
  }
}

void ProbeController::end_series(Timestamp now, double wanted_bps) noexcept {
  next_allowed_ = now + config_.retry_interval;
  wanted_at_series_end_ = wanted_bps;
}

std::optional<ProbeCluster> ProbeController::process(Timestamp now, double estimate_bps, double wanted_bps) {
  if (in_flight_) {
    if (now - in_flight_->started < config_.timeout) return std::nullopt;
    ++counters_.timeouts;
    in_flight_.reset();
    end_series(now, wanted_bps);
  }
  // A success whose result the estimate did not take (a loss bound or REMB holds it down) says
  // nothing more can be learnt by probing higher now.
  if (continue_above_ && !in_flight_ && estimate_bps < *continue_above_) {
    continue_above_.reset();
    end_series(now, wanted_bps);
  }
  // A receiver that now wants clearly more than when the last series ended is worth asking for.
  if (wanted_at_series_end_ && wanted_bps > *wanted_at_series_end_ * config_.min_gain) next_allowed_.reset();
  if (next_allowed_ && now < *next_allowed_) return std::nullopt;

  const double ceiling = std::min(wanted_bps, static_cast<double>(config_.max_bitrate_bps));
  const double target = std::min(estimate_bps * config_.step, ceiling);
  if (target < estimate_bps * config_.min_gain) return std::nullopt;

  ProbeCluster cluster;
  cluster.id = next_id_++;
  cluster.bitrate_bps = static_cast<std::uint64_t>(target);
  const double seconds = std::chrono::duration<double>(config_.cluster_duration).count();
  cluster.bytes = static_cast<std::size_t>(std::ceil(target * seconds / 8));
  cluster.min_packets = config_.min_packets;
  in_flight_ = InFlight{cluster, now, wanted_bps, target >= ceiling};
  continue_above_.reset();
  wanted_at_series_end_.reset();  // a series is running
  ++counters_.clusters;
  return cluster;
}

void ProbeController::on_probe_result(std::uint32_t id, std::optional<double> bitrate_bps, Timestamp now) noexcept {
  if (!in_flight_ || in_flight_->cluster.id != id) return;  // timed out already, or not ours
  const double target = static_cast<double>(in_flight_->cluster.bitrate_bps);
  const bool success = bitrate_bps && *bitrate_bps >= config_.success_ratio * target;
  const bool capped = in_flight_->capped;
  const double wanted = in_flight_->wanted_bps;
  in_flight_.reset();
  if (success) {
    ++counters_.successes;
  } else {
    ++counters_.shortfalls;
  }
  if (success && !capped) {
    next_allowed_ = now + config_.pause;
    continue_above_ = *bitrate_bps * config_.success_ratio;
    return;
  }
  end_series(now, wanted);
}

}  // namespace chorus::sfu::bwe
