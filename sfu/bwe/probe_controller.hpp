// ProbeController: decides when to probe for more bandwidth, how much and how fast.
//
// The delay-based estimate only climbs ~8 %/s, far too slowly to reach the rate a receiver's
// slots want at their best simulcast layers. Probing (as libwebrtc's GoogCC does) sends a short
// burst at a multiple of the estimate; if the receiver gets it at that rate, the estimate jumps
// there (ProbeBitrateEstimator measures it).
//
// Policy: when the wanted bitrate is above the estimate, a series starts at 2 × the estimate;
// each cluster whose result reaches 70 % of its target continues the series at 2 × the new
// estimate (so 2×, then 4× the starting estimate...), after a pause. Every target is bounded by
// the wanted bitrate and the configured maximum, and a target less than 1.2 × the estimate is not
// worth a probe. A series ends when a result falls short, a target was capped (nothing higher to
// learn), the estimate did not follow a good result (something else bounds it) or a cluster
// times out; the next series waits `retry_interval`, unless the wanted
// bitrate rises by a fifth, which starts one at once (a new video slot to fill).
// At most one cluster is in flight: from its start until its result or timeout.
//
// The cluster says what to send: `bytes` in total at `bitrate_bps`, at least `min_packets`
// packets, every one tagged with `id` when passed to BandwidthEstimator::on_packet_sent. The
// router sends them as RTX padding (media sent meanwhile may be tagged and counted too).
//
// Threading: a plain value; one per estimator, used from the estimator's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

struct ProbeCluster {
  std::uint32_t id = 0;
  std::uint64_t bitrate_bps = 0;
  std::size_t bytes = 0;
  std::size_t min_packets = 0;
};

struct ProbeControllerConfig {
  double step = 2.0;           // each cluster probes at this multiple of the estimate
  double min_gain = 1.2;       // no probe for less than this multiple of the estimate
  double success_ratio = 0.7;  // a result this close to the target continues the series
  std::chrono::milliseconds cluster_duration{50};
  std::size_t min_packets = 5;
  std::chrono::milliseconds pause{200};            // between the clusters of a series
  std::chrono::milliseconds retry_interval{5000};  // between series
  std::chrono::milliseconds timeout{1000};         // a cluster with no result by then has failed
  std::uint64_t max_bitrate_bps = 20'000'000;
};

struct ProbeControllerCounters {
  std::uint64_t clusters = 0;
  std::uint64_t successes = 0;
  std::uint64_t shortfalls = 0;  // a result below the success ratio, or no valid result
  std::uint64_t timeouts = 0;
};

class ProbeController {
 public:
  // Control path: throws std::invalid_argument for a step or min_gain not above 1, a success
  // ratio outside (0, 1], a non-positive duration, timeout or zero min_packets.
  explicit ProbeController(ProbeControllerConfig config = {});

  // A cluster to send now, or nullopt. Called by the estimator's owner periodically (every few
  // ms to every feedback) with the current estimate and the receiver's wanted bitrate.
  std::optional<ProbeCluster> process(Timestamp now, double estimate_bps, double wanted_bps);

  // The result of cluster `id`: the measured bitrate, or nullopt when it could not be measured.
  void on_probe_result(std::uint32_t id, std::optional<double> bitrate_bps, Timestamp now) noexcept;

  [[nodiscard]] bool in_flight() const noexcept { return in_flight_.has_value(); }
  [[nodiscard]] const ProbeControllerCounters& counters() const noexcept { return counters_; }

 private:
  struct InFlight {
    ProbeCluster cluster;
    Timestamp started;
    double wanted_bps = 0;
    bool capped = false;  // the target was bounded by wanted or max: a series cannot go higher
  };
  void end_series(Timestamp now, double wanted_bps) noexcept;

  ProbeControllerConfig config_;
  std::optional<InFlight> in_flight_;
  std::optional<Timestamp> next_allowed_;
  std::optional<double> wanted_at_series_end_;  // set between series only
  std::optional<double> continue_above_;        // after a success: the estimate must have followed
  std::uint32_t next_id_ = 1;
  ProbeControllerCounters counters_;
};

}  // namespace chorus::sfu::bwe
