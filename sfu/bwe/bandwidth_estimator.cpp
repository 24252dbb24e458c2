#include "sfu/bwe/bandwidth_estimator.hpp"

#include <algorithm>
#include <stdexcept>

namespace chorus::sfu::bwe {

namespace {

constexpr double kRttSmoothing = 0.125;  // weight of a new sample, as RFC 6298 §2.3's alpha

AimdConfig aimd_config(const BandwidthEstimatorConfig& config) {
  if (config.min_bps == 0 || config.min_bps > config.start_bps || config.start_bps > config.max_bps) {
    throw std::invalid_argument("bandwidth estimator: need 0 < min_bps <= start_bps <= max_bps");
  }
  return AimdConfig{static_cast<double>(config.min_bps), static_cast<double>(config.max_bps),
                    static_cast<double>(config.start_bps)};
}

}  // namespace

BandwidthEstimator::BandwidthEstimator(BandwidthEstimatorConfig config)
    : config_(config),
      history_(config.history_capacity, config.history_max_age),
      delay_based_(aimd_config(config)),
      probe_controller_(config.probing) {}

std::uint16_t BandwidthEstimator::on_packet_sent(Timestamp now, std::size_t size,
                                                 std::optional<std::uint32_t> probe_cluster) noexcept {
  ++counters_.packets_sent;
  if (probe_cluster) {
    ++counters_.probe_packets_sent;
    probe_estimator_.on_packet_sent(*probe_cluster, size);
  }
  return history_.on_packet_sent(now, size, probe_cluster);
}

void BandwidthEstimator::update_rtt(std::chrono::microseconds sample) noexcept {
  if (!rtt_) {
    rtt_ = sample;
  } else {
    rtt_ =
        std::chrono::microseconds(static_cast<std::int64_t>((1 - kRttSmoothing) * static_cast<double>(rtt_->count()) +
                                                            kRttSmoothing * static_cast<double>(sample.count())));
  }
  delay_based_.set_rtt(*rtt_);
}

bool BandwidthEstimator::on_transport_feedback(const media::rtcp::TransportCc& feedback, Timestamp now) {
  const auto batch = adapter_.on_feedback(feedback, history_, now);
  if (!batch) return false;
  ++counters_.feedbacks_used;
  if (batch->rtt) update_rtt(*batch->rtt);
  acknowledged_.on_packets(batch->packets);

  std::optional<double> probe_bps;
  if (const auto probe = probe_estimator_.on_feedback(batch->packets)) {
    probe_controller_.on_probe_result(probe->cluster_id, probe->bitrate_bps, now);
    probe_bps = probe->bitrate_bps;
  }
  const auto delay = delay_based_.on_feedback(*batch, acknowledged_.bitrate_bps(), probe_bps, now);
  if (delay.probe) ++counters_.probe_jumps;
  loss_based_.on_feedback(batch->received, batch->lost, static_cast<double>(estimate_bps()), delay.estimate_bps,
                          rtt_.value_or(AimdRateControl::kDefaultRtt), now);
  return true;
}

void BandwidthEstimator::on_remb(std::uint64_t bitrate_bps) noexcept {
  ++counters_.remb_updates;
  remb_bps_ = bitrate_bps == 0 ? std::nullopt : std::optional(bitrate_bps);
}

std::optional<ProbeCluster> BandwidthEstimator::next_probe(Timestamp now) {
  // Probing above what REMB or the configuration allows could never raise the estimate.
  std::uint64_t wanted = std::min(wanted_bps_, config_.max_bps);
  if (remb_bps_) wanted = std::min(wanted, *remb_bps_);
  auto cluster = probe_controller_.process(now, static_cast<double>(estimate_bps()), static_cast<double>(wanted));
  if (cluster) probe_estimator_.on_cluster_started(*cluster);
  return cluster;
}

std::uint64_t BandwidthEstimator::delay_based_bps() const noexcept {
  return static_cast<std::uint64_t>(delay_based_.estimate_bps());
}

std::optional<std::uint64_t> BandwidthEstimator::loss_based_bps() const noexcept {
  const auto bound = loss_based_.bound_bps();
  return bound ? std::optional(static_cast<std::uint64_t>(*bound)) : std::nullopt;
}

std::optional<std::uint64_t> BandwidthEstimator::acknowledged_bps() const noexcept {
  const auto acked = acknowledged_.bitrate_bps();
  return acked ? std::optional(static_cast<std::uint64_t>(*acked)) : std::nullopt;
}

std::uint64_t BandwidthEstimator::estimate_bps() const noexcept {
  std::uint64_t estimate = std::min(delay_based_bps(), config_.max_bps);
  if (const auto loss = loss_based_bps()) estimate = std::min(estimate, *loss);
  if (remb_bps_) estimate = std::min(estimate, *remb_bps_);
  return std::max(estimate, config_.min_bps);
}

}  // namespace chorus::sfu::bwe
