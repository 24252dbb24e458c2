// SourceLatch: where a plain-RTP or SDES leg (no ICE) may send, and whose packets it takes —
// media goes only where the peer proved it lives (issue 12).
//
// Proof is one of: the SDP address is the address the call's signaling came from (the control
// loop compares and says so, `proven_by_signaling`), or RTP was received from the address. Until
// then the leg sends nothing, so an SDP naming a third party (reflection) or the server's own
// services gets no packet.
//
// Latching, RFC 7362 §4 and rtpengine's strict source with a learning window: during the first
// `window` after the session starts (or a re-INVITE changed the SDP address), the leg latches to
// the first source whose RTP carries a negotiated payload type (the RTCP component: whose RTCP
// parses), and learns its SSRC and sequence number. Afterwards the destination moves only for a
// packet that carries the known SSRC with a sequence number continuing from the last one seen
// (RFC 3550 A.1's MAX_DROPOUT), once the latched source has been silent for kLatchSilence — a NAT
// rebinding: the old binding stops, the same stream resumes elsewhere. A stranger spraying the port
// range never moves it, nor does a copy of the live stream sent from elsewhere while the latched
// source still speaks; such packets are rejected (counted as foreign). When the SDP address was proven by
// signaling, learning only accepts that IP (any port: symmetric NAT-free phones send from another
// port than their SDP says at times) and stays open past the window.
// Packets that only *might* latch or move are authenticated first (SRTP; plain RTP has nothing
// more to check) and latch in on_authenticated.
// Threading: owned by one media component, on its worker thread. Pure logic, time passed in.
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "common/timer_queue.hpp"
#include "media/stun/stun_message.hpp"

namespace chorus::media {

using stun::TransportAddress;

inline constexpr std::chrono::milliseconds kDefaultLatchWindow{3000};  // media_latch_window
// RFC 3550 A.1: MAX_DROPOUT — a sequence number this far ahead still continues the stream.
inline constexpr std::uint16_t kMaxLatchSequenceGap = 3000;
// How long the latched source must have been silent before its stream may resume from elsewhere.
inline constexpr std::chrono::milliseconds kLatchSilence{1000};

// What the latch reads of a packet before it is decrypted (the RTP header and the RTCP sender SSRC
// travel in the clear, RFC 3711 §3.1).
struct PacketIdentity {
  bool rtp = true;
  std::uint8_t payload_type = 0;  // RTP only
  std::uint16_t sequence = 0;     // RTP only
  std::uint32_t ssrc = 0;         // RTP SSRC, or the RTCP packet's sender SSRC
};

// The header fields of `datagram` (RTP or RTCP by `rtp`); nullopt when it is too short to carry them.
std::optional<PacketIdentity> identify_packet(std::span<const std::uint8_t> datagram, bool rtp);

// Which payload types the peer may latch with: RTP's 7 bits; none set means any (no list known).
using PayloadTypeSet = std::bitset<128>;

struct LatchConfig {
  std::optional<TransportAddress> signalled;  // the SDP's address, nullopt when it gave none usable
  bool proven_by_signaling = false;           // the SDP IP is the signaling source's IP
  PayloadTypeSet payload_types;               // negotiated for the peer's RTP
  std::chrono::milliseconds window = kDefaultLatchWindow;
  bool rtcp_component = false;  // the RTCP port (no mux): RTCP latches it
  bool rtcp_muxed = false;      // the RTP port carries RTCP too (RFC 5761): RTCP latches it as well
};

enum class LatchVerdict {
  kAccept,             // from the latched (or signalling-proven) destination
  kAcceptIfAuthentic,  // may latch or move once it authenticates
  kForeign,            // a stranger: drop and count
};

class SourceLatch {
 public:
  SourceLatch(LatchConfig config, TimePoint start);

  [[nodiscard]] LatchVerdict admit(const TransportAddress& source, const PacketIdentity& packet, TimePoint now) const;
  // The packet admitted from `source` passed authentication. True when the destination moved.
  bool on_authenticated(const TransportAddress& source, const PacketIdentity& packet, TimePoint now);
  // The same peer's other component or stream latched at `source`: a signalled address at its IP
  // is proven as if the signaling had come from there. True when this made it sendable.
  bool on_peer_proven(const TransportAddress& source);
  // A re-offer named a new address: learning starts over from `now` (the proof goes with the address).
  void on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling, TimePoint now);
  // DTLS without ICE: before a latch, from whoever speaks (the fingerprint authenticates the
  // handshake); afterwards only from the destination.
  [[nodiscard]] bool admit_dtls(const TransportAddress& source) const;

  // Where to send; nullopt until the destination is proven.
  [[nodiscard]] std::optional<TransportAddress> destination() const;
  [[nodiscard]] bool latched() const { return latched_; }
  [[nodiscard]] std::optional<std::uint32_t> ssrc() const { return ssrc_; }

 private:
  [[nodiscard]] bool learning(const TransportAddress& source, TimePoint now) const;
  [[nodiscard]] bool may_latch_with(const PacketIdentity& packet) const;
  [[nodiscard]] bool continues_stream(const PacketIdentity& packet, TimePoint now) const;

  LatchConfig config_;
  TimePoint learning_since_;
  std::optional<TransportAddress> destination_;
  bool proven_ = false;   // destination_ may be sent to
  bool latched_ = false;  // destination_ is where the peer's packets came from
  std::optional<std::uint32_t> ssrc_;
  std::uint16_t last_sequence_ = 0;
  TimePoint last_heard_{};  // the last packet of the stream from the destination
};

}  // namespace chorus::media
