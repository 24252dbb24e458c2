#include "sfu/bwe/probe_bitrate_estimator.hpp"

#include <algorithm>
#include <limits>

namespace chorus::sfu::bwe {

namespace {
double seconds(auto duration) {
  return std::chrono::duration<double>(duration).count();
}
}  // namespace

void ProbeBitrateEstimator::on_cluster_started(const ProbeCluster& cluster) noexcept {
  clusters_[next_slot_] = Cluster{true, cluster};
  next_slot_ = (next_slot_ + 1) % clusters_.size();
}

ProbeBitrateEstimator::Cluster* ProbeBitrateEstimator::find(std::uint32_t id) noexcept {
  for (auto& cluster : clusters_) {
    if (cluster.active && cluster.plan.id == id) return &cluster;
  }
  return nullptr;
}

void ProbeBitrateEstimator::on_packet_sent(std::uint32_t cluster_id, std::size_t size) noexcept {
  Cluster* cluster = find(cluster_id);
  if (cluster == nullptr) {
    ++counters_.packets_for_unknown_clusters;
    return;
  }
  ++cluster->sent_packets;
  cluster->sent_bytes += size;
}

void ProbeBitrateEstimator::add_result(Cluster& cluster, const PacketResult& packet) noexcept {
  ++cluster.reported;
  if (!packet.arrival) return;
  const RemoteTime arrival = *packet.arrival;
  if (cluster.received == 0 || packet.send_time < cluster.first_send) cluster.first_send = packet.send_time;
  if (cluster.received == 0 || packet.send_time >= cluster.last_send) {
    cluster.last_send = packet.send_time;
    cluster.last_send_size = packet.size;
  }
  if (cluster.received == 0 || arrival < cluster.first_arrival) {
    cluster.first_arrival = arrival;
    cluster.first_arrival_size = packet.size;
  }
  if (cluster.received == 0 || arrival > cluster.last_arrival) cluster.last_arrival = arrival;
  ++cluster.received;
  cluster.received_bytes += packet.size;
}

bool ProbeBitrateEstimator::complete(const Cluster& cluster) noexcept {
  return cluster.sent_bytes >= cluster.plan.bytes && cluster.sent_packets >= cluster.plan.min_packets &&
         cluster.reported >= cluster.sent_packets;
}

std::optional<double> ProbeBitrateEstimator::measure(const Cluster& cluster) noexcept {
  const auto min_received = static_cast<double>(cluster.plan.min_packets) * kMinReceivedShare;
  if (cluster.received < 2 || static_cast<double>(cluster.received) < min_received) return std::nullopt;
  const auto send_span = cluster.last_send - cluster.first_send;
  const auto receive_span = cluster.last_arrival - cluster.first_arrival;
  if (receive_span <= RemoteTime::zero() || receive_span > kMaxSpan || send_span > kMaxSpan) return std::nullopt;

  const auto receive_rate =
      static_cast<double>(cluster.received_bytes - cluster.first_arrival_size) * 8 / seconds(receive_span);
  // All sent in one instant: only the receiver's side says anything about the rate.
  const double send_rate =
      send_span > Clock::duration::zero()
          ? static_cast<double>(cluster.received_bytes - cluster.last_send_size) * 8 / seconds(send_span)
          : std::numeric_limits<double>::infinity();
  if (receive_rate > kMaxReceiveToSendRatio * send_rate) return std::nullopt;
  if (receive_rate < kLinkLimitedRatio * send_rate) return kLinkLimitedMargin * receive_rate;
  return std::min(send_rate, receive_rate);
}

std::optional<ProbeResult> ProbeBitrateEstimator::on_feedback(std::span<const PacketResult> packets) noexcept {
  for (const auto& packet : packets) {
    if (!packet.probe_cluster) continue;
    if (Cluster* cluster = find(*packet.probe_cluster)) add_result(*cluster, packet);
  }
  for (auto& cluster : clusters_) {
    if (!cluster.active || !complete(cluster)) continue;
    cluster.active = false;
    ProbeResult result{cluster.plan.id, measure(cluster)};
    ++(result.bitrate_bps ? counters_.results : counters_.invalid_results);
    return result;
  }
  return std::nullopt;
}

}  // namespace chorus::sfu::bwe
