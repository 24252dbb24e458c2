#include "media/dtls/dtls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "common/log.hpp"
#include "media/dtls/openssl_error.hpp"

namespace chorus::media::dtls {
namespace {

// RFC 6347 §4.2.4.1: the retransmission timer doubles up to at least 60 s.
constexpr std::chrono::microseconds kMaxRetransmitTimeout = std::chrono::seconds(60);
// Never re-arm sooner than this: a wall clock stepped backwards must not make us spin.
constexpr Millis kMinTimerDelay{10};
// RFC 7983 §7: a first octet of 20..63 is DTLS.
constexpr std::uint8_t kFirstDtlsOctet = 20;
constexpr std::uint8_t kLastDtlsOctet = 63;
// One datagram holds at most this many records worth reading; a bound on the read loop.
constexpr int kMaxReadsPerDatagram = 64;

}  // namespace

// The BIO between OpenSSL and the transport: reads hand out the one datagram being processed,
// writes collect records into outgoing datagrams. Both directions use the same BIO.
struct DtlsTransportBio {
  static BIO_METHOD* method() {
    static BIO_METHOD* instance = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "chorus dtls transport");
      if (m == nullptr) return m;
      BIO_meth_set_write(m, &write);
      BIO_meth_set_read(m, &read);
      BIO_meth_set_ctrl(m, &ctrl);
      return m;
    }();
    return instance;
  }

  static DtlsTransport* transport(BIO* bio) { return static_cast<DtlsTransport*>(BIO_get_data(bio)); }

  static int write(BIO* bio, const char* data, int length) {
    BIO_clear_retry_flags(bio);
    DtlsTransport* owner = transport(bio);
    if (owner == nullptr || length < 0) return -1;
    owner->write_record({reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(length)});
    return length;
  }

  static int read(BIO* bio, char* data, int length) {
    BIO_clear_retry_flags(bio);
    DtlsTransport* owner = transport(bio);
    if (owner == nullptr || length < 0) return -1;
    const int copied = owner->read_datagram({reinterpret_cast<std::uint8_t*>(data), static_cast<std::size_t>(length)});
    if (copied == 0) {
      BIO_set_retry_read(bio);
      return -1;
    }
    return copied;
  }

  static long ctrl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
    switch (command) {
      case BIO_CTRL_FLUSH:
        return 1;  // datagrams leave in flush_output() once OpenSSL returns
      case BIO_CTRL_WPENDING:
      case BIO_CTRL_PENDING:
        return 0;
      default:
        return 0;  // no MTU query, no peer address, no timeouts: OpenSSL copes with 0
    }
  }
};

std::string_view dtls_state_name(DtlsState state) {
  switch (state) {
    case DtlsState::kNew:
      return "new";
    case DtlsState::kConnecting:
      return "connecting";
    case DtlsState::kConnected:
      return "connected";
    case DtlsState::kFailed:
      return "failed";
    case DtlsState::kClosed:
      return "closed";
  }
  return "unknown";
}

void DtlsTransport::SslDeleter::operator()(SSL* ssl) const {
  SSL_free(ssl);
}

DtlsTransport::DtlsTransport(DtlsContext& context, DtlsRole role, std::vector<std::uint8_t> expected_remote_fingerprint,
                             DtlsTransportListener& listener, TimerQueue& timers, DtlsTransportOptions options)
    : context_(context),
      role_(role),
      expected_fingerprint_(std::move(expected_remote_fingerprint)),
      listener_(listener),
      timers_(timers),
      options_(options) {}

DtlsTransport::~DtlsTransport() {
  cancel_timers();
  if (ssl_) BIO_set_data(SSL_get_rbio(ssl_.get()), nullptr);  // SSL_free must not reach back into us
}

void DtlsTransport::start() {
  if (state_ != DtlsState::kNew) return;
  state_ = DtlsState::kConnecting;
  if (expected_fingerprint_.size() != kSha256Length) {
    fail("the expected remote fingerprint is not a SHA-256 digest");
    return;
  }
  ERR_clear_error();
  ssl_.reset(SSL_new(context_.native()));
  BIO* bio = DtlsTransportBio::method() != nullptr ? BIO_new(DtlsTransportBio::method()) : nullptr;
  if (!ssl_ || bio == nullptr) {
    BIO_free(bio);
    fail(openssl_error("cannot create the DTLS session"));
    return;
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);  // one reference, owned by the SSL from here
  SSL_set_app_data(ssl_.get(), this);
  // The MTU bounds each flight's datagrams; SSL_OP_NO_QUERY_MTU (DtlsContext) keeps OpenSSL from
  // asking a socket we do not have.
  if (SSL_set_mtu(ssl_.get(), static_cast<long>(options_.mtu)) <= 0) {  // returns the MTU it set
    fail(openssl_error("the DTLS MTU is too small"));
    return;
  }
  DTLS_set_timer_cb(ssl_.get(), &DtlsTransport::timer_callback);
  deadline_timer_ = timers_.schedule(std::chrono::duration_cast<Millis>(options_.handshake_timeout), [this] {
    deadline_timer_ = TimerQueue::kNoTimer;
    if (state_ == DtlsState::kConnecting) fail("DTLS handshake timed out");
  });
  if (role_ == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_.get());
    continue_handshake();  // sends the ClientHello
  } else {
    SSL_set_accept_state(ssl_.get());
  }
}

void DtlsTransport::on_datagram(std::span<const std::uint8_t> datagram) {
  const bool running = state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected;
  const bool shaped = datagram.size() >= kDtlsRecordHeaderLength && datagram.size() <= kMaxDtlsDatagram &&
                      datagram[0] >= kFirstDtlsOctet && datagram[0] <= kLastDtlsOctet;
  if (!running || !shaped) {
    ++counters_.dropped;
    return;
  }
  ++counters_.datagrams_in;
  input_ = datagram;
  if (state_ == DtlsState::kConnecting) {
    continue_handshake();
  } else {
    read_after_handshake();
  }
  input_ = {};  // what OpenSSL did not read of a datagram is discarded, as a socket would
}

void DtlsTransport::close() {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) return;
  cancel_timers();
  if (state_ == DtlsState::kConnected) {
    // RFC 5246 §7.2.1: close_notify. One SSL_shutdown sends ours; we do not wait for the reply.
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    flush_output();
  }
  state_ = DtlsState::kClosed;
}

void DtlsTransport::continue_handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    finish_handshake();
    return;
  }
  const int error = SSL_get_error(ssl_.get(), result);
  flush_output();  // the next flight, or the fatal alert OpenSSL wrote for the peer
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    arm_retransmit_timer();
    return;
  }
  if (error == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    fail("the peer closed the connection during the DTLS handshake");
    return;
  }
  fail(openssl_error("DTLS handshake failed"));
}

void DtlsTransport::finish_handshake() {
  cancel_timers();
  flush_output();  // our last flight (the server's ChangeCipherSpec and Finished)
  // RFC 5763 §5: the certificate the peer used must hash to the fingerprint from its SDP. The
  // comparison is constant-time, as for any authenticator.
  const auto digest = certificate_sha256(SSL_get0_peer_certificate(ssl_.get()));
  if (!digest || CRYPTO_memcmp(digest->data(), expected_fingerprint_.data(), kSha256Length) != 0) {
    // Tell the peer at once instead of letting it send media into a dead session.
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    flush_output();
    fail("fingerprint mismatch");
    return;
  }
  auto keys = export_srtp_keys(ssl_.get(), role_);
  if (!keys) {
    fail(keys.error());
    return;
  }
  state_ = DtlsState::kConnected;
  CHORUS_LOG(kDebug, "dtls", "DTLS-SRTP connected", {"role", role_ == DtlsRole::kClient ? "client" : "server"},
             {"suite", suite_name(keys->suite)});
  listener_.on_dtls_connected(*keys);
  OPENSSL_cleanse(keys->local_key_salt.data(), keys->local_key_salt.size());
  OPENSSL_cleanse(keys->remote_key_salt.data(), keys->remote_key_salt.size());
}

// After the handshake only alerts and retransmitted handshake records matter: a retransmitted
// Finished flight means ours was lost, and OpenSSL answers it from SSL_read (RFC 6347 §4.2.4).
void DtlsTransport::read_after_handshake() {
  std::array<std::uint8_t, 4096> sink;
  for (int i = 0; i < kMaxReadsPerDatagram && state_ == DtlsState::kConnected; ++i) {
    ERR_clear_error();
    const int result = SSL_read(ssl_.get(), sink.data(), static_cast<int>(sink.size()));
    if (result > 0) {
      ++counters_.application_data_ignored;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {
      // RFC 5246 §7.2.1: answer close_notify with our own and stop.
      SSL_shutdown(ssl_.get());
      ERR_clear_error();
      flush_output();
      state_ = DtlsState::kClosed;
      listener_.on_dtls_closed();
      return;
    }
    flush_output();
    fail(openssl_error("DTLS connection failed"));
    return;
  }
  OPENSSL_cleanse(sink.data(), sink.size());
  flush_output();
}

void DtlsTransport::fail(std::string_view reason) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return;
  state_ = DtlsState::kFailed;
  cancel_timers();
  output_.clear();
  CHORUS_LOG(kInfo, "dtls", "DTLS-SRTP failed", {"reason", reason},
             {"role", role_ == DtlsRole::kClient ? "client" : "server"});
  listener_.on_dtls_failed(reason);
}

void DtlsTransport::flush_output() {
  auto datagrams = std::move(output_);
  output_.clear();
  for (const auto& datagram : datagrams) {
    ++counters_.datagrams_out;
    listener_.on_dtls_send(datagram);
  }
}

void DtlsTransport::arm_retransmit_timer() {
  if (retransmit_timer_ != TimerQueue::kNoTimer) timers_.cancel(retransmit_timer_);
  retransmit_timer_ = TimerQueue::kNoTimer;
  timeval left{};
  if (DTLSv1_get_timeout(ssl_.get(), &left) != 1) return;  // no flight waiting for an answer
  const auto remaining = std::chrono::seconds(left.tv_sec) + std::chrono::microseconds(left.tv_usec);
  const Millis delay = std::max(std::chrono::ceil<Millis>(remaining), kMinTimerDelay);
  retransmit_timer_ = timers_.schedule(delay, [this] {
    retransmit_timer_ = TimerQueue::kNoTimer;
    on_retransmit_timer();
  });
}

void DtlsTransport::on_retransmit_timer() {
  if (state_ != DtlsState::kConnecting) return;
  ERR_clear_error();
  // Returns 0 when OpenSSL's wall-clock timer is not due yet (the TimerQueue ran early or on
  // another clock); we simply wait for the time it still reports.
  const int result = DTLSv1_handle_timeout(ssl_.get());
  if (result < 0) {
    fail(openssl_error("DTLS handshake retransmission failed"));
    return;
  }
  if (result > 0 && ++counters_.retransmissions > options_.max_retransmissions) {
    fail("DTLS handshake got no answer after " + std::to_string(options_.max_retransmissions) + " retransmissions");
    return;
  }
  flush_output();
  arm_retransmit_timer();
}

void DtlsTransport::cancel_timers() {
  if (retransmit_timer_ != TimerQueue::kNoTimer) timers_.cancel(retransmit_timer_);
  if (deadline_timer_ != TimerQueue::kNoTimer) timers_.cancel(deadline_timer_);
  retransmit_timer_ = TimerQueue::kNoTimer;
  deadline_timer_ = TimerQueue::kNoTimer;
}

void DtlsTransport::write_record(std::span<const std::uint8_t> records) {
  // One write may hold several records (OpenSSL flushes a buffered record with the next one).
  // RFC 6347 §4.1.1: records may share a datagram but never straddle two, so split the write at
  // record boundaries and pack whole records into datagrams up to the MTU.
  while (!records.empty()) {
    std::size_t length = records.size();
    if (records.size() >= kDtlsRecordHeaderLength) {
      const std::size_t body = static_cast<std::size_t>(records[11]) << 8 | records[12];
      length = std::min(records.size(), kDtlsRecordHeaderLength + body);
    }
    const auto record = records.first(length);
    records = records.subspan(length);
    if (!output_.empty() && output_.back().size() + record.size() <= options_.mtu) {
      output_.back().insert(output_.back().end(), record.begin(), record.end());
    } else {
      output_.emplace_back(record.begin(), record.end());
    }
  }
}

int DtlsTransport::read_datagram(std::span<std::uint8_t> out) {
  const std::size_t copied = std::min(out.size(), input_.size());
  if (copied > 0) std::memcpy(out.data(), input_.data(), copied);
  input_ = {};  // a datagram is read once, whole or truncated
  return static_cast<int>(copied);
}

std::chrono::microseconds DtlsTransport::next_retransmit_duration(std::chrono::microseconds current) const {
  if (current.count() == 0)
    return std::chrono::duration_cast<std::chrono::microseconds>(options_.initial_retransmit_timeout);
  return std::min(current * 2, kMaxRetransmitTimeout);
}

unsigned int DtlsTransport::timer_callback(SSL* ssl, unsigned int current_us) {
  const auto* self = static_cast<const DtlsTransport*>(SSL_get_app_data(ssl));
  const std::chrono::microseconds current(current_us);
  if (self == nullptr)
    return static_cast<unsigned int>(current_us == 0 ? 1000000u : std::min(current_us * 2, 60000000u));
  return static_cast<unsigned int>(self->next_retransmit_duration(current).count());
}

}  // namespace chorus::media::dtls
