// ProbeBitrateEstimator: how fast a probe cluster's packets reached the receiver, from the
// transport-cc feedback on them.
//
// A cluster is measured once it is complete: the sender has sent at least its planned bytes
// and packets (on_packet_sent) and feedback has reported every packet sent (received or lost).
// Over its received packets:
//   send rate    = (bytes − the last-sent packet's) / (last send − first send)
//   receive rate = (bytes − the first-received packet's) / (last arrival − first arrival)
// (each span opens with one packet already gone). Sanity checks make the result nullopt
// ("could not measure") rather than wrong: fewer than 80 % of min_packets received, a receive
// span of zero or either span above 1 s (the burst was not a burst), or a receive rate above
// twice the send rate (the receiver cannot get it faster than we sent it: clock trouble).
// The result is the smaller rate; when the receive rate is clearly below the send rate (< 90 %)
// the link was the limit, and 95 % of the receive rate is taken to stay just under it.
//
// Clusters live in a small fixed table: registering a new one replaces the oldest.
// Threading: a plain value; one per estimator, used from the estimator's thread. No allocation.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "sfu/bwe/bwe_types.hpp"
#include "sfu/bwe/probe_controller.hpp"

namespace chorus::sfu::bwe {

struct ProbeResult {
  std::uint32_t cluster_id = 0;
  std::optional<double> bitrate_bps;  // nullopt: the cluster could not be measured
};

struct ProbeEstimatorCounters {
  std::uint64_t packets_for_unknown_clusters = 0;
  std::uint64_t results = 0;
  std::uint64_t invalid_results = 0;
};

class ProbeBitrateEstimator {
 public:
  static constexpr std::size_t kMaxClusters = 4;
  static constexpr std::chrono::seconds kMaxSpan{1};
  static constexpr double kMinReceivedShare = 0.8;
  static constexpr double kMaxReceiveToSendRatio = 2.0;
  static constexpr double kLinkLimitedRatio = 0.9;
  static constexpr double kLinkLimitedMargin = 0.95;

  void on_cluster_started(const ProbeCluster& cluster) noexcept;
  // Every packet sent tagged with a cluster id, as it is sent.
  void on_packet_sent(std::uint32_t cluster_id, std::size_t size) noexcept;
  // One feedback's results; the result of a cluster this feedback completed, if any.
  std::optional<ProbeResult> on_feedback(std::span<const PacketResult> packets) noexcept;

  [[nodiscard]] const ProbeEstimatorCounters& counters() const noexcept { return counters_; }

 private:
  struct Cluster {
    bool active = false;
    ProbeCluster plan;
    std::size_t sent_packets = 0;
    std::size_t sent_bytes = 0;
    std::size_t reported = 0;
    std::size_t received = 0;
    std::size_t received_bytes = 0;
    Timestamp first_send{};
    Timestamp last_send{};
    std::size_t last_send_size = 0;
    RemoteTime first_arrival{0};
    RemoteTime last_arrival{0};
    std::size_t first_arrival_size = 0;
  };
  Cluster* find(std::uint32_t id) noexcept;
  void add_result(Cluster& cluster, const PacketResult& packet) noexcept;
  [[nodiscard]] static bool complete(const Cluster& cluster) noexcept;
  [[nodiscard]] static std::optional<double> measure(const Cluster& cluster) noexcept;

  std::array<Cluster, kMaxClusters> clusters_{};
  std::size_t next_slot_ = 0;
  ProbeEstimatorCounters counters_;
};

}  // namespace chorus::sfu::bwe
