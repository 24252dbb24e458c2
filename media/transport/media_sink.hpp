// MediaSink: where a media session delivers what it received for one of its streams (m= sections:
// one, or several sharing a BUNDLE transport), after every check (source, SRTP authentication and
// replay, parsing, the BUNDLE demultiplexer). Engines implement it: the echo test, the audio mixer,
// the SFU. It is called on the session's media worker thread, never concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtp/rtp_packet.hpp"
#include "media/transport/rtcp_feedback.hpp"

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
  // A decrypted RTCP compound packet (already fed to the session's statistics). Every sink of the
  // session sees it; the feedback in it also arrives typed through the two calls below.
  virtual void on_rtcp(MediaSession& /*session*/, std::span<const std::uint8_t> /*compound*/) {}
  // Feedback about an SSRC this sink's stream sends (RFC 4585 PLI, NACK; RFC 5104 FIR).
  virtual void on_feedback(MediaSession& /*session*/, const RtcpFeedback& /*feedback*/) {}
  // Transport-wide feedback (transport-cc, REMB): offered to the session's sinks in stream order
  // until one takes it (returns true), since it is about the transport, not one stream.
  virtual bool on_transport_feedback(MediaSession& /*session*/, const RtcpFeedback& /*feedback*/) { return false; }
  // True for an engine that only uses what arrives on its own tick and calls
  // ReadinessPoller::poll_tick_set before it does (the audio MCU): when every stream's sink says
  // so, the session's sockets are read at that tick instead of on each datagram's arrival.
  [[nodiscard]] virtual bool consumes_at_tick() const { return false; }
};

}  // namespace chorus::media
