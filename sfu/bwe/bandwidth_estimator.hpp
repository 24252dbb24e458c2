// BandwidthEstimator: how much the SFU may send to one receiving transport, from the receiver's
// transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), in the spirit of
// libwebrtc's GoogCC (draft-ietf-rmcat-gcc-02): a delay-based estimate (trendline + AIMD), a
// loss-based bound, the acknowledged bitrate and probing. The router uses estimate_bps() to pick
// simulcast layers for the receiver's slots.
//
// The caller's part:
//   - on_packet_sent() for every RTP packet it sends on the transport, just before sending, and
//     writes the returned number into the transport-wide sequence number extension (§2);
//   - on_transport_feedback() with every parsed transport-cc packet from that receiver;
//   - set_wanted_bitrate() with what the receiver's slots would use at their best layers, and
//     next_probe() every few milliseconds: a ProbeCluster is bytes to send now as RTX padding at
//     the cluster's rate, each packet passed to on_packet_sent() with the cluster's id;
//   - on_remb() when the receiver also sends REMB (draft-alvestrand-rmcat-remb-03).
//
// estimate_bps() = min(delay-based, loss-based bound, REMB, max), never below min_bps: the floor
// keeps at least audio-grade video flowing whatever the feedback says, including a REMB below it.
//
// Pure logic, no clock of its own: every time is passed in. Threading: a plain value owned by
// the media worker of its transport (DESIGN §2); use it from that thread. on_packet_sent() is the
// packet path: no allocation, no exception, no lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "media/rtcp/transport_cc.hpp"
#include "sfu/bwe/acknowledged_bitrate.hpp"
#include "sfu/bwe/bwe_types.hpp"
#include "sfu/bwe/delay_based_bwe.hpp"
#include "sfu/bwe/loss_based_bwe.hpp"
#include "sfu/bwe/probe_bitrate_estimator.hpp"
#include "sfu/bwe/probe_controller.hpp"
#include "sfu/bwe/send_history.hpp"
#include "sfu/bwe/transport_feedback_adapter.hpp"

namespace chorus::sfu::bwe {

struct BandwidthEstimatorConfig {
  std::uint64_t start_bps = 1'000'000;
  std::uint64_t min_bps = 50'000;
  std::uint64_t max_bps = 30'000'000;
  std::size_t history_capacity = SendHistory::kDefaultCapacity;
  std::chrono::milliseconds history_max_age = SendHistory::kDefaultMaxAge;
  ProbeControllerConfig probing{};
};

struct BandwidthEstimatorCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t probe_packets_sent = 0;
  std::uint64_t feedbacks_used = 0;  // feedbacks with at least one packet we remembered
  std::uint64_t probe_jumps = 0;     // the estimate jumped to a probe result
  std::uint64_t remb_updates = 0;
};

class BandwidthEstimator {
 public:
  // Control path: throws std::invalid_argument unless 0 < min_bps <= start_bps <= max_bps, or
  // for a history or probing configuration the parts refuse.
  explicit BandwidthEstimator(BandwidthEstimatorConfig config = {});

  // Packet path: records a packet about to be sent; returns its transport-wide sequence number.
  std::uint16_t on_packet_sent(Timestamp now, std::size_t size,
                               std::optional<std::uint32_t> probe_cluster = std::nullopt) noexcept;
  // A transport-cc packet from the receiver. false when it matched nothing we remember.
  bool on_transport_feedback(const media::rtcp::TransportCc& feedback, Timestamp now);
  // The receiver's REMB: an upper bound from then on (0 removes it).
  void on_remb(std::uint64_t bitrate_bps) noexcept;
  void set_wanted_bitrate(std::uint64_t bitrate_bps) noexcept { wanted_bps_ = bitrate_bps; }
  // A probe cluster to start now, or nullopt.
  std::optional<ProbeCluster> next_probe(Timestamp now);

  [[nodiscard]] std::uint64_t estimate_bps() const noexcept;
  [[nodiscard]] std::uint64_t delay_based_bps() const noexcept;
  [[nodiscard]] std::optional<std::uint64_t> loss_based_bps() const noexcept;
  [[nodiscard]] std::optional<std::uint64_t> acknowledged_bps() const noexcept;
  [[nodiscard]] std::optional<double> loss_fraction() const noexcept { return loss_based_.loss_fraction(); }
  [[nodiscard]] BandwidthUsage usage() const noexcept { return delay_based_.usage(); }
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt() const noexcept { return rtt_; }

  [[nodiscard]] const BandwidthEstimatorCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const TransportFeedbackCounters& feedback_counters() const noexcept { return adapter_.counters(); }
  [[nodiscard]] const ProbeControllerCounters& probe_counters() const noexcept { return probe_controller_.counters(); }
  [[nodiscard]] const DelayBasedBwe& delay_based() const noexcept { return delay_based_; }

 private:
  void update_rtt(std::chrono::microseconds sample) noexcept;

  BandwidthEstimatorConfig config_;
  SendHistory history_;
  TransportFeedbackAdapter adapter_;
  AcknowledgedBitrate acknowledged_;
  DelayBasedBwe delay_based_;
  LossBasedBwe loss_based_;
  ProbeController probe_controller_;
  ProbeBitrateEstimator probe_estimator_;
  std::uint64_t wanted_bps_ = 0;
  std::optional<std::uint64_t> remb_bps_;
  std::optional<std::chrono::microseconds> rtt_;
  BandwidthEstimatorCounters counters_;
};

}  // namespace chorus::sfu::bwe
