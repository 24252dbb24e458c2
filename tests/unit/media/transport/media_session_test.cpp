// MediaSession on a real media worker over loopback sockets: the echo engine, SDES keys, the
// source policy and ICE checks, seen from a peer socket as a phone would see them. Every wait
// polls with a bound; nothing depends on timing to pass.
#include "media/transport/media_session.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "media/dtls/dtls_certificate.hpp"
#include "media/dtls/dtls_context.hpp"
#include "media/dtls/dtls_transport.hpp"
#include "media/echo/echo_sink.hpp"
#include "media/stun/stun_builder.hpp"
#include "media/transport/socket_address.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::media {
namespace media_session_test {

using namespace std::chrono_literals;

constexpr std::uint32_t kServerSsrc = 0x5e7e5e7e;

class MediaSessionTest : public ::testing::Test {
 protected:
  MediaSessionTest() : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 3)) {
    lease_ = pool_.allocate();
  }

  MediaSessionSpec spec(MediaKeying keying, std::optional<IceCredentials> ice = std::nullopt) {
    MediaSessionSpec spec;
    spec.id = 7;
    spec.label = "test-call";
    spec.rtp_fd = ::dup(lease_->rtp_fd());
    spec.rtcp_fd = ::dup(lease_->rtcp_fd());
    spec.remote_rtp = phone_.address();
    spec.keying = std::move(keying);
    spec.ice = std::move(ice);
    spec.local_ssrc = kServerSsrc;
    spec.cname = "test";
    return spec;
  }

  void start_echo(MediaSessionSpec spec) {
    worker_.add_session(std::move(spec), [] { return std::make_unique<EchoSink>(); });
  }

  [[nodiscard]] TransportAddress server() const { return server_of(*lease_); }
  static TransportAddress server_of(const PortLease& lease) {
    return *parse_transport_address("127.0.0.1", lease.rtp_port());
  }

  // Polls the worker's counters until `done` holds, for at most two seconds.
  template <typename Done>
  MediaCountersSnapshot counters_when(Done done) {
    for (int i = 0; i < 200; ++i) {
      auto now = worker_.counters();
      if (done(now)) return now;
      std::this_thread::sleep_for(10ms);
    }
    return worker_.counters();
  }

  std::uint16_t first_port_ = chorus::test::free_udp_range(4);
  UdpPortPool pool_;
  std::unique_ptr<PortLease> lease_;
  Phone phone_;
  MediaWorker worker_{0, nullptr};
};

SdesKeying sdes() {
  return SdesKeying{SrtpSuite::kAesCm128HmacSha1_80, key(100), key(1)};
}

TEST_F(MediaSessionTest, EchoesPlainRtpWithTheServerSsrc) {
  start_echo(spec(std::monostate{}));
  phone_.send_rtp(server(), 1, 0x11);
  auto echoed = phone_.receive();
  ASSERT_EQ(echoed.size(), 172U);
  EXPECT_EQ(ssrc_of(echoed), kServerSsrc);
  EXPECT_EQ(echoed[3], 1);      // sequence kept
  EXPECT_EQ(echoed[12], 0x11);  // payload kept
}

// A socket's drain stops after kMaxDatagramsPerWake (so one flooding peer cannot hold the worker)
// and the poller reports the socket again: every datagram of a longer burst is still taken.
TEST_F(MediaSessionTest, ABurstLongerThanOneWakeIsTakenWhole) {
  start_echo(spec(std::monostate{}));
  phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  const auto before = worker_.counters().packets_in;
  std::promise<void> release;
  worker_.post([held = release.get_future().share()] { held.wait(); });  // the burst queues meanwhile
  constexpr std::uint16_t kBurst = 3 * kMaxDatagramsPerWake + 5;
  for (std::uint16_t i = 0; i < kBurst; ++i) phone_.send_rtp(server(), static_cast<std::uint16_t>(2 + i));
  release.set_value();
  const auto seen = counters_when([&](const auto& c) { return c.packets_in >= before + kBurst; });
  EXPECT_EQ(seen.packets_in, before + kBurst);
}

// The ingress limit: a datagram over kMaxDatagramSize is read (one byte past the limit tells it
// apart), counted as malformed and dropped whole; the call goes on.
TEST_F(MediaSessionTest, ADatagramOverTheSizeLimitIsDroppedCountedAndTheCallGoesOn) {
  start_echo(spec(std::monostate{}));
  const auto before = worker_.counters().dropped_malformed;
  auto oversized = phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());  // packet 1 itself, echoed
  oversized.resize(kMaxDatagramSize + 1, 0x55);
  phone_.send_raw(server(), oversized);
  const auto seen = counters_when([&](const auto& c) { return c.dropped_malformed > before; });
  EXPECT_EQ(seen.dropped_malformed, before + 1);
  phone_.send_rtp(server(), 2);
  EXPECT_FALSE(phone_.receive().empty());
}

TEST_F(MediaSessionTest, QualityIsPublishedForOtherThreads) {
  start_echo(spec(std::monostate{}));
  for (std::uint16_t sequence = 1; sequence <= 3; ++sequence) {
    phone_.send_rtp(server(), sequence);
    ASSERT_FALSE(phone_.receive().empty());
  }
  std::optional<StreamQuality> quality;
  for (int i = 0; i < 300 && (!quality || quality->packets_received < 3); ++i) {  // published once a second
    std::this_thread::sleep_for(10ms);
    quality = worker_.quality(7);
  }
  ASSERT_TRUE(quality.has_value());
  EXPECT_EQ(quality->packets_received, 3U);
  EXPECT_EQ(quality->packets_sent, 3U);
  EXPECT_EQ(quality->cumulative_lost, 0);
}

TEST_F(MediaSessionTest, EchoesSrtpReEncryptedWithTheServerKey) {
  phone_.key_with(key(1), key(100));
  start_echo(spec(sdes()));
  for (std::uint16_t sequence = 1; sequence <= 5; ++sequence) {
    phone_.send_rtp(server(), sequence, 0x22);
    auto echoed = phone_.receive();
    ASSERT_EQ(echoed.size(), 172U) << "packet " << sequence << " did not come back decryptable";
    EXPECT_EQ(ssrc_of(echoed), kServerSsrc);
    EXPECT_EQ(echoed[100], 0x22);
  }
  EXPECT_EQ(counters_when([](const auto& c) { return c.packets_out >= 5; }).packets_out, 5U);
}

TEST_F(MediaSessionTest, ReplayedPacketsAreDroppedCountedAndTheCallGoesOn) {
  phone_.key_with(key(1), key(100));
  start_echo(spec(sdes()));
  auto first = phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  for (int i = 0; i < 3; ++i) phone_.send_raw(server(), first);
  auto seen = counters_when([](const auto& c) { return c.dropped_replay >= 3; });
  EXPECT_EQ(seen.dropped_replay, 3U);
  phone_.send_rtp(server(), 2);
  EXPECT_FALSE(phone_.receive().empty());
}

TEST_F(MediaSessionTest, ForgedPacketsFailAuthenticationAndAreCounted) {
  phone_.key_with(key(1), key(100));
  start_echo(spec(sdes()));
  auto packet = phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  auto forged = phone_.send_rtp(server(), 2);  // sent once, genuine
  ASSERT_FALSE(phone_.receive().empty());
  forged[3] = 3;    // claims sequence 3 …
  forged[40] ^= 1;  // … with a tampered payload
  phone_.send_raw(server(), forged);
  auto seen = counters_when([](const auto& c) { return c.dropped_auth >= 1; });
  EXPECT_EQ(seen.dropped_auth, 1U);
  phone_.send_rtp(server(), 3);
  EXPECT_FALSE(phone_.receive().empty()) << "a forged packet must not poison sequence 3";
}

TEST_F(MediaSessionTest, AForeignSourceIsDroppedWhileTheCallerSpeaks) {
  phone_.key_with(key(1), key(100));
  start_echo(spec(sdes()));
  phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  Phone intruder;
  intruder.key_with(key(1), key(100));  // even with the right key (a leaked SDP) and the caller's SSRC,
  intruder.send_rtp(server(), 40000);   // a sequence number that does not continue its stream
  auto seen = counters_when([](const auto& c) { return c.dropped_source >= 1; });
  EXPECT_EQ(seen.dropped_source, 1U);
  EXPECT_EQ(seen.foreign_source_drops, 1U);
  EXPECT_TRUE(intruder.receive(200ms).empty());
  phone_.send_rtp(server(), 2);
  EXPECT_FALSE(phone_.receive().empty());
}

TEST_F(MediaSessionTest, SendsNothingToAnUnprovenSdpAddress) {
  // Reflection (issue 12): the SDP names a listener that never sends. Not one packet may reach it,
  // not even the RTCP report the session sends on its schedule.
  Phone victim;
  auto s = spec(std::monostate{});
  s.remote_rtp = victim.address();
  s.rtcp_mux = true;
  s.latch_window = 10s;  // the caller below speaks after the wait for the first report
  start_echo(std::move(s));
  // RFC 3550 §6.3.6/A.7: the first report is due 1.03–3.08 s after the start (td 2.5 s, randomised,
  // divided by e - 3/2); sent to the SDP address, it would arrive here.
  EXPECT_TRUE(victim.receive(3500ms).empty());
  // The caller's RTP proves where it lives: the echo goes there, still nothing to the SDP address.
  phone_.send_rtp(server(), 1);
  EXPECT_FALSE(phone_.receive().empty());
  EXPECT_TRUE(victim.receive(300ms).empty());
}

TEST_F(MediaSessionTest, ASilentPeerTimesOut) {
  auto s = spec(std::monostate{});
  s.media_timeout = 200ms;
  s.rtcp_mux = true;
  std::vector<std::uint64_t> reported;
  std::mutex mutex;
  worker_.set_media_timeout_handler([&](std::uint64_t id) {
    const std::lock_guard lock(mutex);
    reported.push_back(id);
  });
  start_echo(std::move(s));
  // The worker checks once a second: within a few seconds it reports session 7, once.
  const auto seen = counters_when([](const auto& c) { return c.media_timeouts >= 1; });
  EXPECT_EQ(seen.media_timeouts, 1U);
  std::this_thread::sleep_for(1100ms);
  const std::lock_guard lock(mutex);
  EXPECT_EQ(reported, std::vector<std::uint64_t>{7});
}

TEST_F(MediaSessionTest, LatchesToWhereThePhoneReallySendsFrom) {
  auto s = spec(std::monostate{});
  s.remote_rtp = *parse_transport_address("127.0.0.1", 9);  // what a NATed phone's SDP says
  start_echo(std::move(s));
  phone_.send_rtp(server(), 1);
  EXPECT_EQ(phone_.receive().size(), 172U);
  EXPECT_EQ(counters_when([](const auto& c) { return c.source_changes >= 1; }).source_changes, 1U);
}

TEST_F(MediaSessionTest, AReceiveOnlySessionIsProvenByThePeersAudio) {
  // A room system: audio from one port and a receive-only video port that never sends, its SDP
  // addresses on a host other than its signaling's (a proxy in between). Once its audio latched at
  // that host's IP, the video port is proven and gets what the session sends there (its RTCP
  // reports here). Another peer's session whose SDP names the same host is not proven by it.
  const auto first = chorus::test::free_udp_range(6);
  UdpPortPool pool("127.0.0.1", first, static_cast<std::uint16_t>(first + 5));
  std::array<std::unique_ptr<PortLease>, 3> leases{pool.allocate(), pool.allocate(), pool.allocate()};
  ASSERT_TRUE(leases[0] && leases[1] && leases[2]);
  Phone video_port;
  Phone other_port;
  auto session_on = [&](std::uint64_t id, std::uint64_t peer, const PortLease& lease, const Phone& remote) {
    auto s = spec(std::monostate{});
    ::close(s.rtp_fd);
    ::close(s.rtcp_fd);
    s.id = id;
    s.peer = peer;
    s.rtcp_mux = true;
    s.rtp_fd = ::dup(lease.rtp_fd());
    s.rtcp_fd = ::dup(lease.rtcp_fd());
    s.remote_rtp = remote.address();
    worker_.add_session(std::move(s), [] { return std::make_unique<EchoSink>(); });
  };
  session_on(1, 42, *leases[0], phone_);      // the room system's audio
  session_on(2, 42, *leases[1], video_port);  // its receive-only video
  session_on(3, 43, *leases[2], other_port);  // another caller's
  phone_.send_rtp(*parse_transport_address("127.0.0.1", leases[0]->rtp_port()), 1);
  EXPECT_FALSE(phone_.receive().empty());
  // The first report is due 1.03–3.08 s after the start (RFC 3550 A.7).
  EXPECT_FALSE(video_port.receive_raw(5000ms).empty());
  EXPECT_TRUE(other_port.receive_raw(1000ms).empty());
  EXPECT_EQ(worker_.counters().source_changes, 1U);  // only the audio latched
}

std::vector<std::uint8_t> binding_request(std::string_view username, std::string_view password, bool nominate) {
  std::array<std::uint8_t, stun::kMaxMessageSize> buffer{};
  stun::StunBuilder builder(buffer, stun::StunClass::kRequest, stun::kMethodBinding,
                            stun::TransactionId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  builder.add_username(username);
  builder.add_priority(0x6e7f1eff);
  builder.add_ice_controlling(0x0102030405060708);
  if (nominate) builder.add_use_candidate();
  builder.add_message_integrity(password);
  builder.add_fingerprint();
  auto bytes = builder.finish();
  return {bytes->begin(), bytes->end()};
}

TEST_F(MediaSessionTest, IceDropsMediaUntilAnAuthenticatedCheckValidatesTheSource) {
  const IceCredentials ice{"srvu", "server-password-0123456789", "phon"};
  start_echo(spec(std::monostate{}, ice));
  phone_.send_rtp(server(), 1);
  auto seen = counters_when([](const auto& c) { return c.dropped_source >= 1; });
  EXPECT_EQ(seen.dropped_source, 1U);
  EXPECT_TRUE(phone_.receive(200ms).empty());

  phone_.send_raw(server(), binding_request("srvu:phon", "wrong-password-000000000", true));
  auto error = phone_.receive();
  ASSERT_FALSE(error.empty());
  EXPECT_EQ(error[0], 0x01);  // Binding error response (0x0111)
  EXPECT_EQ(error[1], 0x11);

  phone_.send_raw(server(), binding_request("srvu:phon", ice.local_password, true));
  auto success = phone_.receive();
  ASSERT_FALSE(success.empty());
  EXPECT_EQ(success[0], 0x01);  // Binding success response (0x0101)
  EXPECT_EQ(success[1], 0x01);

  phone_.send_rtp(server(), 2);
  EXPECT_EQ(phone_.receive().size(), 172U);
  EXPECT_EQ(counters_when([](const auto& c) { return c.stun_answered >= 2; }).stun_answered, 2U);
}

// The phone's DTLS client: its flights go out of its socket to the server's port.
class PhoneDtls final : public dtls::DtlsTransportListener {
 public:
  PhoneDtls(Phone& phone, TransportAddress server) : phone_(phone), server_(server) {}
  void on_dtls_send(std::span<const std::uint8_t> datagram) override { phone_.send_raw(server_, datagram); }
  void on_dtls_connected(const dtls::DtlsSrtpKeys& keys) override { keys_ = keys; }
  void on_dtls_failed(std::string_view reason) override { failure_ = std::string(reason); }
  std::optional<dtls::DtlsSrtpKeys> keys_;
  std::string failure_;

 private:
  Phone& phone_;
  TransportAddress server_;
};

struct DtlsPeers {
  DtlsPeers()
      : server_certificate(*dtls::DtlsCertificate::generate()),
        phone_certificate(*dtls::DtlsCertificate::generate()),
        server_context(*dtls::DtlsContext::create(server_certificate)),
        phone_context(*dtls::DtlsContext::create(phone_certificate)) {}
  [[nodiscard]] std::vector<std::uint8_t> phone_fingerprint() const {
    auto bytes = phone_certificate.fingerprint_bytes();
    return {bytes.begin(), bytes.end()};
  }
  [[nodiscard]] std::vector<std::uint8_t> server_fingerprint() const {
    auto bytes = server_certificate.fingerprint_bytes();
    return {bytes.begin(), bytes.end()};
  }
  dtls::DtlsCertificate server_certificate;
  dtls::DtlsCertificate phone_certificate;
  dtls::DtlsContext server_context;
  dtls::DtlsContext phone_context;
};

class DtlsMediaSessionTest : public MediaSessionTest {
 protected:
  DtlsMediaSessionTest() { worker_.emplace(0, &peers_.server_context); }
  ~DtlsMediaSessionTest() override { worker_.reset(); }

  void start_dtls_echo() {
    auto s = spec(DtlsKeying{/*we_are_client=*/false, peers_.phone_fingerprint()}, ice_);
    s.rtcp_mux = true;
    worker_->add_session(std::move(s), [] { return std::make_unique<EchoSink>(); });
  }

  // Runs the phone's handshake to the end: its flights out, the server's flights in.
  bool handshake(dtls::DtlsTransport& client, PhoneDtls& listener) {
    client.start();
    for (int i = 0; i < 50 && !listener.keys_ && listener.failure_.empty(); ++i) {
      auto datagram = phone_.receive_raw(200ms);
      if (!datagram.empty() && datagram[0] >= 20 && datagram[0] <= 63) client.on_datagram(datagram);
    }
    return listener.keys_.has_value();
  }

  template <typename Done>
  MediaCountersSnapshot dtls_counters_when(Done done) {
    for (int i = 0; i < 200; ++i) {
      if (auto now = worker_->counters(); done(now)) return now;
      std::this_thread::sleep_for(10ms);
    }
    return worker_->counters();
  }

  const IceCredentials ice_{"srvu", "server-password-0123456789", "phon"};
  DtlsPeers peers_;
  std::optional<MediaWorker> worker_;
  ManualTimerQueue phone_timers_;
};

std::vector<std::uint8_t> binding_request(std::string_view username, std::string_view password, bool nominate);

TEST_F(DtlsMediaSessionTest, HandshakeAfterIceKeysSrtpBothWays) {
  start_dtls_echo();
  phone_.send_raw(server(), binding_request("srvu:phon", ice_.local_password, true));
  ASSERT_FALSE(phone_.receive_raw().empty());  // the Binding success response

  PhoneDtls listener(phone_, server());
  dtls::DtlsTransport client(peers_.phone_context, dtls::DtlsRole::kClient, peers_.server_fingerprint(), listener,
                             phone_timers_);
  ASSERT_TRUE(handshake(client, listener)) << listener.failure_;
  EXPECT_EQ(dtls_counters_when([](const auto& c) { return c.dtls_connected >= 1; }).dtls_connected, 1U);

  phone_.key_with(listener.keys_->local_key_salt, listener.keys_->remote_key_salt, listener.keys_->suite);
  phone_.send_rtp(server(), 1, 0x33);
  auto echoed = phone_.receive();
  ASSERT_EQ(echoed.size(), 172U) << "the echo must decrypt with the server's DTLS-derived key";
  EXPECT_EQ(echoed[50], 0x33);
}

TEST_F(DtlsMediaSessionTest, ClientHelloFromAnUnvalidatedAddressNeverReachesTheHandshake) {
  start_dtls_echo();
  // CVE-2023-51443 class: an attacker races a ClientHello before ICE validated anyone.
  Phone attacker;
  PhoneDtls attacker_listener(attacker, server());
  dtls::DtlsTransport attacker_client(peers_.phone_context, dtls::DtlsRole::kClient, peers_.server_fingerprint(),
                                      attacker_listener, phone_timers_);
  attacker_client.start();
  EXPECT_EQ(dtls_counters_when([](const auto& c) { return c.dropped_dtls_unvalidated >= 1; }).dropped_dtls_unvalidated,
            1U);
  EXPECT_TRUE(attacker.receive_raw(200ms).empty()) << "no ServerHello for an unvalidated address";

  // The genuine phone validates its address and completes its own handshake.
  phone_.send_raw(server(), binding_request("srvu:phon", ice_.local_password, true));
  ASSERT_FALSE(phone_.receive_raw().empty());
  PhoneDtls listener(phone_, server());
  dtls::DtlsTransport client(peers_.phone_context, dtls::DtlsRole::kClient, peers_.server_fingerprint(), listener,
                             phone_timers_);
  EXPECT_TRUE(handshake(client, listener)) << listener.failure_;
}

TEST_F(DtlsMediaSessionTest, AWrongCertificateFailsTheHandshakeAndIsCounted) {
  auto s = spec(DtlsKeying{false, std::vector<std::uint8_t>(32, 0xAB)}, ice_);  // not the phone's fingerprint
  s.rtcp_mux = true;
  worker_->add_session(std::move(s), [] { return std::make_unique<EchoSink>(); });
  phone_.send_raw(server(), binding_request("srvu:phon", ice_.local_password, true));
  ASSERT_FALSE(phone_.receive_raw().empty());
  PhoneDtls listener(phone_, server());
  dtls::DtlsTransport client(peers_.phone_context, dtls::DtlsRole::kClient, peers_.server_fingerprint(), listener,
                             phone_timers_);
  handshake(client, listener);
  EXPECT_EQ(dtls_counters_when([](const auto& c) { return c.dtls_failed >= 1; }).dtls_failed, 1U);
  EXPECT_EQ(worker_->counters().dtls_connected, 0U);
}

TEST_F(MediaSessionTest, RemovingTheSessionStopsTheEcho) {
  start_echo(spec(std::monostate{}));
  phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  worker_.remove_session(7);
  ASSERT_EQ(counters_when([](const auto& c) { return c.sessions == 0; }).sessions, 0U);
  // The port lease still holds the port: datagrams now queue on its socket, unread, unanswered.
  phone_.send_rtp(server(), 2);
  EXPECT_TRUE(phone_.receive(300ms).empty());
}

// A session on a port lease's own sockets (the conference's way since issue 13: no dup) borrows them:
// it holds the lease until it has left the worker, and ending it neither closes them nor lets go of
// the lease before then.
TEST_F(MediaSessionTest, ASessionOnBorrowedSocketsHoldsTheirOwnerAndLeavesThemOpen) {
  auto s = spec(std::monostate{});
  std::shared_ptr<PortLease> lease = std::move(lease_);
  ::close(s.rtp_fd);
  ::close(s.rtcp_fd);
  s.rtp_fd = lease->rtp_fd();
  s.rtcp_fd = lease->rtcp_fd();
  s.rtcp_mux = true;  // the muxed RTCP socket was closed by the session when it owned it
  s.sockets_owner = lease;
  start_echo(std::move(s));
  phone_.send_rtp(server_of(*lease), 1);
  ASSERT_FALSE(phone_.receive().empty());
  EXPECT_EQ(lease.use_count(), 2) << "the session on the worker holds the lease";
  worker_.remove_session(7);
  ASSERT_EQ(counters_when([](const auto& c) { return c.sessions == 0; }).sessions, 0U);
  EXPECT_EQ(lease.use_count(), 1) << "the session let go of the lease when it ended";
  EXPECT_NE(::fcntl(lease->rtp_fd(), F_GETFD), -1) << "the session did not close the lease's RTP socket";
  EXPECT_NE(::fcntl(lease->rtcp_fd(), F_GETFD), -1) << "nor its RTCP socket";
}

TEST_F(MediaSessionTest, ANewCallerStreamContinuesOurSequenceWithoutAJump) {
  phone_.key_with(key(1), key(100));
  start_echo(spec(sdes()));
  phone_.send_rtp(server(), 1000);
  ASSERT_EQ(phone_.receive().size(), 172U);
  // The phone restarts its stream after hold: new SSRC, a sequence half the space away. Our
  // outbound SRTP must not see the jump, or the phone's rollover counter guess breaks.
  alignas(16) std::array<std::uint8_t, 512> buffer{};
  const std::array<std::uint8_t, 12> header{0x80, 0x00, 0x80, 0x00, 0, 0, 0x10, 0, 0xca, 0xfe, 0xba, 0xbe};
  std::copy(header.begin(), header.end(), buffer.begin());
  auto sender = *SrtpSession::create(SrtpSuite::kAesCm128HmacSha1_80, key(1), SrtpDirection::kOutbound);
  const auto length = *sender.protect_rtp(buffer, 172);
  phone_.send_raw(server(), std::span(buffer).first(length));
  auto echoed = phone_.receive();
  ASSERT_EQ(echoed.size(), 172U) << "the echo of the new stream must still decrypt";
  EXPECT_EQ((echoed[2] << 8) | echoed[3], 1001);
  EXPECT_EQ(ssrc_of(echoed), kServerSsrc);
}

TEST_F(MediaSessionTest, BundledSessionDropsWhatNoSectionClaims) {
  auto s = spec(std::monostate{});
  s.bundle = BundleDemuxConfig{{BundleStreamConfig{"a0", {0}, {}, {}}}, 0};  // audio takes PCMU (PT 0) only
  start_echo(std::move(s));
  phone_.send_rtp(server(), 1);
  ASSERT_EQ(phone_.receive().size(), 172U);
  // The same source, an SSRC now bound to "a0", but a payload type that section never negotiated.
  std::array<std::uint8_t, 20> stray{0x80, 96, 0, 2, 0, 0, 1, 0x40, 0, 0, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
  phone_.send_raw(server(), stray);
  EXPECT_EQ(counters_when([](const auto& c) { return c.dropped_unroutable >= 1; }).dropped_unroutable, 1U);
  EXPECT_TRUE(phone_.receive(200ms).empty());
}

TEST_F(MediaSessionTest, EndingTheSessionSendsAnRtcpByeWithItsReport) {
  auto s = spec(std::monostate{});
  s.rtcp_mux = true;
  start_echo(std::move(s));
  phone_.send_rtp(server(), 1);
  ASSERT_FALSE(phone_.receive().empty());
  worker_.remove_session(7);
  auto compound = phone_.receive();
  ASSERT_GE(compound.size(), 8U);
  // RFC 3550 §6.1: a compound starts with SR (200) or RR (201) and ends here with BYE (203).
  EXPECT_TRUE(compound[1] == 200 || compound[1] == 201);
  bool has_bye = false;
  for (std::size_t at = 0; at + 4 <= compound.size();) {
    has_bye = has_bye || compound[at + 1] == 203;
    at += 4 * (1 + ((std::size_t{compound[at + 2]} << 8) | compound[at + 3]));
  }
  EXPECT_TRUE(has_bye);
}

// RFC 3550 §6.3.7: a participant that never sent an RTP or RTCP packet must not send a BYE when it
// leaves (a caller who hangs up before the room sent it anything).
TEST_F(MediaSessionTest, EndingASessionThatNeverSentSendsNoBye) {
  auto s = spec(std::monostate{});
  s.rtcp_mux = true;
  s.remote_proven = true;  // a BYE could go: the peer's address is known
  // RFC 3550 §6.2-6.3: at 8 bit/s of session bandwidth the first report is due in ~half an hour, so
  // the session sends nothing before it ends (and has no engine to send RTP).
  s.session_bandwidth_bps = 8;
  worker_.add_session(std::move(s), [] { return nullptr; });
  ASSERT_EQ(counters_when([](const auto& c) { return c.sessions == 1; }).sessions, 1U);
  worker_.remove_session(7);
  ASSERT_EQ(counters_when([](const auto& c) { return c.sessions == 0; }).sessions, 0U);
  // A BYE is sent inside the session's destructor, before the gauge falls: it would be queued here.
  EXPECT_TRUE(phone_.receive(0ms).empty());
  EXPECT_EQ(worker_.counters().packets_out, 0U);
}

}  // namespace media_session_test
}  // namespace chorus::media
