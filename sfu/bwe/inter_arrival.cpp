#include "sfu/bwe/inter_arrival.hpp"

#include <algorithm>

namespace chorus::sfu::bwe {

InterArrival::Group InterArrival::start_group(Timestamp send_time, RemoteTime arrival, std::size_t size) noexcept {
  return Group{false, send_time, send_time, arrival, arrival, size};
}

bool InterArrival::belongs_to_current(Timestamp send_time, RemoteTime arrival) const noexcept {
  if (send_time - current_.first_send <= kBurstTime) return true;
  // §5.2: a packet arriving right after the previous one although sent later than that spacing
  // is part of a burst the bottleneck released at once.
  const auto arrival_gap = arrival - current_.last_arrival;
  const auto send_gap = send_time - current_.last_send;
  return arrival_gap >= RemoteTime::zero() && arrival_gap < kBurstTime && arrival_gap - send_gap < RemoteTime::zero() &&
         arrival - current_.first_arrival < kMaxBurstDuration;
}

std::optional<GroupDelta> InterArrival::on_packet(Timestamp send_time, RemoteTime arrival, std::size_t size) noexcept {
  if (current_.empty) {
    current_ = start_group(send_time, arrival, size);
    return std::nullopt;
  }
  if (send_time < current_.first_send) {
    ++counters_.reordered_packets;
    return std::nullopt;
  }
  if (belongs_to_current(send_time, arrival)) {
    current_.last_send = std::max(current_.last_send, send_time);
    current_.last_arrival = std::max(current_.last_arrival, arrival);
    current_.size += size;
    return std::nullopt;
  }

  std::optional<GroupDelta> delta;
  if (!previous_.empty) {
    const auto send_delta =
        std::chrono::duration_cast<std::chrono::microseconds>(current_.last_send - previous_.last_send);
    const auto arrival_delta = current_.last_arrival - previous_.last_arrival;
    const auto mismatch = arrival_delta - send_delta;
    if (arrival_delta < RemoteTime::zero() || mismatch > kMaxDeltaMismatch || mismatch < -kMaxDeltaMismatch) {
      // The receiver's clock jumped or the groups crossed: nothing before this point compares.
      ++counters_.resets;
      previous_ = Group{};
      current_ = start_group(send_time, arrival, size);
      return std::nullopt;
    }
    delta = GroupDelta{send_delta, arrival_delta,
                       static_cast<std::int64_t>(current_.size) - static_cast<std::int64_t>(previous_.size),
                       current_.last_arrival};
  }
  previous_ = current_;
  current_ = start_group(send_time, arrival, size);
  return delta;
}

}  // namespace chorus::sfu::bwe
