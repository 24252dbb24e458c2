// Shared vocabulary of the send-side bandwidth estimator (sfu/bwe/): the time types, what one
// packet's feedback says, and the delay detector's verdict.
//
// Two clocks meet here. Our own (send times, feedback processing) is the caller's steady clock,
// passed in. The receiver's (arrival times) is only known up to an unknown offset: transport-cc
// carries it as a 24-bit reference time plus deltas (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1), so arrivals are kept as a duration on the receiver's own time line and
// only differences between them mean anything.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace chorus::sfu::bwe {

using Clock = std::chrono::steady_clock;
using Timestamp = Clock::time_point;
// A point on the receiver's clock, origin unknown.
using RemoteTime = std::chrono::microseconds;

// One packet we sent, as the receiver's feedback reports it.
struct PacketResult {
  std::int64_t sequence = 0;  // our transport-wide sequence number, unwrapped
  Timestamp send_time{};
  std::size_t size = 0;  // octets as the caller counted them when sending
  std::optional<std::uint32_t> probe_cluster;
  std::optional<RemoteTime> arrival;  // nullopt: reported not received

  [[nodiscard]] bool received() const noexcept { return arrival.has_value(); }
};

// The delay detector's hypothesis about the bottleneck queue (draft-ietf-rmcat-gcc-02 §5.4).
enum class BandwidthUsage : std::uint8_t {
  kNormal,
  kUnderusing,  // the queue drains: hold the rate and let it empty
  kOverusing,   // the queue grows: decrease
};

}  // namespace chorus::sfu::bwe
