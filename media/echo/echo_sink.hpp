// EchoSink: the echo-test room's engine. Every RTP packet a caller sends goes straight back to it
// on the same session, re-encrypted with our outbound key: the first check a user makes that
// media works both ways, as in every PBX (Asterisk's Echo(), FreeSWITCH's echo).
// The packet keeps its payload type, sequence number and timestamp; its SSRC becomes ours
// (RFC 3550 §8.2: a participant that sees its own SSRC in a received packet takes it for a loop
// or collision). Zero copy: the packet is rewritten and protected in the receive buffer.
// `gst-launch-1.0 audiotestsrc ! mulawenc ! rtppcmupay ! udpsink port=<echo port>` hears itself.
// Threading: the session's media worker.
#pragma once

#include "media/transport/media_sink.hpp"

namespace chorus::media {

class EchoSink final : public MediaSink {
 public:
  void on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) override;
};

}  // namespace chorus::media
