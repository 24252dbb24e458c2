// RemoteAddressPolicy: which source addresses one media component accepts, and where it sends.
//
// With ICE (RFC 8445 §2.5, ICE-lite): a source is admitted only after it completed an
// authenticated STUN Binding check with us; media and DTLS from anywhere else are dropped (the
// CVE-2023-51443 class: an unvalidated ClientHello must never reach the DTLS session). We send to
// the pair the controlling agent nominated (USE-CANDIDATE), or before that to the first
// validated address. RFC 7675 consent: when no check from the destination arrived for
// kConsentLifetime, we stop sending until one does.
//
// Without ICE: SourceLatch (source_latch.hpp) — nothing is sent until the peer proved its address
// (the SDP names the signaling source's IP, or RTP of a negotiated payload type came from it),
// the first such source in the learning window latches, and afterwards only the known SSRC with
// continuing sequence numbers moves it (strict source: a stranger cannot steal a live call).
// Packets that only *might* latch are decrypted first; the latch happens once they pass SRTP
// authentication (on_authenticated).
// Threading: owned by one media component, on its worker thread. Pure logic, no sockets.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

#include "common/timer_queue.hpp"
#include "media/stun/stun_message.hpp"
#include "media/transport/source_latch.hpp"

namespace chorus::media {

inline constexpr std::chrono::seconds kConsentLifetime{30};  // RFC 7675 §5.1
inline constexpr std::size_t kMaxValidatedAddresses = 8;     // ingress limit: candidate pairs we remember

enum class Admission {
  kAccept,             // from the destination (or a validated ICE address)
  kAcceptIfAuthentic,  // may become the destination once it authenticates
  kReject,
};

class RemoteAddressPolicy {
 public:
  // `latch` is used without ICE; with ICE only its `signalled` address is known (and not used).
  RemoteAddressPolicy(LatchConfig latch, bool ice, TimePoint start);

  // kReject from a source the latch calls foreign (no ICE) counts as a foreign-source drop.
  [[nodiscard]] Admission admit_media(const TransportAddress& source, const PacketIdentity& packet,
                                      TimePoint now) const;
  // DTLS records: with ICE only from validated addresses; without, from the destination or,
  // before anything latched, from whoever speaks first.
  [[nodiscard]] bool admit_dtls(const TransportAddress& source) const;
  // A packet from `source` passed authentication. True when the destination moved.
  bool on_authenticated(const TransportAddress& source, const PacketIdentity& packet, TimePoint now);
  // A STUN Binding request from `source` passed MESSAGE-INTEGRITY and got a success response.
  // True when the destination moved.
  bool on_ice_check(const TransportAddress& source, bool nominated, TimePoint now);
  // The SDP changed the remote address (re-INVITE without ICE): learning starts over; the new
  // address is sent to at once only when the signaling proved it.
  void on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling, TimePoint now);

  // Without ICE: the same peer latched at `source` elsewhere (SourceLatch::on_peer_proven). True
  // when this made the signalled address sendable.
  bool on_peer_proven(const TransportAddress& source);

  // Where to send now; nullopt when nowhere (no address yet, or ICE consent expired).
  [[nodiscard]] std::optional<TransportAddress> destination(TimePoint now) const;
  [[nodiscard]] bool uses_ice() const { return ice_; }
  [[nodiscard]] bool is_validated(const TransportAddress& source) const;

 private:
  bool ice_;
  SourceLatch latch_;                            // without ICE
  std::optional<TransportAddress> destination_;  // with ICE
  std::optional<TimePoint> last_consent_;        // ICE: last successful check from the destination
  std::array<TransportAddress, kMaxValidatedAddresses> validated_{};
  std::size_t validated_count_ = 0;
  std::size_t next_validated_slot_ = 0;  // oldest entry, replaced when full
};

}  // namespace chorus::media
