// AcknowledgedBitrate: the throughput the receiver confirmed — bytes reported received over
// the span of their arrival times on the receiver's clock, within a sliding window.
//
// It is what the link really carried, so the delay-based controller decreases to a fraction
// of it (draft-ietf-rmcat-gcc-02 §5.5) and caps increases by it. Arrival times rather than our
// feedback-processing times make it independent of how feedback was batched. The rate over
// packets p0..pn is (bytes of p1..pn) / (arrival_n − arrival_0): p0's bytes arrived before the
// span starts.
//
// Storage is a fixed ring of the last `capacity` packets (no allocation after construction);
// packets older than `window` before the newest arrival drop out. Fewer than 2 packets, or a span
// shorter than kMinSpan, gives no estimate rather than a wild one.
//
// Threading: a plain value; one per estimator, used from the estimator's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

class AcknowledgedBitrate {
 public:
  static constexpr std::chrono::milliseconds kDefaultWindow{350};
  static constexpr std::chrono::milliseconds kMinSpan{50};
  static constexpr std::size_t kDefaultCapacity = 2048;

  // Control path: throws std::invalid_argument for a zero capacity or a window below kMinSpan.
  explicit AcknowledgedBitrate(std::chrono::milliseconds window = kDefaultWindow,
                               std::size_t capacity = kDefaultCapacity);

  // The received packets of one feedback (lost ones are skipped).
  void on_packets(std::span<const PacketResult> packets) noexcept;
  // Bits per second, or nullopt while there is too little to measure.
  [[nodiscard]] std::optional<double> bitrate_bps() const noexcept;

 private:
  struct Sample {
    RemoteTime arrival{0};
    std::size_t size = 0;
  };
  void add(RemoteTime arrival, std::size_t size) noexcept;
  void drop_oldest() noexcept;

  std::chrono::microseconds window_;
  std::vector<Sample> ring_;  // sized once
  std::size_t head_ = 0;      // oldest sample
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;  // sum over the samples held
  std::optional<RemoteTime> newest_;
};

}  // namespace chorus::sfu::bwe
