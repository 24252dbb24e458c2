// RtcpReporter: the RTCP side of one RTP session as a participant sees it. It keeps
// SendStatistics for the local SSRCs we send and ReceiveStatistics for the remote SSRCs we
// receive, tells when to report next (RFC 3550 §6.2, §6.3, Appendix A.7), writes the compound
// report (§6.1, §6.4: SR or RR, report blocks, SDES CNAME, optionally BYE) and reads the
// compounds the peer sends (SR → LSR for our report blocks; report blocks on our SSRCs → RTT).
//
// Pure logic: the caller owns the socket and the timer, passes every time in and supplies the
// uniform random number of the interval, so tests are deterministic. Not done here: timer
// reconsideration (§6.3.3, A.7 `OnExpire`), BYE reconsideration (§6.3.7), member timeouts
// (§6.3.5) and SSRC collision detection (§8.2); `members` counts the sources this reporter tracks.
//
// Threading: a plain value owned by the media worker of its transport; use it from that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/rtcp/bye.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/stream_statistics.hpp"

namespace chorus::media::rtcp {

// RFC 3550 A.7 rtcp_interval() inputs.
struct RtcpIntervalInputs {
  std::size_t members = 1;
  std::size_t senders = 0;
  double rtcp_bandwidth = 0.0;  // octets per second: the 5 % share of the session bandwidth
  bool we_sent = false;
  double avg_rtcp_size = 0.0;  // octets, lower-layer headers included (§6.2)
  bool initial = true;         // no report sent yet
};

// RFC 3550 A.7: the randomised interval until the next report. `uniform` is a draw from [0, 1]
// (drand48() in A.7), clamped to it. With the floor Tmin = 5 s (2.5 s before the first report,
// §6.2) it returns, in seconds:
//   t = max(avg_rtcp_size * n / bw, Tmin) * (uniform + 0.5) / (e - 3/2)
// where senders get 25 % of the RTCP bandwidth (n = senders) and receivers 75 % (n = members -
// senders) when senders are at most a quarter of the members, else n = members and bw is whole.
// The e - 3/2 = 1.21828 divisor compensates timer reconsideration's bias towards short
// intervals (§6.3.1), so the randomised bounds are 0.5 Tmin / 1.21828 and 1.5 Tmin / 1.21828.
std::chrono::microseconds rtcp_interval(const RtcpIntervalInputs& inputs, double uniform);

struct RtcpReporterConfig {
  std::uint32_t ssrc = 0;                        // reports (RR) and SDES come from it when no local stream has sent
  std::string cname;                             // RFC 3550 §6.5.1, 1..255 octets, the same for all our SSRCs
  std::uint32_t session_bandwidth_bps = 64'000;  // §6.2 session bandwidth, e.g. the codec rate
  std::size_t max_remote_sources = 32;           // beyond it new remote SSRCs are dropped and counted
};

struct RtcpReporterCounters {
  std::uint64_t reports_built = 0;
  std::uint64_t compounds_received = 0;
  std::uint64_t malformed_compounds = 0;  // not a valid compound, or an SR/RR/BYE in it is bad
  std::uint64_t sender_reports_received = 0;
  std::uint64_t rtt_measurements = 0;        // report blocks on our SSRCs that gave an RTT
  std::uint64_t dropped_remote_sources = 0;  // packets/SRs of new SSRCs refused by the cap
  std::uint64_t dropped_rtp = 0;             // A.1 sequence jumps, unknown local SSRCs, clock rate 0
  std::uint64_t byes_received = 0;
};

class RtcpReporter {
 public:
  // RFC 3550 §12: SC in SDES and BYE is 5 bits; our SSRCs plus the reporter's own must fit 31.
  static constexpr std::size_t kMaxLocalSources = 30;
  // RFC 3550 §6.2: the average RTCP size includes lower-layer headers; IPv4 (20) + UDP (8).
  static constexpr double kLowerLayerOverhead = 28.0;

  // Control path: throws std::invalid_argument for a CNAME that is empty or over 255 octets.
  explicit RtcpReporter(RtcpReporterConfig config);

  // A local SSRC we will send; false when it is already known or kMaxLocalSources are.
  bool add_local_source(std::uint32_t ssrc, std::uint32_t clock_rate);
  // false when `ssrc` was never added (and counted in dropped_rtp).
  bool on_rtp_sent(std::uint32_t ssrc, std::uint32_t rtp_timestamp, std::size_t payload_bytes, SteadyTime send_time);

  // A received RTP packet; nullopt when its SSRC is new and the source cap is reached.
  std::optional<ReceiveStatistics::PacketResult> on_rtp_received(const RtpPacket& packet, SteadyTime arrival,
                                                                 std::uint32_t clock_rate);
  std::optional<ReceiveStatistics::PacketResult> on_rtp_received(std::uint32_t ssrc, std::uint16_t sequence,
                                                                 std::uint32_t rtp_timestamp, std::size_t payload_bytes,
                                                                 SteadyTime arrival, std::uint32_t clock_rate);

  // A received RTCP datagram: SRs set the LSR of their source, report blocks on our SSRCs give
  // the RTT, BYE forgets the sources it names. false (and counted) when the compound or one of
  // its SR, RR or BYE packets is malformed; packets before the bad one have been applied.
  bool on_rtcp(std::span<const std::uint8_t> datagram, SteadyTime arrival);

  // RFC 3550 §6.3 / A.7 for the current members and senders; `uniform` as for rtcp_interval().
  [[nodiscard]] std::chrono::microseconds next_report_delay(double uniform) const;

  // One compound (§6.1, §6.4): an SR per local SSRC that sent RTP since the last report or the
  // one before, the first carrying up to 31 report blocks, or else an RR from the reporter's SSRC;
  // additional RRs with any further blocks; then SDES CNAME for every SSRC that reported.
  // nullopt when it does not fit `out`; the statistics are then unchanged.
  std::optional<std::size_t> build_report(SteadyTime now, WallTime wall, std::span<std::uint8_t> out);
  // The same compound followed by a BYE (§6.6) for all our SSRCs.
  std::optional<std::size_t> build_bye(SteadyTime now, WallTime wall, std::span<std::uint8_t> out,
                                       std::string_view reason = {});

  [[nodiscard]] const ReceiveStatistics* remote_source(std::uint32_t ssrc) const;
  [[nodiscard]] const SendStatistics* local_source(std::uint32_t ssrc) const;
  [[nodiscard]] std::size_t remote_source_count() const { return remotes_.size(); }
  [[nodiscard]] double avg_rtcp_size() const { return avg_rtcp_size_; }
  [[nodiscard]] const RtcpReporterCounters& counters() const { return counters_; }

 private:
  std::optional<std::size_t> write_compound(SteadyTime now, WallTime wall, std::span<std::uint8_t> out, const Bye* bye);
  bool handle_packet(const RtcpHeader& header, SteadyTime arrival);
  void handle_report_blocks(std::uint32_t reporter, const std::vector<ReportBlock>& blocks, SteadyTime arrival);
  ReceiveStatistics* find_remote(std::uint32_t ssrc);
  ReceiveStatistics* find_or_add_remote(std::uint32_t ssrc);
  SendStatistics* find_local(std::uint32_t ssrc);
  // A.7: avg_rtcp_size = 1/16 * packet_size + 15/16 * avg_rtcp_size, for packets sent and received.
  void update_avg_rtcp_size(std::size_t compound_size);

  RtcpReporterConfig config_;
  // Flat vectors: a handful of streams per transport, searched linearly, in a stable order.
  std::vector<SendStatistics> locals_;
  std::vector<ReceiveStatistics> remotes_;
  double avg_rtcp_size_;
  bool initial_ = true;
  RtcpReporterCounters counters_;
};

}  // namespace chorus::media::rtcp
