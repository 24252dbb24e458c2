// MediaSink: where a media session delivers what it received, after every check (source, SRTP
// authentication and replay, parsing). Engines implement it: the echo test, the audio mixer, the
// SFU router. It is called on the session's media worker thread, never concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtp/rtp_packet.hpp"

namespace chorus::media {

class MediaSession;

class MediaSink {
 public:
  virtual ~MediaSink() = default;
  // The session took this sink / is about to let it go (its last call on the sink): an engine
  // that sends on its own schedule (the mixer) keeps the session only between the two.
  virtual void on_attached(MediaSession& /*session*/) {}
  virtual void on_detached(MediaSession& /*session*/) {}
  // `packet` is a view over `buffer`, which holds the decrypted packet at its start and has room
  // after it for an SRTP trailer: a sink may rewrite the packet in place and send it on with
  // MediaSession::send_rtp(buffer, packet.size()) without copying.
  virtual void on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) = 0;
  // A decrypted RTCP compound packet (already fed to the session's statistics).
  virtual void on_rtcp(MediaSession& /*session*/, std::span<const std::uint8_t> /*compound*/) {}
};

}  // namespace chorus::media
