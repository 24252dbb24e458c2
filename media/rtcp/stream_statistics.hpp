// Per-stream RTCP statistics: ReceiveStatistics for a remote SSRC we receive (RFC 3550 §6.4.1
// report block fields, Appendix A.1, A.3, A.8) and SendStatistics for a local SSRC we send
// (§6.4.1 sender info, RTT from the LSR/DLSR of the report blocks that name it).
//
// Pure logic: no sockets, no clocks read. Every time is passed in, arrivals and sends as
// std::chrono::steady_clock points and the SR's NTP timestamp from the wall clock, so tests use
// fixed time points.
//
// Threading: plain values; each belongs to the media worker that owns its transport and is used
// from that thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "media/rtcp/report_block.hpp"
#include "media/rtcp/rtcp_statistics.hpp"
#include "media/rtcp/sender_report.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/rtp/sequence.hpp"

namespace chorus::media::rtcp {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// What an API or a metrics exporter shows for one received stream.
struct ReceiveSnapshot {
  std::uint64_t packets = 0;  // accepted packets, duplicates included (RFC 3550 A.3 "received")
  std::uint64_t bytes = 0;    // payload octets, as the SR octet count counts them
  std::uint64_t duplicates = 0;
  std::int64_t cumulative_lost = 0;  // expected - received; negative when duplicates outnumber losses
  double fraction_lost = 0.0;        // 0..1, over the interval ended by the last report block
  double jitter_ms = 0.0;
  std::optional<std::chrono::microseconds> last_rtt;
};

// Statistics of one remote synchronization source, from its RTP packets and its SRs.
//
// Sequence validation is RFC 3550 A.1 without the probation: the SFU only feeds packets of an
// SSRC it has already associated with a participant (signalled or latched), so the first packet
// starts the sequence instead of MIN_SEQUENTIAL in-order packets. The rest of A.1 stays: a jump
// of MAX_DROPOUT or more ahead, or of more than MAX_MISORDER behind, is dropped unless the next
// packet follows it, which restarts the sequence (the sender restarted).
class ReceiveStatistics {
 public:
  static constexpr std::int64_t kMaxDropout = 3000;  // RFC 3550 A.1 MAX_DROPOUT
  static constexpr std::int64_t kMaxMisorder = 100;  // RFC 3550 A.1 MAX_MISORDER
  // Duplicates are recognised among the last kDuplicateWindow sequence numbers below the highest.
  static constexpr std::int64_t kDuplicateWindow = 128;

  enum class PacketResult {
    kAccepted,   // counted: new, or reordered within MAX_MISORDER
    kDuplicate,  // counted as received (A.3 counts duplicates) and as a duplicate; no jitter update
    kDropped,    // a sequence jump A.1 does not trust yet (or clock_rate 0): not counted
  };

  explicit ReceiveStatistics(std::uint32_t ssrc) : ssrc_(ssrc) {}

  // One RTP packet of this source. `clock_rate` is the RTP clock of its payload type (Hz); the
  // arrival time is converted to it for the A.8 jitter.
  PacketResult on_packet(std::uint16_t sequence, std::uint32_t rtp_timestamp, std::size_t payload_bytes,
                         SteadyTime arrival, std::uint32_t clock_rate);
  PacketResult on_packet(const RtpPacket& packet, SteadyTime arrival, std::uint32_t clock_rate) {
    return on_packet(packet.sequence_number(), packet.timestamp(), packet.payload().size(), arrival, clock_rate);
  }

  // RFC 3550 §6.4.1: LSR is the middle 32 bits of the last SR's NTP timestamp; DLSR is measured
  // from its arrival.
  void on_sender_report(std::uint32_t ntp_middle32, SteadyTime arrival);
  // The RTT to this source's participant, as measured on one of our streams it reports on.
  void set_rtt(std::chrono::microseconds rtt) { last_rtt_ = rtt; }

  // The report block about this source at `now`. Ends the loss interval (A.3), so call it once
  // per report sent.
  ReportBlock report_block(SteadyTime now);
  [[nodiscard]] ReceiveSnapshot snapshot() const;

  [[nodiscard]] std::uint32_t ssrc() const { return ssrc_; }
  // RFC 3550 §6.4.1: a report carries blocks for the sources heard since the last report.
  [[nodiscard]] bool received_since_report() const { return received_since_report_; }
  [[nodiscard]] std::uint32_t extended_highest_sequence() const { return static_cast<std::uint32_t>(max_extended_); }
  [[nodiscard]] std::uint32_t jitter() const { return jitter_.jitter(); }

 private:
  void start_sequence(std::int64_t extended);
  // A.1: classifies a packet against the highest sequence, updating it; nullopt drops it.
  std::optional<PacketResult> update_sequence(std::uint16_t sequence);
  [[nodiscard]] bool seen(std::int64_t extended) const;
  void mark_seen(std::int64_t extended);
  // The arrival time in RTP clock units modulo 2^32, counted from the first arrival.
  [[nodiscard]] std::uint32_t arrival_in_rtp_units(SteadyTime arrival) const;

  std::uint32_t ssrc_;
  std::uint32_t clock_rate_ = 0;
  std::optional<SteadyTime> first_arrival_;  // the origin of the arrival clock in RTP units
  SequenceUnwrapper unwrapper_;
  std::optional<LossTracker> loss_;  // set by the first packet: its sequence is A.1's base_seq
  std::int64_t base_extended_ = 0;
  std::int64_t max_extended_ = 0;
  std::uint32_t received_ = 0;                 // A.1 received: packets since base_seq, duplicates included
  std::optional<std::uint16_t> bad_sequence_;  // A.1 bad_seq: the packet that would confirm a jump
  // Bit i set: max_extended_ - i was received (i < kDuplicateWindow).
  std::array<std::uint64_t, kDuplicateWindow / 64> seen_{};
  JitterEstimator jitter_;
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t duplicates_ = 0;
  bool received_since_report_ = false;
  std::uint8_t last_fraction_lost_ = 0;
  std::optional<std::uint32_t> last_sr_;
  SteadyTime last_sr_arrival_{};
  std::optional<std::chrono::microseconds> last_rtt_;
};

// What the remote side last reported about one of our streams, and the RTT from it.
struct SendSnapshot {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::optional<ReportBlock> last_report_block;
  std::optional<std::chrono::microseconds> last_rtt;
};

// Statistics of one local synchronization source we send.
//
// RTT: a report block's LSR echoes the middle 32 bits of an SR we sent. Each SR is remembered
// with the steady time it was built, so the arrival A of RFC 3550 §6.4.1 is LSR plus the steady
// time elapsed since that SR: a wall-clock step between the SR and the report cannot skew the
// RTT, and an LSR we never sent gives none.
class SendStatistics {
 public:
  static constexpr std::size_t kSenderReportHistory = 8;

  SendStatistics(std::uint32_t ssrc, std::uint32_t clock_rate) : ssrc_(ssrc), clock_rate_(clock_rate) {}

  void on_packet_sent(std::uint32_t rtp_timestamp, std::size_t payload_bytes, SteadyTime send_time);

  // RFC 3550 §6.4.1: the RTP timestamp of the same instant as the SR's NTP timestamp, i.e. the last
  // packet's timestamp advanced by the time since it was sent. nullopt before the first packet.
  [[nodiscard]] std::optional<std::uint32_t> rtp_timestamp_at(SteadyTime now) const;
  // The sender info of an SR built at `now` (no report blocks); remembers it for the RTT. nullopt
  // before the first packet, as an SR needs an RTP timestamp.
  std::optional<SenderReport> sender_report(SteadyTime now, WallTime wall);

  // A report block naming our SSRC, received at `arrival`: the RTT when its LSR is one of our SRs
  // (and remembered as the last RTT), else nullopt. Blocks for another SSRC are ignored.
  std::optional<std::chrono::microseconds> on_report_block(const ReportBlock& block, SteadyTime arrival);

  // RFC 3550 §6.4: a participant sends an SR if it sent RTP since the last report or the one
  // before. on_report_sent() marks the end of an interval.
  [[nodiscard]] bool sent_recently() const { return packets_ > packets_two_reports_ago_; }
  void on_report_sent();

  [[nodiscard]] std::uint32_t ssrc() const { return ssrc_; }
  [[nodiscard]] std::uint32_t clock_rate() const { return clock_rate_; }
  // §6.4.1 sender's packet count and octet count: 32-bit fields that wrap.
  [[nodiscard]] std::uint32_t packet_count() const { return static_cast<std::uint32_t>(packets_); }
  [[nodiscard]] std::uint32_t octet_count() const { return static_cast<std::uint32_t>(bytes_); }
  [[nodiscard]] std::optional<std::chrono::microseconds> last_rtt() const { return last_rtt_; }
  [[nodiscard]] SendSnapshot snapshot() const { return {packets_, bytes_, last_report_block_, last_rtt_}; }

 private:
  struct SentReport {
    std::uint32_t ntp_middle32 = 0;
    SteadyTime built{};
  };

  std::uint32_t ssrc_;
  std::uint32_t clock_rate_;
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
  std::optional<std::uint32_t> last_rtp_timestamp_;
  SteadyTime last_send_time_{};
  std::uint64_t packets_last_report_ = 0;
  std::uint64_t packets_two_reports_ago_ = 0;
  std::array<SentReport, kSenderReportHistory> sent_reports_{};
  std::size_t sent_report_count_ = 0;  // total ever built; the ring holds the last few
  std::optional<ReportBlock> last_report_block_;
  std::optional<std::chrono::microseconds> last_rtt_;
};

}  // namespace chorus::media::rtcp
