// InterArrival: groups packets into send-time bursts and measures how much longer (or shorter)
// one group took to arrive than to send (draft-ietf-rmcat-gcc-02 §5.2, "Arrival-time model").
//
// A video frame leaves as a burst of packets, and the bottleneck spreads it out; comparing single
// packets would mostly measure that spreading. So packets sent within kBurstTime (5 ms) of a
// group's first packet form one group, and the delay variation is taken between consecutive
// groups' last packets: d(i) = (arrival_i − arrival_i−1) − (send_i − send_i−1).
//
// §5.2 also folds into the current group a packet that arrives within kBurstTime of the previous
// one with d < 0: a queue draining delivers packets sent far apart back to back, and counting them
// as separate groups would read as a sharp underuse. Such a burst is capped at kMaxBurstDuration.
//
// A packet sent before the current group's first (reordered in the feedback) is ignored; a group
// that arrives before the previous one, or a gap between send and arrival deltas of more than
// kMaxDeltaMismatch (a receiver clock jump, a long pause), restarts the grouping.
//
// Threading: a plain value; one per estimator, used from the estimator's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

struct GroupDelta {
  std::chrono::microseconds send_delta{0};     // between the two groups' last send times
  std::chrono::microseconds arrival_delta{0};  // between their last arrivals (receiver clock)
  std::int64_t size_delta = 0;                 // octets of the newer group minus the older
  RemoteTime arrival{0};                       // the newer group's last arrival
};

struct InterArrivalCounters {
  std::uint64_t reordered_packets = 0;
  std::uint64_t resets = 0;
};

class InterArrival {
 public:
  static constexpr std::chrono::milliseconds kBurstTime{5};
  static constexpr std::chrono::milliseconds kMaxBurstDuration{100};
  static constexpr std::chrono::seconds kMaxDeltaMismatch{3};

  // Feeds one received packet, in send order. Returns the delta between the two groups before
  // it when this packet opens a new group.
  std::optional<GroupDelta> on_packet(Timestamp send_time, RemoteTime arrival, std::size_t size) noexcept;

  [[nodiscard]] const InterArrivalCounters& counters() const noexcept { return counters_; }

 private:
  struct Group {
    bool empty = true;
    Timestamp first_send{};
    Timestamp last_send{};
    RemoteTime first_arrival{0};
    RemoteTime last_arrival{0};
    std::size_t size = 0;
  };

  [[nodiscard]] bool belongs_to_current(Timestamp send_time, RemoteTime arrival) const noexcept;
  static Group start_group(Timestamp send_time, RemoteTime arrival, std::size_t size) noexcept;

  Group current_;
  Group previous_;
  InterArrivalCounters counters_;
};

}  // namespace chorus::sfu::bwe
