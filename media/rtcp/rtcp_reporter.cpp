#include "media/rtcp/rtcp_reporter.hpp"

#include <algorithm>
#include <stdexcept>

#include "media/rtcp/compound_builder.hpp"
#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"

namespace chorus::media::rtcp {

namespace {

// RFC 3550 A.7 constants.
constexpr double kRtcpMinTime = 5.0;  // seconds; Tmin of §6.2
constexpr double kSenderBandwidthFraction = 0.25;
constexpr double kReceiverBandwidthFraction = 1.0 - kSenderBandwidthFraction;
constexpr double kCompensation = 2.71828 - 1.5;  // e - 3/2, §6.3.1
// RFC 3550 §6.2: RTCP gets 5 % of the session bandwidth.
constexpr double kRtcpBandwidthFraction = 0.05;

SdesChunk cname_chunk(std::uint32_t ssrc, std::string_view cname) {
  return SdesChunk{ssrc, {SdesItem{SdesItemType::kCname, cname}}};
}

}  // namespace

std::chrono::microseconds rtcp_interval(const RtcpIntervalInputs& inputs, double uniform) {
  const double rtcp_min_time = inputs.initial ? kRtcpMinTime / 2 : kRtcpMinTime;
  double bandwidth = inputs.rtcp_bandwidth;
  auto n = static_cast<double>(inputs.members);
  const auto senders = static_cast<double>(inputs.senders);
  if (senders <= n * kSenderBandwidthFraction) {
    if (inputs.we_sent) {
      bandwidth *= kSenderBandwidthFraction;
      n = senders;
    } else {
      bandwidth *= kReceiverBandwidthFraction;
      n -= senders;
    }
  }
  double t = bandwidth > 0 ? inputs.avg_rtcp_size * n / bandwidth : rtcp_min_time;
  t = std::max(t, rtcp_min_time);
  t *= std::clamp(uniform, 0.0, 1.0) + 0.5;
  t /= kCompensation;
  return std::chrono::microseconds(static_cast<std::int64_t>(t * 1e6));
}

RtcpReporter::RtcpReporter(RtcpReporterConfig config) : config_(std::move(config)) {
  if (config_.cname.empty() || config_.cname.size() > 255) {
    throw std::invalid_argument("RTCP CNAME must be 1..255 octets (RFC 3550 §6.5.1)");
  }
  // A.7: avg_rtcp_size starts as the probable size of the first compound, an RR and its CNAME.
  const Sdes sdes{{cname_chunk(config_.ssrc, config_.cname)}};
  avg_rtcp_size_ = kLowerLayerOverhead + static_cast<double>(ReceiverReport{}.size() + sdes.size());
}

bool RtcpReporter::add_local_source(std::uint32_t ssrc, std::uint32_t clock_rate) {
  if (find_local(ssrc) != nullptr || locals_.size() >= kMaxLocalSources) return false;
  locals_.emplace_back(ssrc, clock_rate);
  return true;
}

bool RtcpReporter::on_rtp_sent(std::uint32_t ssrc, std::uint32_t rtp_timestamp, std::size_t payload_bytes,
                               SteadyTime send_time) {
  SendStatistics* local = find_local(ssrc);
  if (local == nullptr) {
    ++counters_.dropped_rtp;
    return false;
  }
  local->on_packet_sent(rtp_timestamp, payload_bytes, send_time);
  return true;
}

std::optional<ReceiveStatistics::PacketResult> RtcpReporter::on_rtp_received(const RtpPacket& packet,
                                                                             SteadyTime arrival,
                                                                             std::uint32_t clock_rate) {
  return on_rtp_received(packet.ssrc(), packet.sequence_number(), packet.timestamp(), packet.payload().size(), arrival,
                         clock_rate);
}

std::optional<ReceiveStatistics::PacketResult> RtcpReporter::on_rtp_received(std::uint32_t ssrc, std::uint16_t sequence,
                                                                             std::uint32_t rtp_timestamp,
                                                                             std::size_t payload_bytes,
                                                                             SteadyTime arrival,
                                                                             std::uint32_t clock_rate) {
  ReceiveStatistics* remote = find_or_add_remote(ssrc);
  if (remote == nullptr) return std::nullopt;
  const auto result = remote->on_packet(sequence, rtp_timestamp, payload_bytes, arrival, clock_rate);
  if (result == ReceiveStatistics::PacketResult::kDropped) ++counters_.dropped_rtp;
  return result;
}

bool RtcpReporter::on_rtcp(std::span<const std::uint8_t> datagram, SteadyTime arrival) {
  ++counters_.compounds_received;
  const auto compound = CompoundView::parse(datagram);
  if (!compound) {
    ++counters_.malformed_compounds;
    return false;
  }
  update_avg_rtcp_size(datagram.size());
  for (const RtcpHeader header : *compound) {
    if (!handle_packet(header, arrival)) {
      ++counters_.malformed_compounds;
      return false;
    }
  }
  return true;
}

bool RtcpReporter::handle_packet(const RtcpHeader& header, SteadyTime arrival) {
  if (header.is(PacketType::kSr)) {
    const auto report = SenderReport::parse(header);
    if (!report) return false;
    ++counters_.sender_reports_received;
    if (ReceiveStatistics* remote = find_or_add_remote(report->sender_ssrc)) {
      remote->on_sender_report(ntp_middle32(NtpTime{report->ntp_seconds, report->ntp_fraction}), arrival);
    }
    handle_report_blocks(report->sender_ssrc, report->report_blocks, arrival);
    return true;
  }
  if (header.is(PacketType::kRr)) {
    const auto report = ReceiverReport::parse(header);
    if (!report) return false;
    handle_report_blocks(report->sender_ssrc, report->report_blocks, arrival);
    return true;
  }
  if (header.is(PacketType::kBye)) {
    const auto bye = Bye::parse(header);
    if (!bye) return false;
    ++counters_.byes_received;
    // RFC 3550 §6.3.7: a source that said BYE is no longer a member.
    std::erase_if(remotes_, [&](const ReceiveStatistics& remote) {
      return std::ranges::find(bye->ssrcs, remote.ssrc()) != bye->ssrcs.end();
    });
    return true;
  }
  return true;  // SDES, APP and feedback are not statistics; other parts of the transport read them
}

void RtcpReporter::handle_report_blocks(std::uint32_t reporter, const std::vector<ReportBlock>& blocks,
                                        SteadyTime arrival) {
  for (const ReportBlock& block : blocks) {
    SendStatistics* local = find_local(block.source_ssrc);
    if (local == nullptr) continue;  // about another participant's stream
    const auto rtt = local->on_report_block(block, arrival);
    if (!rtt) continue;
    ++counters_.rtt_measurements;
    // The RTT is the network path to the reporter's participant; show it on its stream too.
    if (ReceiveStatistics* remote = find_remote(reporter)) remote->set_rtt(*rtt);
  }
}

std::chrono::microseconds RtcpReporter::next_report_delay(double uniform) const {
  RtcpIntervalInputs inputs;
  inputs.members = locals_.size() + remotes_.size() + (local_source(config_.ssrc) != nullptr ? 0 : 1);
  for (const SendStatistics& local : locals_) {
    if (local.sent_recently()) {
      ++inputs.senders;
      inputs.we_sent = true;
    }
  }
  inputs.senders += static_cast<std::size_t>(
      std::ranges::count_if(remotes_, [](const ReceiveStatistics& remote) { return remote.received_since_report(); }));
  inputs.rtcp_bandwidth = config_.session_bandwidth_bps * kRtcpBandwidthFraction / 8.0;
  inputs.avg_rtcp_size = avg_rtcp_size_;
  inputs.initial = initial_;
  return rtcp_interval(inputs, uniform);
}

std::optional<std::size_t> RtcpReporter::build_report(SteadyTime now, WallTime wall, std::span<std::uint8_t> out) {
  return write_compound(now, wall, out, nullptr);
}

std::optional<std::size_t> RtcpReporter::build_bye(SteadyTime now, WallTime wall, std::span<std::uint8_t> out,
                                                   std::string_view reason) {
  Bye bye;
  for (const SendStatistics& local : locals_) bye.ssrcs.push_back(local.ssrc());
  if (local_source(config_.ssrc) == nullptr) bye.ssrcs.push_back(config_.ssrc);
  bye.reason = reason;
  return write_compound(now, wall, out, &bye);
}

std::optional<std::size_t> RtcpReporter::write_compound(SteadyTime now, WallTime wall, std::span<std::uint8_t> out,
                                                        const Bye* bye) {
  // Work on copies: when the compound does not fit, the loss intervals and SR history stay as
  // they were and the next attempt reports the same interval.
  auto locals = locals_;
  auto remotes = remotes_;
  std::vector<ReportBlock> blocks;
  for (ReceiveStatistics& remote : remotes) {
    if (remote.received_since_report()) blocks.push_back(remote.report_block(now));
  }
  std::vector<SenderReport> sender_reports;
  for (SendStatistics& local : locals) {
    if (!local.sent_recently()) continue;
    if (auto report = local.sender_report(now, wall)) sender_reports.push_back(std::move(*report));
  }
  std::size_t next_block = 0;
  const auto take_blocks = [&] {
    const std::size_t count = std::min<std::size_t>(kMaxCount, blocks.size() - next_block);
    std::vector<ReportBlock> taken(blocks.begin() + next_block, blocks.begin() + next_block + count);
    next_block += count;
    return taken;
  };

  CompoundBuilder builder(out);
  Sdes sdes;
  // RFC 3550 §6.4: the first packet is an SR if we sent, else an RR.
  std::uint32_t lead_ssrc = config_.ssrc;
  if (sender_reports.empty()) {
    builder.add(ReceiverReport{config_.ssrc, take_blocks()});
  } else {
    lead_ssrc = sender_reports.front().sender_ssrc;
    sender_reports.front().report_blocks = take_blocks();
    builder.add(sender_reports.front());
  }
  sdes.chunks.push_back(cname_chunk(lead_ssrc, config_.cname));
  // §6.1: blocks beyond 31 go in additional RRs right after the first report.
  while (next_block < blocks.size()) builder.add(ReceiverReport{lead_ssrc, take_blocks()});
  // RFC 8108 §5.3: each further SSRC that sent reports its own sender info.
  for (std::size_t i = 1; i < sender_reports.size(); ++i) {
    builder.add(sender_reports[i]);
    sdes.chunks.push_back(cname_chunk(sender_reports[i].sender_ssrc, config_.cname));
  }
  builder.add(sdes);
  if (bye != nullptr) builder.add(*bye);  // §6.1: BYE comes last
  const auto size = builder.finish();
  if (!size) return std::nullopt;

  for (SendStatistics& local : locals) local.on_report_sent();
  locals_ = std::move(locals);
  remotes_ = std::move(remotes);
  initial_ = false;
  ++counters_.reports_built;
  update_avg_rtcp_size(*size);
  return size;
}

const ReceiveStatistics* RtcpReporter::remote_source(std::uint32_t ssrc) const {
  const auto found = std::ranges::find(remotes_, ssrc, &ReceiveStatistics::ssrc);
  return found == remotes_.end() ? nullptr : &*found;
}

const SendStatistics* RtcpReporter::local_source(std::uint32_t ssrc) const {
  const auto found = std::ranges::find(locals_, ssrc, &SendStatistics::ssrc);
  return found == locals_.end() ? nullptr : &*found;
}

ReceiveStatistics* RtcpReporter::find_remote(std::uint32_t ssrc) {
  const auto found = std::ranges::find(remotes_, ssrc, &ReceiveStatistics::ssrc);
  return found == remotes_.end() ? nullptr : &*found;
}

SendStatistics* RtcpReporter::find_local(std::uint32_t ssrc) {
  const auto found = std::ranges::find(locals_, ssrc, &SendStatistics::ssrc);
  return found == locals_.end() ? nullptr : &*found;
}

ReceiveStatistics* RtcpReporter::find_or_add_remote(std::uint32_t ssrc) {
  if (ReceiveStatistics* remote = find_remote(ssrc)) return remote;
  if (remotes_.size() >= config_.max_remote_sources) {
    ++counters_.dropped_remote_sources;
    return nullptr;
  }
  return &remotes_.emplace_back(ssrc);
}

void RtcpReporter::update_avg_rtcp_size(std::size_t compound_size) {
  const double packet_size = static_cast<double>(compound_size) + kLowerLayerOverhead;
  avg_rtcp_size_ = packet_size / 16.0 + avg_rtcp_size_ * 15.0 / 16.0;
}

}  // namespace chorus::media::rtcp
