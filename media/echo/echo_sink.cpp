#include "media/echo/echo_sink.hpp"

#include "media/transport/media_session.hpp"

namespace chorus::media {

void EchoSink::on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) {
  const std::uint32_t ssrc = session.spec().local_ssrc;
  // RFC 3550 §5.1: SSRC at octets 8..11, network order.
  buffer[8] = static_cast<std::uint8_t>(ssrc >> 24);
  buffer[9] = static_cast<std::uint8_t>(ssrc >> 16);
  buffer[10] = static_cast<std::uint8_t>(ssrc >> 8);
  buffer[11] = static_cast<std::uint8_t>(ssrc);
  session.send_rtp(buffer, packet.size());
}

}  // namespace chorus::media
