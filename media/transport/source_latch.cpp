#include "media/transport/source_latch.hpp"

namespace chorus::media {
namespace {

bool same_ip(const TransportAddress& a, const TransportAddress& b) {
  return a.family == b.family && a.ip == b.ip;
}

std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) | (std::uint32_t{bytes[at + 2]} << 8) |
         std::uint32_t{bytes[at + 3]};
}

}  // namespace

std::optional<PacketIdentity> identify_packet(std::span<const std::uint8_t> datagram, bool rtp) {
  PacketIdentity packet;
  packet.rtp = rtp;
  if (rtp) {
    if (datagram.size() < 12) return std::nullopt;  // RFC 3550 §5.1: the fixed header
    packet.payload_type = static_cast<std::uint8_t>(datagram[1] & 0x7f);
    packet.sequence = static_cast<std::uint16_t>((datagram[2] << 8) | datagram[3]);
    packet.ssrc = read_u32(datagram, 8);
    return packet;
  }
  if (datagram.size() < 8) return std::nullopt;  // RFC 3550 §6.4.1: header and sender SSRC
  packet.ssrc = read_u32(datagram, 4);
  return packet;
}

SourceLatch::SourceLatch(LatchConfig config, TimePoint start) : config_(config), learning_since_(start) {
  if (config_.proven_by_signaling && config_.signalled) {
    destination_ = config_.signalled;
    proven_ = true;
  }
}

bool SourceLatch::learning(const TransportAddress& source, TimePoint now) const {
  if (latched_) return false;
  // The signaling proved this IP: whatever port it sends from is it, however late it starts.
  if (config_.proven_by_signaling && config_.signalled) return same_ip(source, *config_.signalled);
  return now - learning_since_ < config_.window;
}

bool SourceLatch::may_latch_with(const PacketIdentity& packet) const {
  if (config_.rtcp_component) return !packet.rtp;
  // RFC 5761: a receive-only peer's only packets on a muxed port are its RTCP receiver reports.
  if (!packet.rtp) return config_.rtcp_muxed;
  return (config_.payload_types.none() || config_.payload_types.test(packet.payload_type));
}

bool SourceLatch::continues_stream(const PacketIdentity& packet, TimePoint now) const {
  if (!latched_ || !ssrc_ || packet.ssrc != *ssrc_) return false;
  if (now - last_heard_ < kLatchSilence) return false;  // the latched source still speaks: a copy
  // RTCP carries no sequence number: the RTCP component moves for the known sender SSRC alone.
  if (!packet.rtp) return config_.rtcp_component;
  if (config_.rtcp_component) return false;
  const auto gap = static_cast<std::uint16_t>(packet.sequence - last_sequence_);
  return gap >= 1 && gap <= kMaxLatchSequenceGap;
}

LatchVerdict SourceLatch::admit(const TransportAddress& source, const PacketIdentity& packet, TimePoint now) const {
  if (proven_ && destination_ && *destination_ == source) return LatchVerdict::kAccept;
  if (learning(source, now) && may_latch_with(packet)) return LatchVerdict::kAcceptIfAuthentic;
  if (continues_stream(packet, now)) return LatchVerdict::kAcceptIfAuthentic;
  return LatchVerdict::kForeign;
}

bool SourceLatch::on_authenticated(const TransportAddress& source, const PacketIdentity& packet, TimePoint now) {
  // RTP latches the RTP component, RTCP the RTCP one (and the RTP one when muxed).
  if (config_.rtcp_component ? packet.rtp : !packet.rtp && !config_.rtcp_muxed) return false;
  const bool from_destination = proven_ && destination_ && *destination_ == source;
  if (!from_destination && !(learning(source, now) && may_latch_with(packet)) && !continues_stream(packet, now))
    return false;
  last_heard_ = now;
  destination_ = source;
  proven_ = latched_ = true;
  // Muxed RTCP proves the source; the stream's SSRC and sequence (strict source) are RTP's.
  if (!packet.rtp && !config_.rtcp_component) return !from_destination;
  if (!ssrc_ || *ssrc_ != packet.ssrc) {
    ssrc_ = packet.ssrc;  // from the latched address: the peer's stream (a new one after a restart)
    last_sequence_ = packet.sequence;
  } else if (packet.rtp && static_cast<std::int16_t>(packet.sequence - last_sequence_) > 0) {
    last_sequence_ = packet.sequence;
  }
  return !from_destination;
}

bool SourceLatch::on_peer_proven(const TransportAddress& source) {
  if (!config_.signalled || !same_ip(*config_.signalled, source) || config_.proven_by_signaling) return false;
  config_.proven_by_signaling = true;  // and learning accepts that IP past the window, as for signaling
  if (proven_) return false;           // already latched somewhere: keep it
  destination_ = config_.signalled;
  proven_ = true;
  return true;
}

void SourceLatch::on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling, TimePoint now) {
  if (!signalled) return;  // RFC 3264 §8.4 hold (0.0.0.0) or a name: keep what was proven
  if (config_.signalled == signalled && config_.proven_by_signaling == proven_by_signaling) return;
  config_.signalled = signalled;
  config_.proven_by_signaling = proven_by_signaling;
  learning_since_ = now;
  latched_ = false;  // learn again; the old destination stays proven until something latches
  if (proven_by_signaling) {
    destination_ = signalled;
    proven_ = true;
  }
}

bool SourceLatch::admit_dtls(const TransportAddress& source) const {
  return !latched_ || (destination_ && *destination_ == source);
}

std::optional<TransportAddress> SourceLatch::destination() const {
  if (!proven_) return std::nullopt;
  return destination_;
}

}  // namespace chorus::media
