#include "media/rtcp/stream_statistics.hpp"

#include <algorithm>

namespace chorus::media::rtcp {

namespace {

// `elapsed` in ticks of a `clock_rate` Hz RTP clock, modulo 2^32 like RTP timestamps. Whole
// seconds and the remainder are scaled apart so days of elapsed time cannot overflow.
std::uint32_t to_rtp_units(std::chrono::nanoseconds elapsed, std::uint32_t clock_rate) {
  const auto whole = std::chrono::floor<std::chrono::seconds>(elapsed);
  const auto nanos = static_cast<std::uint64_t>((elapsed - whole).count());  // 0 .. 999'999'999
  const auto seconds = static_cast<std::uint64_t>(whole.count());            // mod 2^64 when negative
  return static_cast<std::uint32_t>(seconds * clock_rate + nanos * clock_rate / 1'000'000'000);
}

}  // namespace

// ---- ReceiveStatistics

ReceiveStatistics::PacketResult ReceiveStatistics::on_packet(std::uint16_t sequence, std::uint32_t rtp_timestamp,
                                                             std::size_t payload_bytes, SteadyTime arrival,
                                                             std::uint32_t clock_rate) {
  if (clock_rate == 0) return PacketResult::kDropped;
  const auto result = update_sequence(sequence);
  if (!result) return PacketResult::kDropped;
  ++packets_;
  ++received_;
  bytes_ += payload_bytes;
  received_since_report_ = true;
  if (*result == PacketResult::kDuplicate) {
    // A retransmitted copy arrives late with its original timestamp: it says nothing about the
    // network's jitter, so A.8 is fed only first copies.
    ++duplicates_;
    return PacketResult::kDuplicate;
  }
  if (!first_arrival_) first_arrival_ = arrival;
  if (clock_rate != clock_rate_) {
    // A payload type with another clock: transit times in the old units are not comparable.
    if (clock_rate_ != 0) jitter_ = JitterEstimator{};
    clock_rate_ = clock_rate;
  }
  jitter_.update(arrival_in_rtp_units(arrival), rtp_timestamp);
  return PacketResult::kAccepted;
}

std::optional<ReceiveStatistics::PacketResult> ReceiveStatistics::update_sequence(std::uint16_t sequence) {
  if (!loss_) {
    start_sequence(unwrapper_.unwrap(sequence));
    return PacketResult::kAccepted;
  }
  const std::int64_t extended = unwrapper_.peek(sequence);
  const std::int64_t delta = extended - max_extended_;
  if (delta > 0 && delta < kMaxDropout) {
    // A.1: in order, with a permissible gap.
    (void)unwrapper_.unwrap(sequence);
    const auto shift = static_cast<std::size_t>(delta);
    for (std::size_t word = seen_.size(); word-- > 0;) {
      // seen_ as one 128-bit little-endian integer, shifted left by `shift` bits.
      std::uint64_t value = 0;
      const std::size_t whole = shift / 64;
      const std::size_t bits = shift % 64;
      if (word >= whole) {
        value = seen_[word - whole] << bits;
        if (bits != 0 && word > whole) value |= seen_[word - whole - 1] >> (64 - bits);
      }
      seen_[word] = value;
    }
    max_extended_ = extended;
    mark_seen(extended);
    bad_sequence_.reset();
    return PacketResult::kAccepted;
  }
  if (delta <= 0 && delta >= -kMaxMisorder) {
    // A.1: a duplicate or a reordered packet; the highest sequence stays.
    (void)unwrapper_.unwrap(sequence);
    if (seen(extended)) return PacketResult::kDuplicate;
    mark_seen(extended);
    return PacketResult::kAccepted;
  }
  // A.1: a very large jump. Trusted only when the next packet follows it: the sender restarted.
  if (bad_sequence_ && *bad_sequence_ == sequence) {
    unwrapper_.reset();
    start_sequence(unwrapper_.unwrap(sequence));
    return PacketResult::kAccepted;
  }
  bad_sequence_ = static_cast<std::uint16_t>(sequence + 1);
  return std::nullopt;
}

void ReceiveStatistics::start_sequence(std::int64_t extended) {
  // A.1 init_seq: base_seq is this packet, and the loss counts start again from it.
  base_extended_ = extended;
  max_extended_ = extended;
  received_ = 0;
  loss_.emplace(static_cast<std::uint32_t>(extended));
  seen_ = {};
  mark_seen(extended);
  bad_sequence_.reset();
}

bool ReceiveStatistics::seen(std::int64_t extended) const {
  const std::int64_t offset = max_extended_ - extended;
  if (offset < 0 || offset >= kDuplicateWindow) return false;
  const auto bit = static_cast<std::size_t>(offset);
  return ((seen_[bit / 64] >> (bit % 64)) & 1U) != 0;
}

void ReceiveStatistics::mark_seen(std::int64_t extended) {
  const std::int64_t offset = max_extended_ - extended;
  if (offset < 0 || offset >= kDuplicateWindow) return;
  const auto bit = static_cast<std::size_t>(offset);
  seen_[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

std::uint32_t ReceiveStatistics::arrival_in_rtp_units(SteadyTime arrival) const {
  return to_rtp_units(arrival - *first_arrival_, clock_rate_);
}

void ReceiveStatistics::on_sender_report(std::uint32_t ntp_middle32, SteadyTime arrival) {
  last_sr_ = ntp_middle32;
  last_sr_arrival_ = arrival;
}

ReportBlock ReceiveStatistics::report_block(SteadyTime now) {
  ReportBlock block;
  block.source_ssrc = ssrc_;
  if (loss_) {
    const LossReport loss = loss_->report(static_cast<std::uint32_t>(max_extended_), received_);
    block.fraction_lost = loss.fraction_lost;
    block.cumulative_lost = loss.cumulative_lost;
    last_fraction_lost_ = loss.fraction_lost;
  }
  block.extended_highest_sequence = extended_highest_sequence();
  block.jitter = jitter_.jitter();
  // RFC 3550 §6.4.1: LSR and DLSR stay zero until an SR has been received from the source.
  if (last_sr_) {
    block.last_sr = *last_sr_;
    block.delay_since_last_sr = to_ntp_short(now - last_sr_arrival_);
  }
  received_since_report_ = false;
  return block;
}

ReceiveSnapshot ReceiveStatistics::snapshot() const {
  ReceiveSnapshot snapshot;
  snapshot.packets = packets_;
  snapshot.bytes = bytes_;
  snapshot.duplicates = duplicates_;
  if (loss_) snapshot.cumulative_lost = (max_extended_ - base_extended_ + 1) - std::int64_t{received_};
  snapshot.fraction_lost = last_fraction_lost_ / 256.0;
  if (clock_rate_ != 0) snapshot.jitter_ms = jitter_.jitter() * 1000.0 / clock_rate_;
  snapshot.last_rtt = last_rtt_;
  return snapshot;
}

// ---- SendStatistics

void SendStatistics::on_packet_sent(std::uint32_t rtp_timestamp, std::size_t payload_bytes, SteadyTime send_time) {
  ++packets_;
  bytes_ += payload_bytes;
  last_rtp_timestamp_ = rtp_timestamp;
  last_send_time_ = send_time;
}

std::optional<std::uint32_t> SendStatistics::rtp_timestamp_at(SteadyTime now) const {
  if (!last_rtp_timestamp_) return std::nullopt;
  return *last_rtp_timestamp_ + to_rtp_units(now - last_send_time_, clock_rate_);
}

std::optional<SenderReport> SendStatistics::sender_report(SteadyTime now, WallTime wall) {
  const auto rtp_timestamp = rtp_timestamp_at(now);
  if (!rtp_timestamp) return std::nullopt;
  const NtpTime ntp = to_ntp(wall);
  SenderReport report;
  report.sender_ssrc = ssrc_;
  report.ntp_seconds = ntp.seconds;
  report.ntp_fraction = ntp.fraction;
  report.rtp_timestamp = *rtp_timestamp;
  report.packet_count = packet_count();
  report.octet_count = octet_count();
  sent_reports_[sent_report_count_ % kSenderReportHistory] = SentReport{ntp_middle32(ntp), now};
  ++sent_report_count_;
  return report;
}

std::optional<std::chrono::microseconds> SendStatistics::on_report_block(const ReportBlock& block, SteadyTime arrival) {
  if (block.source_ssrc != ssrc_) return std::nullopt;
  last_report_block_ = block;
  if (block.last_sr == 0) return std::nullopt;
  const std::size_t held = std::min(sent_report_count_, kSenderReportHistory);
  for (std::size_t age = 0; age < held; ++age) {
    // Newest first: the LSR normally names the SR we sent last.
    const SentReport& sent = sent_reports_[(sent_report_count_ - 1 - age) % kSenderReportHistory];
    if (sent.ntp_middle32 != block.last_sr) continue;
    // RFC 3550 §6.4.1: A is the arrival in the same 16.16 NTP units as LSR.
    const std::uint32_t arrival_middle32 = sent.ntp_middle32 + to_ntp_short(arrival - sent.built);
    const auto rtt = round_trip_time(arrival_middle32, block.last_sr, block.delay_since_last_sr);
    if (rtt) last_rtt_ = rtt;
    return rtt;
  }
  return std::nullopt;
}

void SendStatistics::on_report_sent() {
  packets_two_reports_ago_ = packets_last_report_;
  packets_last_report_ = packets_;
}

}  // namespace chorus::media::rtcp
