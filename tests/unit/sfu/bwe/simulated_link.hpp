// A simulated call for the bandwidth estimator's tests, in simulated time only: a sender that
// follows BandwidthEstimator (paced media at min(estimate, wanted), probe clusters when asked),
// a bottleneck link (capacity, drop-tail queue bounded by delay, propagation delay, optional
// random loss before the queue) and a receiver whose TransportCcRecorder builds transport-cc
// feedback every 100 ms that travels back over the same propagation delay and is parsed from its
// wire bytes before the estimator sees it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "media/rtcp/transport_cc_recorder.hpp"
#include "sfu/bwe/bandwidth_estimator.hpp"

namespace chorus::sfu::bwe::test {

using namespace std::chrono_literals;

struct LinkConfig {
  double capacity_bps = 1'000'000;
  std::chrono::milliseconds one_way_delay{25};     // base RTT 50 ms
  std::chrono::milliseconds max_queue_delay{400};  // drop-tail beyond this much queue
  double random_loss = 0;                          // dropped before the queue, not congestion
  std::uint32_t seed = 1;
};

// A FIFO bottleneck served at `capacity_bps`.
class SimulatedLink {
 public:
  explicit SimulatedLink(LinkConfig config) : config_(config), random_(config.seed) {}

  // The arrival time at the receiver, or nullopt when the packet is lost or tail-dropped.
  std::optional<Timestamp> send(Timestamp now, std::size_t size) {
    if (config_.random_loss > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < config_.random_loss) {
      ++random_drops;
      return std::nullopt;
    }
    const auto wait = queue_delay(now);
    if (wait > config_.max_queue_delay) {
      ++tail_drops;
      return std::nullopt;
    }
    const auto start = std::max(now, busy_until_);
    busy_until_ = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(static_cast<double>(size) * 8 / config_.capacity_bps));
    return busy_until_ + config_.one_way_delay;
  }
  [[nodiscard]] Clock::duration queue_delay(Timestamp now) const {
    return busy_until_ > now ? busy_until_ - now : Clock::duration::zero();
  }
  void set_capacity(double bps) { config_.capacity_bps = bps; }
  [[nodiscard]] const LinkConfig& config() const { return config_; }

  std::uint64_t random_drops = 0;
  std::uint64_t tail_drops = 0;

 private:
  LinkConfig config_;
  std::mt19937 random_;
  Timestamp busy_until_{};
};

struct Sample {
  Timestamp at;
  std::uint64_t estimate_bps;
  Clock::duration queue_delay;
};

class SimulatedCall {
 public:
  static constexpr std::size_t kMediaPacketSize = 1200;
  static constexpr std::size_t kPaddingPacketSize = 600;
  static constexpr auto kStep = 1ms;
  static constexpr auto kFeedbackInterval = 100ms;
  static constexpr auto kSampleInterval = 100ms;

  SimulatedCall(LinkConfig link, BandwidthEstimatorConfig config, std::uint64_t wanted_bps)
      : link_(link), estimator_(config), wanted_bps_(wanted_bps) {
    estimator_.set_wanted_bitrate(wanted_bps);
  }

  void run_for(Clock::duration duration) {
    const auto end = now_ + duration;
    while (now_ < end) step();
  }

  BandwidthEstimator& estimator() { return estimator_; }
  SimulatedLink& link() { return link_; }
  media::rtcp::TransportCcRecorder& recorder() { return recorder_; }
  [[nodiscard]] Timestamp now() const { return now_; }
  [[nodiscard]] const std::vector<Sample>& samples() const { return samples_; }
  [[nodiscard]] std::uint64_t probe_clusters() const { return probe_clusters_; }

  // The first time the estimate reached `bps`, as time since the start.
  [[nodiscard]] std::optional<Clock::duration> time_to_reach(std::uint64_t bps) const {
    for (const auto& sample : samples_) {
      if (sample.estimate_bps >= bps) return sample.at - kStart;
    }
    return std::nullopt;
  }
  // Samples taken in [from, to) since the start.
  [[nodiscard]] std::vector<Sample> between(Clock::duration from, Clock::duration to) const {
    std::vector<Sample> out;
    for (const auto& sample : samples_) {
      if (sample.at - kStart >= from && sample.at - kStart < to) out.push_back(sample);
    }
    return out;
  }

  static constexpr Timestamp kStart{std::chrono::hours(1)};

 private:
  struct Probe {
    ProbeCluster cluster;
    std::size_t bytes_sent = 0;
    double budget_bits = 0;
  };

  void send(std::size_t size, std::optional<std::uint32_t> cluster) {
    const auto sequence = estimator_.on_packet_sent(now_, size, cluster);
    if (const auto arrival = link_.send(now_, size)) arrivals_.push_back({*arrival, sequence});
    if (probe_ && cluster) probe_->bytes_sent += size;
  }

  void send_media() {
    const double rate = static_cast<double>(std::min(estimator_.estimate_bps(), wanted_bps_));
    media_budget_bits_ =
        std::min(media_budget_bits_ + rate * std::chrono::duration<double>(kStep).count(), 2.0 * kMediaPacketSize * 8);
    while (media_budget_bits_ >= kMediaPacketSize * 8) {
      media_budget_bits_ -= kMediaPacketSize * 8;
      // During a probe the pacer counts media towards the cluster, as libwebrtc's does.
      send(kMediaPacketSize, probe_ ? std::optional(probe_->cluster.id) : std::nullopt);
      if (probe_) probe_->budget_bits -= kMediaPacketSize * 8;
    }
  }

  void send_probe() {
    if (!probe_) {
      if (auto cluster = estimator_.next_probe(now_)) {
        probe_ = Probe{*cluster};
        ++probe_clusters_;
      }
    }
    if (!probe_) return;
    probe_->budget_bits +=
        static_cast<double>(probe_->cluster.bitrate_bps) * std::chrono::duration<double>(kStep).count();
    while (probe_->budget_bits >= kPaddingPacketSize * 8 && probe_->bytes_sent < probe_->cluster.bytes) {
      probe_->budget_bits -= kPaddingPacketSize * 8;
      send(kPaddingPacketSize, probe_->cluster.id);
    }
    if (probe_->bytes_sent >= probe_->cluster.bytes) probe_.reset();
  }

  void receive() {
    while (!arrivals_.empty() && arrivals_.front().first <= now_) {
      recorder_.on_packet(arrivals_.front().second, arrivals_.front().first);
      arrivals_.pop_front();
    }
    if (now_ >= next_feedback_) {
      next_feedback_ = now_ + kFeedbackInterval;
      std::vector<std::uint8_t> datagram(1200);
      while (const auto size = recorder_.build_feedback(now_, 1, 2, datagram)) {
        feedback_.push_back({now_ + link_.config().one_way_delay, {datagram.begin(), datagram.begin() + size}});
      }
    }
  }

  void deliver_feedback() {
    while (!feedback_.empty() && feedback_.front().first <= now_) {
      const auto compound = media::rtcp::CompoundView::parse(feedback_.front().second);
      if (compound) {
        for (const auto header : *compound) {
          if (const auto feedback = media::rtcp::TransportCc::parse(header)) {
            estimator_.on_transport_feedback(*feedback, now_);
          }
        }
      }
      feedback_.pop_front();
    }
  }

  void step() {
    send_probe();
    send_media();
    receive();
    deliver_feedback();
    if (now_ >= next_sample_) {
      next_sample_ = now_ + kSampleInterval;
      samples_.push_back({now_, estimator_.estimate_bps(), link_.queue_delay(now_)});
    }
    now_ += kStep;
  }

  SimulatedLink link_;
  BandwidthEstimator estimator_;
  media::rtcp::TransportCcRecorder recorder_;
  std::uint64_t wanted_bps_;
  Timestamp now_ = kStart;
  Timestamp next_feedback_ = kStart;
  Timestamp next_sample_ = kStart;
  double media_budget_bits_ = 0;
  std::optional<Probe> probe_;
  std::uint64_t probe_clusters_ = 0;
  std::deque<std::pair<Timestamp, std::uint16_t>> arrivals_;
  std::deque<std::pair<Timestamp, std::vector<std::uint8_t>>> feedback_;
  std::vector<Sample> samples_;
};

}  // namespace chorus::sfu::bwe::test
