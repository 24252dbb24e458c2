#include "media/rtcp/rtcp_statistics.hpp"

#include <algorithm>

#include "media/rtcp/report_block.hpp"

namespace chorus::media::rtcp {

namespace {
// RFC 5905 §6: seconds from the NTP era 0 epoch (1900) to the Unix epoch (1970).
constexpr std::int64_t kNtpUnixOffsetSeconds = 2'208'988'800;
}  // namespace

NtpTime to_ntp(std::chrono::system_clock::time_point time) {
  const auto since_unix = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_unix);
  const auto nanos = static_cast<std::uint64_t>((since_unix - seconds).count());
  NtpTime ntp;
  ntp.seconds = static_cast<std::uint32_t>(seconds.count() + kNtpUnixOffsetSeconds);
  ntp.fraction = static_cast<std::uint32_t>((nanos << 32) / 1'000'000'000);
  return ntp;
}

std::uint32_t to_ntp_short(std::chrono::nanoseconds duration) {
  if (duration.count() <= 0) return 0;
  const auto whole = std::chrono::floor<std::chrono::seconds>(duration);
  const auto seconds = static_cast<std::uint64_t>(whole.count());
  if (seconds > 0xFFFF) return 0xFFFFFFFF;
  const auto nanos = static_cast<std::uint64_t>((duration - whole).count());
  return static_cast<std::uint32_t>((seconds << 16) | ((nanos << 16) / 1'000'000'000));
}

std::chrono::microseconds from_ntp_short(std::uint32_t units) {
  return std::chrono::microseconds((std::uint64_t{units} * 1'000'000) >> 16);
}

std::optional<std::chrono::microseconds> round_trip_time(std::uint32_t arrival_middle32, std::uint32_t last_sr,
                                                         std::uint32_t delay_since_last_sr) {
  if (last_sr == 0) return std::nullopt;
  // Modulo 2^32 so the 18-hour wrap of the 16.16 format is harmless.
  const std::uint32_t since_sr = arrival_middle32 - last_sr;
  if (since_sr < delay_since_last_sr || since_sr > 0x80000000U) return std::chrono::microseconds(0);
  return from_ntp_short(since_sr - delay_since_last_sr);
}

void JitterEstimator::update(std::uint32_t arrival, std::uint32_t rtp_timestamp) {
  const std::uint32_t transit = arrival - rtp_timestamp;
  if (!has_transit_) {
    // The first packet has no predecessor to compare with; it only sets the transit reference.
    has_transit_ = true;
    transit_ = transit;
    return;
  }
  const auto d = static_cast<std::int32_t>(transit - transit_);
  transit_ = transit;
  const std::uint32_t magnitude = d < 0 ? 0U - static_cast<std::uint32_t>(d) : static_cast<std::uint32_t>(d);
  // A.8: jitter += d - ((jitter + 8) >> 4), with J kept scaled by 16.
  scaled_jitter_ += magnitude - ((scaled_jitter_ + 8) >> 4);
}

LossReport LossTracker::report(std::uint32_t extended_highest_sequence, std::uint32_t received) {
  const std::int64_t expected = std::int64_t{extended_highest_sequence} - base_ + 1;
  const std::int64_t lost = expected - received;
  const std::int64_t expected_interval = expected - expected_prior_;
  const std::int64_t received_interval = std::int64_t{received} - received_prior_;
  const std::int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected;
  received_prior_ = received;
  LossReport report;
  report.cumulative_lost = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(lost, ReportBlock::kMinCumulativeLost, ReportBlock::kMaxCumulativeLost));
  // A.3: no fraction when nothing was expected or duplicates outnumber the losses.
  if (expected_interval > 0 && lost_interval > 0) {
    report.fraction_lost =
        static_cast<std::uint8_t>(std::min<std::int64_t>((lost_interval << 8) / expected_interval, 255));
  }
  return report;
}

}  // namespace chorus::media::rtcp
