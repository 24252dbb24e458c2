// EchoSink: the echo-test room's engine. Every RTP packet a caller sends goes straight back to it
// on the same session, re-encrypted with our outbound key: the first check a user makes that
// media works both ways, as in every PBX (Asterisk's Echo(), FreeSWITCH's echo).
// The packet keeps its payload type and marker; its SSRC becomes ours (RFC 3550 §8.2: a
// participant that sees its own SSRC in a received packet takes it for a loop or collision).
// Sequence numbers and timestamps pass through unchanged while the caller keeps one stream, and
// continue without a jump when it starts a new one (new SSRC, fresh random sequence, e.g. after
// hold): our outbound SRTP context tracks its rollover counter from the sequence numbers we send
// (RFC 3711 §3.3.1), and a jump of half the sequence space would desynchronise the caller's.
// Zero copy: the packet is rewritten and protected in the receive buffer.
// `gst-launch-1.0 audiotestsrc ! mulawenc ! rtppcmupay ! udpsink port=<echo port>` hears itself.
// Threading: the session's media worker.
#pragma once

#include <cstdint>
#include <optional>

#include "media/transport/media_sink.hpp"

namespace chorus::media {

class EchoSink final : public MediaSink {
 public:
  void on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) override;

 private:
  struct Stream {
    std::uint32_t remote_ssrc = 0;
    std::uint16_t sequence_offset = 0;   // added to the caller's sequence number (mod 2^16)
    std::uint32_t timestamp_offset = 0;  // added to the caller's timestamp (mod 2^32)
  };
  std::optional<Stream> stream_;
  std::uint16_t last_sequence_ = 0;  // the last we sent
  std::uint32_t last_timestamp_ = 0;
};

}  // namespace chorus::media
