// DtlsTransport: one DTLS-SRTP association (RFC 5764) over datagrams the caller carries. It owns
// no socket: the per-participant transport hands it every received datagram whose first octet is
// 20..63 (RFC 7983 §7) through on_datagram(), and sends what the listener's on_dtls_send() gets.
// When the handshake has finished and the peer's certificate matches the SDP fingerprint
// (RFC 5763 §5), on_dtls_connected() delivers the SRTP keys exactly once; any failure ends in one
// on_dtls_failed() and the transport refuses everything afterwards.
//
// Retransmission (RFC 6347 §4.2.4): OpenSSL keeps the flight timer and doubles it from the
// initial timeout up to 60 s; it measures time on the wall clock. The TimerQueue wakes the
// transport when DTLSv1_get_timeout says the flight is due, and DTLSv1_handle_timeout resends it.
// The TimerQueue also bounds the whole handshake (handshake_timeout from start(), and
// max_retransmissions) so a peer that never answers ends in on_dtls_failed().
//
// Threading: owned by one media worker and used only on its thread; not thread-safe. Listener
// callbacks run synchronously inside start(), on_datagram(), close() and timer callbacks; a
// listener must not destroy the transport from inside a callback. The transport cancels its
// timers on destruction, so the TimerQueue must outlive it.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/timer_queue.hpp"
#include "media/dtls/dtls_context.hpp"
#include "media/dtls/dtls_srtp_keys.hpp"

namespace chorus::media::dtls {

// Ingress limit: a DTLS record is at most 2^14 + 2048 octets of ciphertext (RFC 6347 §4.1), and
// our MTU keeps handshake datagrams far below; anything larger is dropped unread.
inline constexpr std::size_t kMaxDtlsDatagram = 16 * 1024;
// RFC 6347 §4.1.1: DTLS record header (type, version, epoch, sequence number, length).
inline constexpr std::size_t kDtlsRecordHeaderLength = 13;

struct DtlsTransportOptions {
  // Fits a flight under a 1280-octet IPv6 path MTU with room for IP, UDP and TURN headers.
  std::size_t mtu = 1200;
  // RFC 6347 §4.2.4.1: the initial retransmission timer is 1 s, doubled on each timeout.
  std::chrono::milliseconds initial_retransmit_timeout{1000};
  // A handshake that has not finished this long after start() fails.
  std::chrono::milliseconds handshake_timeout{30000};
  // Flight retransmissions before giving up, whichever of this and handshake_timeout comes first.
  unsigned max_retransmissions = 7;
};

enum class DtlsState : std::uint8_t { kNew, kConnecting, kConnected, kFailed, kClosed };

std::string_view dtls_state_name(DtlsState state);

struct DtlsCounters {
  std::uint64_t datagrams_in = 0;   // handed to OpenSSL
  std::uint64_t datagrams_out = 0;  // given to on_dtls_send
  // Not handed to OpenSSL: too long, too short for a record, first octet outside 20..63
  // (RFC 7983 §7), or arriving before start() or after the transport failed or closed.
  std::uint64_t dropped = 0;
  std::uint64_t application_data_ignored = 0;  // DTLS application data: WebRTC data channels are not ours
  std::uint64_t retransmissions = 0;           // flights resent by our timer
};

class DtlsTransportListener {
 public:
  virtual ~DtlsTransportListener() = default;
  // One datagram to send to the peer as it is (the caller adds nothing).
  virtual void on_dtls_send(std::span<const std::uint8_t> datagram) = 0;
  // Handshake done, fingerprint verified; called at most once.
  virtual void on_dtls_connected(const DtlsSrtpKeys& keys) = 0;
  // The handshake failed, timed out, the fingerprint did not match, or the peer sent a fatal
  // alert; called at most once and never after on_dtls_closed.
  virtual void on_dtls_failed(std::string_view reason) = 0;
  // The peer sent close_notify (RFC 5246 §7.2.1) after the handshake.
  virtual void on_dtls_closed() {}
};

class DtlsTransport {
 public:
  // `expected_remote_fingerprint` is the SHA-256 from the peer's a=fingerprint (32 octets; any
  // other length makes start() fail). The context, listener and timers must outlive the transport.
  DtlsTransport(DtlsContext& context, DtlsRole role, std::vector<std::uint8_t> expected_remote_fingerprint,
                DtlsTransportListener& listener, TimerQueue& timers, DtlsTransportOptions options = {});
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;
  DtlsTransport(DtlsTransport&&) = delete;
  DtlsTransport& operator=(DtlsTransport&&) = delete;

  // kNew → kConnecting. The client sends its ClientHello; the server waits for one. Datagrams
  // that arrive before start() are dropped, so call it as soon as the transport exists.
  void start();
  // One received datagram. Never throws; drops (and counts) what it cannot use.
  void on_datagram(std::span<const std::uint8_t> datagram);
  // Sends close_notify when a handshake was under way or done, then kClosed. Idempotent.
  void close();

  [[nodiscard]] DtlsState state() const { return state_; }
  [[nodiscard]] DtlsRole role() const { return role_; }
  [[nodiscard]] const DtlsCounters& counters() const { return counters_; }

 private:
  struct SslDeleter {
    void operator()(SSL* ssl) const;
  };

  friend struct DtlsTransportBio;  // the BIO callbacks reach write_record / read_datagram

  void continue_handshake();
  void read_after_handshake();
  void finish_handshake();
  void fail(std::string_view reason);
  void flush_output();
  void arm_retransmit_timer();
  void on_retransmit_timer();
  void cancel_timers();
  // The BIO side: records OpenSSL writes are packed into datagrams up to the MTU; reads hand out
  // the datagram being processed.
  void write_record(std::span<const std::uint8_t> records);
  int read_datagram(std::span<std::uint8_t> out);
  [[nodiscard]] std::chrono::microseconds next_retransmit_duration(std::chrono::microseconds current) const;
  static unsigned int timer_callback(SSL* ssl, unsigned int current_us);

  DtlsContext& context_;
  DtlsRole role_;
  std::vector<std::uint8_t> expected_fingerprint_;
  DtlsTransportListener& listener_;
  TimerQueue& timers_;
  DtlsTransportOptions options_;
  std::unique_ptr<SSL, SslDeleter> ssl_;
  DtlsState state_ = DtlsState::kNew;
  DtlsCounters counters_;
  std::span<const std::uint8_t> input_;            // the datagram OpenSSL is reading, if any
  std::vector<std::vector<std::uint8_t>> output_;  // datagrams written during the current call
  TimerQueue::TimerId retransmit_timer_ = TimerQueue::kNoTimer;
  TimerQueue::TimerId deadline_timer_ = TimerQueue::kNoTimer;
};

}  // namespace chorus::media::dtls
