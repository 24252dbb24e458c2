// MediaComponent: one UDP socket of a media session — ICE component 1 (RTP, and RTCP with
// rtcp-mux, RFC 5761) or component 2 (RTCP on its own port, RFC 3550 §11).
//
// Every datagram that arrives is classified by its first byte (RFC 7983) and checked here before
// anything else sees it: STUN goes to the ICE-lite responder, DTLS to this component's DTLS-SRTP
// handshake, RTP/RTCP through the source policy and SRTP unprotection to the session. Each drop
// is counted by reason. Sending protects in place and writes to the policy's destination.
// The socket is drained without blocking when it is readable, up to kMaxDatagramsPerWake at a
// time so one busy peer cannot starve the worker's other sessions, kReceiveBatch per recvmmsg(2).
// Threading: lives on one media worker's io_context; nothing here takes a lock.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "media/dtls/dtls_transport.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/stun/ice_lite_responder.hpp"
#include "media/transport/media_environment.hpp"
#include "media/transport/remote_address_policy.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::media {

class MediaSession;

inline constexpr std::size_t kMaxDatagramsPerWake = 64;

enum class ComponentKind : std::uint8_t { kRtp = 1, kRtcp = 2 };  // the ICE component ids

class MediaComponent final : public dtls::DtlsTransportListener, public ReadableListener {
 public:
  // `fd` is a bound, non-blocking UDP socket; the component closes it at the end when `owns_fd`,
  // else its owner (a port lease, MediaSessionSpec::sockets_owner) keeps it open past the component.
  MediaComponent(MediaSession& session, int fd, bool owns_fd, ComponentKind kind,
                 std::optional<TransportAddress> signalled);
  MediaComponent(const MediaComponent&) = delete;
  MediaComponent& operator=(const MediaComponent&) = delete;
  ~MediaComponent() override;

  // Starts reading; with DTLS keying also starts the handshake (as client, or waits as server).
  void start();
  // When this socket is read (ReadinessPoller): on arrival until the session says otherwise.
  void set_delivery(Delivery delivery);

  // Protects packet [0, length) of `buffer` in place (SRTP when keyed) and sends it. False when
  // it was dropped (no keys yet, no destination, the kernel refused); the drop is counted.
  // `dscp`: this packet's own class, when it is not the socket's (media_marking.hpp).
  bool send_rtp(std::span<std::uint8_t> buffer, std::size_t length, std::optional<std::uint8_t> dscp = std::nullopt);
  bool send_rtcp(std::span<std::uint8_t> buffer, std::size_t length);

  void set_sdes_keys(SrtpSuite suite, std::span<const std::uint8_t> local_key_salt,
                     std::span<const std::uint8_t> remote_key_salt);
  void on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling);
  // Marks everything the socket sends with `dscp` (issue 15); a refusal is counted, not fatal.
  void mark(std::uint8_t dscp);
  // The same peer latched at `source` on another component or session (RemoteAddressPolicy).
  void on_peer_proven(const TransportAddress& source);

  [[nodiscard]] ComponentKind kind() const { return kind_; }
  [[nodiscard]] bool keyed() const { return outbound_.has_value() && inbound_.has_value(); }
  [[nodiscard]] std::optional<TransportAddress> destination() const;

 private:
  void on_readable() override;
  // Reads until the socket is empty (true) or kMaxDatagramsPerWake were taken (false).
  bool drain();
  // One datagram recvmmsg put in slot `slot` of the worker's scratch: checked, then on_datagram.
  void on_received(const mmsghdr& message, std::span<std::uint8_t> scratch, std::size_t slot);
  void on_datagram(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source);
  void on_stun(std::span<const std::uint8_t> datagram, const TransportAddress& source);
  void on_dtls(std::span<const std::uint8_t> datagram, const TransportAddress& source);
  void on_rtp(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source);
  void on_rtcp(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source);
  // Unprotects in place when keyed; nullopt (counted) when it fails or keys are still missing.
  std::optional<std::size_t> unprotect(bool rtcp, std::span<std::uint8_t> buffer, std::size_t length);
  [[nodiscard]] bool admitted(const TransportAddress& source, const PacketIdentity& packet);
  void after_authentic(const TransportAddress& source, const PacketIdentity& packet);
  // kQueued: taken by the worker's SendBatch, which counts it when it flushes.
  enum class SendOutcome : std::uint8_t { kSent, kQueued, kFailed };
  SendOutcome send_datagram(std::span<const std::uint8_t> datagram, const TransportAddress& to,
                            std::optional<std::uint8_t> dscp = std::nullopt);
  // sendmsg with the class in an IP_TOS / IPV6_TCLASS control message; -1 with errno as sendmsg.
  ssize_t send_marked(std::span<const std::uint8_t> datagram, const TransportAddress& to, const SockaddrBuffer& address,
                      std::uint8_t dscp);
  bool protect_and_send(bool rtcp, std::span<std::uint8_t> buffer, std::size_t length,
                        std::optional<std::uint8_t> dscp = std::nullopt);
  [[nodiscard]] bool encrypted() const;

  // dtls::DtlsTransportListener
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(const dtls::DtlsSrtpKeys& keys) override;
  void on_dtls_failed(std::string_view reason) override;

  MediaSession& session_;
  int fd_;
  bool owns_fd_;
  int family_ = 0;  // of the socket: AF_INET or AF_INET6 (0: getsockname failed)
  ComponentKind kind_;
  RemoteAddressPolicy policy_;
  std::optional<stun::IceLiteResponder> ice_;
  std::unique_ptr<dtls::DtlsTransport> dtls_;
  std::optional<TransportAddress> dtls_peer_;  // where DTLS flights go: the source that spoke DTLS
  std::optional<SrtpSession> inbound_;
  std::optional<SrtpSession> outbound_;
  bool plain_ = true;                // RTP/AVP: no SRTP at all
  bool per_packet_marks_ok_ = true;  // false once the kernel refused a per-packet class: sent unmarked
  SrtpCounters seen_;                // libsrtp counters already folded into the worker's counters
  ReadinessPoller::Registration readable_registration_ = 0;
  Delivery delivery_ = Delivery::kOnArrival;  // remembered for a start() after set_delivery
};

}  // namespace chorus::media
