#include "media/transport/media_component.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/dscp.hpp"
#include "common/log.hpp"
#include "media/rtp/packet_kind.hpp"
#include "media/transport/media_session.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::media {
namespace {

LatchConfig latch_config(const MediaSessionSpec& spec, ComponentKind kind, std::optional<TransportAddress> signalled) {
  LatchConfig config;
  config.signalled = signalled;
  config.proven_by_signaling = spec.remote_proven;
  config.window = spec.latch_window;
  config.rtcp_component = kind == ComponentKind::kRtcp;
  config.rtcp_muxed = spec.rtcp_mux && kind == ComponentKind::kRtp;
  for (auto payload_type : spec.remote_payload_types)
    if (payload_type < config.payload_types.size()) config.payload_types.set(payload_type);
  return config;
}

}  // namespace

MediaComponent::MediaComponent(MediaSession& session, int fd, bool owns_fd, ComponentKind kind,
                               std::optional<TransportAddress> signalled)
    : session_(session),
      fd_(fd),
      owns_fd_(owns_fd),
      kind_(kind),
      policy_(latch_config(session.spec(), kind, signalled), session.spec().ice.has_value(),
              session.environment().timers.now()) {
  // The spec's word when it has one (a port lease's sockets), else the kernel's.
  family_ = session.spec().sockets_family != 0 ? session.spec().sockets_family : socket_family(fd);
  // A socket handed over with ownership may come from anywhere (tests, tools): make sure reads and
  // sends never block the worker. A port lease's sockets are non-blocking from the start.
  if (owns_fd_ && fd_ >= 0) {
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }
  if (const auto& ice = session.spec().ice) ice_.emplace(ice->local_ufrag, ice->local_password, ice->remote_ufrag);
  const auto& keying = session.spec().keying;
  plain_ = std::holds_alternative<std::monostate>(keying);
  if (const auto* sdes = std::get_if<SdesKeying>(&keying))
    set_sdes_keys(sdes->suite, sdes->local_key_salt, sdes->remote_key_salt);
  if (const auto* dtls_keying = std::get_if<DtlsKeying>(&keying); dtls_keying && session.environment().dtls) {
    const auto role = dtls_keying->we_are_client ? dtls::DtlsRole::kClient : dtls::DtlsRole::kServer;
    dtls_ = std::make_unique<dtls::DtlsTransport>(*session.environment().dtls, role, dtls_keying->remote_fingerprint,
                                                  *this, session.environment().timers);
  }
}

MediaComponent::~MediaComponent() {
  session_.environment().poller.remove(readable_registration_);
  if (dtls_) dtls_->close();
  dtls_.reset();
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

void MediaComponent::start() {
  if (fd_ < 0) return;
  if (dtls_) dtls_->start();
  readable_registration_ = session_.environment().poller.add(fd_, *this, delivery_);
}

void MediaComponent::set_delivery(Delivery delivery) {
  delivery_ = delivery;
  session_.environment().poller.set_delivery(readable_registration_, delivery);
}

std::optional<TransportAddress> MediaComponent::destination() const {
  return policy_.destination(session_.environment().timers.now());
}

void MediaComponent::on_peer_proven(const TransportAddress& source) {
  // Debug, not info: every call's ACK proves its streams (two lines a call, written by the media
  // worker: at 20 joins a second the soak's late ticks coincided with none of the machine's stalls).
  if (policy_.on_peer_proven(source))
    CHORUS_LOG(kDebug, "media", "proven by the peer's other stream", {"session", session_.spec().label},
               {"component", static_cast<int>(kind_)}, {"remote", to_string(source)});
}

void MediaComponent::on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling) {
  policy_.on_signalled(signalled, proven_by_signaling, session_.environment().timers.now());
}

bool MediaComponent::encrypted() const {
  return !plain_;
}

void MediaComponent::set_sdes_keys(SrtpSuite suite, std::span<const std::uint8_t> local_key_salt,
                                   std::span<const std::uint8_t> remote_key_salt) {
  auto outbound = SrtpSession::create(suite, local_key_salt, SrtpDirection::kOutbound);
  auto inbound = SrtpSession::create(suite, remote_key_salt, SrtpDirection::kInbound);
  if (!outbound || !inbound) {
    CHORUS_LOG(kError, "media", "srtp keys refused", {"session", session_.spec().label},
               {"error", !outbound ? outbound.error() : inbound.error()});
    return;
  }
  outbound_ = std::move(*outbound);
  inbound_ = std::move(*inbound);
  seen_ = {};
}

void MediaComponent::on_readable() {
  // Stopped at the bound with datagrams left: the poller reports the socket again on its next wake,
  // after the worker's other sockets and timers had their turn.
  if (!drain()) session_.environment().poller.rearm(readable_registration_);
}

// recvmmsg(2) takes up to kReceiveBatch datagrams a call. The socket is registered edge-triggered
// (asio's epoll reactor), so it must be drained before the next wait; a call that returns fewer
// datagrams than it asked for has done that (a datagram arriving after it raises a new edge),
// which spares the EAGAIN call recvfrom needed after every packet: one syscall per member per tick.
//
// What the round's datagrams make the worker send (echoes, SFU forwards, STUN and DTLS answers)
// leaves in one submission at the end of the round (send_batch.hpp) instead of one sendto(2)
// each: on the echo room a third of an echoed packet's cost was its sendto (issue 13, bench/media_pps).
bool MediaComponent::drain() {
  const ScopedSendBurst burst(session_.environment().send_batch);
  auto scratch = session_.environment().scratch;
  std::array<mmsghdr, kReceiveBatch> messages{};
  std::array<iovec, kReceiveBatch> vectors{};
  std::array<sockaddr_storage, kReceiveBatch> sources{};
  for (std::size_t i = 0; i < kReceiveBatch; ++i) {
    // One byte past the ingress limit is read, so that an oversized datagram is seen as one.
    vectors[i] = iovec{scratch.data() + i * kReceiveSlotSize, kMaxDatagramSize + 1};
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &sources[i];
  }
  for (std::size_t taken = 0; taken < kMaxDatagramsPerWake;) {
    for (auto& message : messages) message.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int received = ::recvmmsg(fd_, messages.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    // EAGAIN: drained. Another error (one the kernel queued on the socket) ends this round, and the
    // socket is reported again should datagrams wait behind it.
    if (received < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (received == 0) return true;
    for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) on_received(messages[i], scratch, i);
    taken += static_cast<std::size_t>(received);
    if (static_cast<std::size_t>(received) < kReceiveBatch) return true;
  }
  return false;
}

void MediaComponent::on_received(const mmsghdr& message, std::span<std::uint8_t> scratch, std::size_t slot) {
  auto& counters = session_.environment().counters;
  if ((message.msg_hdr.msg_flags & MSG_TRUNC) != 0 || message.msg_len > kMaxDatagramSize) {
    MediaCounters::bump(counters.dropped_malformed);
    return;
  }
  auto source =
      from_sockaddr(*static_cast<const sockaddr_storage*>(message.msg_hdr.msg_name), message.msg_hdr.msg_namelen);
  if (!source) {
    MediaCounters::bump(counters.dropped_malformed);
    return;
  }
  on_datagram(scratch.subspan(slot * kReceiveSlotSize, kReceiveSlotSize), message.msg_len, *source);
}

void MediaComponent::on_datagram(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source) {
  const auto datagram = buffer.first(length);
  switch (classify_packet(datagram)) {
    case PacketKind::kStun:
      return on_stun(datagram, source);
    case PacketKind::kDtls:
      return on_dtls(datagram, source);
    case PacketKind::kRtp:
      if (kind_ == ComponentKind::kRtcp) break;  // RTP has no business on the RTCP port
      return on_rtp(buffer, length, source);
    case PacketKind::kRtcp:
      return on_rtcp(buffer, length, source);
    case PacketKind::kUnknown:
      break;
  }
  MediaCounters::bump(session_.environment().counters.dropped_malformed);
}

void MediaComponent::on_stun(std::span<const std::uint8_t> datagram, const TransportAddress& source) {
  auto& counters = session_.environment().counters;
  if (!ice_) {
    MediaCounters::bump(counters.dropped_malformed);  // no ICE negotiated: STUN has no business here
    return;
  }
  std::array<std::uint8_t, stun::kMaxMessageSize> response{};
  const auto outcome = ice_->respond(datagram, source, response);
  if (outcome.verdict != stun::IceLiteVerdict::kRespond) {
    if (outcome.verdict == stun::IceLiteVerdict::kDrop) MediaCounters::bump(counters.dropped_malformed);
    return;
  }
  MediaCounters::bump(counters.stun_answered);
  // RFC 8445 §7.3.1.4: the response goes back to the source of the request.
  send_datagram(std::span(response).first(outcome.response_size), source);
  if (!outcome.source_validated()) return;
  if (policy_.on_ice_check(source, outcome.use_candidate, session_.environment().timers.now())) {
    MediaCounters::bump(counters.source_changes);
    CHORUS_LOG(kInfo, "media", "ice pair selected", {"session", session_.spec().label},
               {"component", static_cast<int>(kind_)}, {"remote", to_string(source)},
               {"nominated", outcome.use_candidate ? "yes" : "no"});
  }
}

void MediaComponent::on_dtls(std::span<const std::uint8_t> datagram, const TransportAddress& source) {
  auto& counters = session_.environment().counters;
  if (!dtls_) {
    MediaCounters::bump(counters.dropped_malformed);
    return;
  }
  // RFC 8445 / RFC 5763 §5: DTLS only with a peer ICE has validated (or, without ICE, the peer
  // latched or signalled); an unvalidated ClientHello never reaches the handshake.
  if (!policy_.admit_dtls(source) || (dtls_peer_ && *dtls_peer_ != source && !policy_.uses_ice())) {
    MediaCounters::bump(policy_.uses_ice() ? counters.dropped_dtls_unvalidated : counters.dropped_source);
    return;
  }
  dtls_peer_ = source;
  dtls_->on_datagram(datagram);
}

bool MediaComponent::admitted(const TransportAddress& source, const PacketIdentity& packet) {
  // kAcceptIfAuthentic goes on too: after_authentic() latches once SRTP has verified the packet.
  if (policy_.admit_media(source, packet, session_.environment().timers.now()) != Admission::kReject) return true;
  auto& counters = session_.environment().counters;
  MediaCounters::bump(counters.dropped_source);
  if (!policy_.uses_ice()) MediaCounters::bump(counters.foreign_source_drops);  // the latch refused a stranger
  return false;
}

void MediaComponent::after_authentic(const TransportAddress& source, const PacketIdentity& packet) {
  if (policy_.on_authenticated(source, packet, session_.environment().timers.now())) {
    MediaCounters::bump(session_.environment().counters.source_changes);
    CHORUS_LOG(kInfo, "media", "latched", {"session", session_.spec().label}, {"component", static_cast<int>(kind_)},
               {"remote", to_string(source)});
    session_.on_component_latched(*this, source);
  }
}

std::optional<std::size_t> MediaComponent::unprotect(bool rtcp, std::span<std::uint8_t> buffer, std::size_t length) {
  auto& counters = session_.environment().counters;
  if (plain_) return length;
  if (!inbound_) {
    MediaCounters::bump(counters.dropped_malformed);  // DTLS handshake not finished yet
    return std::nullopt;
  }
  auto result = rtcp ? inbound_->unprotect_rtcp(buffer, length) : inbound_->unprotect_rtp(buffer, length);
  if (!result) {
    const auto& now = inbound_->counters();
    MediaCounters::bump(counters.dropped_auth, now.auth_failure - seen_.auth_failure);
    MediaCounters::bump(counters.dropped_replay, now.replay - seen_.replay);
    MediaCounters::bump(counters.dropped_malformed, now.other - seen_.other);
    seen_ = now;
  }
  return result;
}

void MediaComponent::on_rtp(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source) {
  const auto packet = identify_packet(buffer.first(length), /*rtp=*/true);
  if (!packet) {
    MediaCounters::bump(session_.environment().counters.dropped_malformed);
    return;
  }
  if (!admitted(source, *packet)) return;
  auto clear_length = unprotect(false, buffer, length);
  if (!clear_length) return;
  after_authentic(source, *packet);
  session_.deliver_rtp(*this, buffer, *clear_length);
}

void MediaComponent::on_rtcp(std::span<std::uint8_t> buffer, std::size_t length, const TransportAddress& source) {
  const auto packet = identify_packet(buffer.first(length), /*rtp=*/false);
  if (!packet) {
    MediaCounters::bump(session_.environment().counters.dropped_malformed);
    return;
  }
  if (!admitted(source, *packet)) return;
  auto clear_length = unprotect(true, buffer, length);
  if (!clear_length) return;
  after_authentic(source, *packet);
  session_.deliver_rtcp(*this, buffer.first(*clear_length));
}

bool MediaComponent::send_rtp(std::span<std::uint8_t> buffer, std::size_t length, std::optional<std::uint8_t> dscp) {
  return protect_and_send(false, buffer, length, dscp);
}

void MediaComponent::mark(std::uint8_t dscp) {
  const auto& marking = session_.environment().marking;
  mark_socket(fd_, dscp, marking.failures, "media", family_);
}

bool MediaComponent::send_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return protect_and_send(true, buffer, length);
}

bool MediaComponent::protect_and_send(bool rtcp, std::span<std::uint8_t> buffer, std::size_t length,
                                      std::optional<std::uint8_t> dscp) {
  auto& counters = session_.environment().counters;
  const auto to = destination();
  if (!to || (!plain_ && !outbound_)) {
    MediaCounters::bump(counters.dropped_send);
    return false;
  }
  std::optional<std::size_t> wire_length = length;
  if (!plain_) wire_length = rtcp ? outbound_->protect_rtcp(buffer, length) : outbound_->protect_rtp(buffer, length);
  if (!wire_length) {
    MediaCounters::bump(counters.dropped_send);
    return false;
  }
  switch (send_datagram(buffer.first(*wire_length), *to, dscp)) {
    case SendOutcome::kSent:
      MediaCounters::bump(counters.packets_out);
      session_.note_sent();
      return true;
    case SendOutcome::kQueued:  // counted when the batch is flushed
      session_.note_sent();
      return true;
    case SendOutcome::kFailed:
      break;
  }
  return false;
}

MediaComponent::SendOutcome MediaComponent::send_datagram(std::span<const std::uint8_t> datagram,
                                                          const TransportAddress& to,
                                                          std::optional<std::uint8_t> dscp) {
  const auto address = to_sockaddr(to, family_ == AF_INET6);
  // In the worker's burst (the audio tick): with the others, in one submission. A packet with a
  // class of its own needs its control message and goes out by itself.
  SendBatch* batch = session_.environment().send_batch;
  if (batch != nullptr && !(dscp && per_packet_marks_ok_) && batch->queue(fd_, datagram, address.get(), address.length))
    return SendOutcome::kQueued;
  ssize_t sent = -1;
  if (dscp && per_packet_marks_ok_) {
    sent = send_marked(datagram, to, address, *dscp);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      // The kernel will not take the class with the packet (EPERM, EINVAL): from now on this
      // socket's packets go out with its own class; counted, logged once (common/dscp.hpp).
      per_packet_marks_ok_ = false;
      if (auto* failures = session_.environment().marking.failures) failures->record(errno, "media");
      dscp.reset();
    }
  }
  if (!dscp || !per_packet_marks_ok_)
    sent = ::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT, address.get(), address.length);
  if (sent == static_cast<ssize_t>(datagram.size())) return SendOutcome::kSent;
  MediaCounters::bump(session_.environment().counters.dropped_send);
  return SendOutcome::kFailed;
}

// ip(7) IP_TOS and ipv6(7) IPV6_TCLASS as ancillary data set one datagram's class. An IPv4
// destination takes IP_TOS also from an IPv6 socket (it leaves as IPv4, through its mapped address).
ssize_t MediaComponent::send_marked(std::span<const std::uint8_t> datagram, const TransportAddress& to,
                                    const SockaddrBuffer& address, std::uint8_t dscp) {
  const int octet = traffic_class_octet(dscp);
  const bool ipv4 = to.family == stun::AddressFamily::kIpv4;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  iovec vector{const_cast<std::uint8_t*>(datagram.data()), datagram.size()};
  msghdr message{};
  message.msg_name = const_cast<sockaddr*>(address.get());
  message.msg_namelen = address.length;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = ipv4 ? IPPROTO_IP : IPPROTO_IPV6;
  header->cmsg_type = ipv4 ? IP_TOS : IPV6_TCLASS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &octet, sizeof octet);
  return ::sendmsg(fd_, &message, MSG_DONTWAIT);
}

void MediaComponent::on_dtls_send(std::span<const std::uint8_t> datagram) {
  const auto to = dtls_peer_ ? dtls_peer_ : destination();
  if (to) send_datagram(datagram, *to);
}

void MediaComponent::on_dtls_connected(const dtls::DtlsSrtpKeys& keys) {
  MediaCounters::bump(session_.environment().counters.dtls_connected);
  set_sdes_keys(keys.suite, keys.local_key_salt, keys.remote_key_salt);
  CHORUS_LOG(kInfo, "media", "dtls-srtp connected", {"session", session_.spec().label},
             {"component", static_cast<int>(kind_)}, {"suite", suite_name(keys.suite)});
}

void MediaComponent::on_dtls_failed(std::string_view reason) {
  MediaCounters::bump(session_.environment().counters.dtls_failed);
  CHORUS_LOG(kWarn, "media", "dtls-srtp failed", {"session", session_.spec().label},
             {"component", static_cast<int>(kind_)}, {"reason", reason});
}

}  // namespace chorus::media
