// Receiver-side RTCP statistics (RFC 3550 Appendix A.3, A.8 and §6.4.1) and NTP time helpers.
//
// JitterEstimator and LossTracker keep per-source state; each belongs to the media worker that
// receives the source and is used from that thread only. The free functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace chorus::media::rtcp {

// A 64-bit NTP timestamp (RFC 3550 §4): seconds since 1900-01-01 and a 32-bit binary fraction.
struct NtpTime {
  std::uint32_t seconds = 0;
  std::uint32_t fraction = 0;

  bool operator==(const NtpTime&) const = default;
};

// Wall-clock time as NTP; the seconds wrap in 2036 as the format does.
NtpTime to_ntp(std::chrono::system_clock::time_point time);

// RFC 3550 §6.4.1: the middle 32 bits of an NTP timestamp, as carried in LSR (16.16 fixed point).
constexpr std::uint32_t ntp_middle32(NtpTime time) {
  return (time.seconds << 16) | (time.fraction >> 16);
}

// A duration in the 1/65536 s units of DLSR, saturating at 0xFFFFFFFF; negative durations give 0.
std::uint32_t to_ntp_short(std::chrono::nanoseconds duration);
std::chrono::microseconds from_ntp_short(std::uint32_t units);

// RFC 3550 §6.4.1: RTT = A - LSR - DLSR, all as middle-32 NTP values, where A is the arrival time
// of the report block. nullopt when LSR is 0 (no SR received yet); clock skew that would make
// the result negative gives zero.
std::optional<std::chrono::microseconds> round_trip_time(std::uint32_t arrival_middle32, std::uint32_t last_sr,
                                                         std::uint32_t delay_since_last_sr);

// RFC 3550 A.8: interarrival jitter J, the smoothed mean deviation of the transit time
// difference D, in RTP timestamp units: J += (|D| - J) / 16.
class JitterEstimator {
 public:
  // `arrival` is the arrival time converted to the stream's RTP clock; both wrap modulo 2^32.
  void update(std::uint32_t arrival, std::uint32_t rtp_timestamp);
  // The value for a report block's jitter field.
  [[nodiscard]] std::uint32_t jitter() const { return scaled_jitter_ >> 4; }

 private:
  bool has_transit_ = false;
  std::uint32_t transit_ = 0;
  // A.8's integer form keeps J scaled by 16 so the 1/16 gain loses no precision.
  std::uint32_t scaled_jitter_ = 0;
};

struct LossReport {
  std::uint8_t fraction_lost = 0;    // lost / expected in this interval, * 256
  std::int32_t cumulative_lost = 0;  // clamped to the 24-bit signed field; negative with duplicates

  bool operator==(const LossReport&) const = default;
};

// RFC 3550 A.3: lost packets from expected vs received, overall and since the previous report.
class LossTracker {
 public:
  // `base_sequence` is the extended sequence number of the first packet of the source.
  explicit LossTracker(std::uint32_t base_sequence) : base_(base_sequence) {}

  // Called once per report: `extended_highest_sequence` and `received` (all packets received,
  // duplicates included) are running totals. Starts the next interval.
  LossReport report(std::uint32_t extended_highest_sequence, std::uint32_t received);

 private:
  std::uint32_t base_;
  std::int64_t expected_prior_ = 0;
  std::int64_t received_prior_ = 0;
};

}  // namespace chorus::media::rtcp
