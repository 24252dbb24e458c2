#include "media/echo/echo_sink.hpp"

#include "media/transport/media_session.hpp"

namespace chorus::media {
namespace {

void write_u16(std::span<std::uint8_t> at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 8);
  at[1] = static_cast<std::uint8_t>(value);
}

void write_u32(std::span<std::uint8_t> at, std::uint32_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 24);
  at[1] = static_cast<std::uint8_t>(value >> 16);
  at[2] = static_cast<std::uint8_t>(value >> 8);
  at[3] = static_cast<std::uint8_t>(value);
}

}  // namespace

void EchoSink::on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) {
  const std::uint32_t remote_ssrc = packet.ssrc();
  if (!stream_) {
    stream_ = Stream{remote_ssrc, 0, 0};  // the first stream passes through unchanged
  } else if (stream_->remote_ssrc != remote_ssrc) {
    // A new stream: continue right after what we last sent (one step of sequence and timestamp).
    stream_ = Stream{remote_ssrc, static_cast<std::uint16_t>(last_sequence_ + 1 - packet.sequence_number()),
                     last_timestamp_ + 1 - packet.timestamp()};
  }
  last_sequence_ = static_cast<std::uint16_t>(packet.sequence_number() + stream_->sequence_offset);
  last_timestamp_ = packet.timestamp() + stream_->timestamp_offset;
  // RFC 3550 §5.1: sequence number at octets 2..3, timestamp 4..7, SSRC 8..11, network order.
  write_u16(buffer.subspan(2), last_sequence_);
  write_u32(buffer.subspan(4), last_timestamp_);
  write_u32(buffer.subspan(8), session.spec().local_ssrc);
  session.send_rtp(buffer, packet.size());
}

}  // namespace chorus::media
