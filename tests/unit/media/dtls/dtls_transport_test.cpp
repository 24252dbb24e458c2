#include "media/dtls/dtls_transport.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/srtp/srtp_session.hpp"

namespace chorus::media::dtls {
namespace dtls_transport_test {

using namespace std::chrono_literals;
using Datagram = std::vector<std::uint8_t>;

DtlsCertificate generate_or_abort() {
  auto certificate = DtlsCertificate::generate();
  if (!certificate) {
    ADD_FAILURE() << certificate.error();
    std::abort();
  }
  return std::move(*certificate);
}

DtlsContext context_or_abort(const DtlsCertificate& certificate, std::string_view profiles = kDefaultSrtpProfiles) {
  auto context = DtlsContext::create(certificate, profiles);
  if (!context) {
    ADD_FAILURE() << context.error();
    std::abort();
  }
  return std::move(*context);
}

std::vector<std::uint8_t> fingerprint_of(const DtlsCertificate& certificate) {
  const auto bytes = certificate.fingerprint_bytes();
  return {bytes.begin(), bytes.end()};
}

// One endpoint's listener: what it sends goes into `outbox`, what it learns is recorded.
struct Recorder final : DtlsTransportListener {
  std::deque<Datagram> outbox;
  std::optional<DtlsSrtpKeys> keys;
  int connected_calls = 0;
  std::vector<std::string> failures;
  int closed_calls = 0;
  std::size_t largest_datagram = 0;

  void on_dtls_send(std::span<const std::uint8_t> datagram) override {
    outbox.emplace_back(datagram.begin(), datagram.end());
    largest_datagram = std::max(largest_datagram, datagram.size());
  }
  void on_dtls_connected(const DtlsSrtpKeys& k) override {
    ++connected_calls;
    keys = k;
  }
  void on_dtls_failed(std::string_view reason) override { failures.emplace_back(reason); }
  void on_dtls_closed() override { ++closed_calls; }
};

// Two in-process endpoints, A and B, on one manual clock; the test loop carries datagrams.
struct Pair {
  ManualTimerQueue timers;
  DtlsCertificate certificate_a = generate_or_abort();
  DtlsCertificate certificate_b = generate_or_abort();
  DtlsContext context_a;
  DtlsContext context_b;
  Recorder a;
  Recorder b;
  std::unique_ptr<DtlsTransport> transport_a;
  std::unique_ptr<DtlsTransport> transport_b;

  struct Setup {
    DtlsRole role_a = DtlsRole::kClient;
    std::string_view profiles_a = kDefaultSrtpProfiles;
    std::string_view profiles_b = kDefaultSrtpProfiles;
    bool a_expects_wrong_fingerprint = false;
    bool b_expects_wrong_fingerprint = false;
    DtlsTransportOptions options;
  };

  explicit Pair(const Setup& setup)
      : context_a(context_or_abort(certificate_a, setup.profiles_a)),
        context_b(context_or_abort(certificate_b, setup.profiles_b)) {
    auto expected_by_a = fingerprint_of(certificate_b);
    auto expected_by_b = fingerprint_of(certificate_a);
    if (setup.a_expects_wrong_fingerprint) expected_by_a[7] ^= 0x01;
    if (setup.b_expects_wrong_fingerprint) expected_by_b[31] ^= 0x80;
    const DtlsRole role_b = setup.role_a == DtlsRole::kClient ? DtlsRole::kServer : DtlsRole::kClient;
    transport_a = std::make_unique<DtlsTransport>(context_a, setup.role_a, expected_by_a, a, timers, setup.options);
    transport_b = std::make_unique<DtlsTransport>(context_b, role_b, expected_by_b, b, timers, setup.options);
  }

  void start() {
    transport_a->start();
    transport_b->start();
  }

  // Delivers queued datagrams both ways until none are left (bounded: a handshake is a few flights).
  void pump() {
    for (int round = 0; round < 200 && (!a.outbox.empty() || !b.outbox.empty()); ++round) {
      if (!a.outbox.empty()) {
        const Datagram datagram = std::move(a.outbox.front());
        a.outbox.pop_front();
        transport_b->on_datagram(datagram);
      }
      if (!b.outbox.empty()) {
        const Datagram datagram = std::move(b.outbox.front());
        b.outbox.pop_front();
        transport_a->on_datagram(datagram);
      }
    }
    EXPECT_TRUE(a.outbox.empty() && b.outbox.empty()) << "datagrams still in flight after 200 rounds";
  }
};

// Protects an RTP packet with `sender`'s outbound key and unprotects it with `receiver`'s
// inbound key: the keys from the two handshakes are each other's mirror image.
void expect_srtp_flows(const DtlsSrtpKeys& sender, const DtlsSrtpKeys& receiver) {
  auto outbound = SrtpSession::create(sender.suite, sender.local_key_salt, SrtpDirection::kOutbound);
  auto inbound = SrtpSession::create(receiver.suite, receiver.remote_key_salt, SrtpDirection::kInbound);
  ASSERT_TRUE(outbound) << outbound.error();
  ASSERT_TRUE(inbound) << inbound.error();
  // RFC 3550 §5.1: V=2, PT 111, seq 1, timestamp 960, SSRC 0x11223344, then 160 payload octets.
  std::vector<std::uint8_t> packet = {0x80, 111, 0x00, 0x01, 0x00, 0x00, 0x03, 0xc0, 0x11, 0x22, 0x33, 0x44};
  for (int i = 0; i < 160; ++i) packet.push_back(static_cast<std::uint8_t>(i * 7));
  const std::vector<std::uint8_t> original = packet;
  packet.resize(packet.size() + kSrtpMaxTrailer);
  const auto protected_length = outbound->protect_rtp(packet, original.size());
  ASSERT_TRUE(protected_length);
  EXPECT_GT(*protected_length, original.size());
  const auto plain_length = inbound->unprotect_rtp(packet, *protected_length);
  ASSERT_TRUE(plain_length);
  ASSERT_EQ(*plain_length, original.size());
  EXPECT_TRUE(std::equal(original.begin(), original.end(), packet.begin()));
}

struct HandshakeCase {
  DtlsRole role_a;
  std::string_view profile;
  SrtpSuite suite;
};

class DtlsHandshake : public ::testing::TestWithParam<HandshakeCase> {};

TEST_P(DtlsHandshake, CompletesWithMatchingFingerprintsAndMirroredKeys) {
  const auto& param = GetParam();
  Pair pair({.role_a = param.role_a, .profiles_a = param.profile, .profiles_b = param.profile});
  pair.start();
  pair.pump();
  ASSERT_EQ(pair.transport_a->state(), DtlsState::kConnected) << (pair.a.failures.empty() ? "" : pair.a.failures[0]);
  ASSERT_EQ(pair.transport_b->state(), DtlsState::kConnected) << (pair.b.failures.empty() ? "" : pair.b.failures[0]);
  EXPECT_EQ(pair.a.connected_calls, 1);
  EXPECT_EQ(pair.b.connected_calls, 1);
  const DtlsSrtpKeys& a = *pair.a.keys;
  const DtlsSrtpKeys& b = *pair.b.keys;
  EXPECT_EQ(a.suite, param.suite);
  EXPECT_EQ(b.suite, param.suite);
  for (const auto* key : {&a.local_key_salt, &a.remote_key_salt, &b.local_key_salt, &b.remote_key_salt}) {
    EXPECT_EQ(key->size(), key_salt_length(param.suite));
  }
  EXPECT_EQ(a.local_key_salt, b.remote_key_salt);
  EXPECT_EQ(a.remote_key_salt, b.local_key_salt);
  EXPECT_NE(a.local_key_salt, a.remote_key_salt);
  expect_srtp_flows(a, b);
  expect_srtp_flows(b, a);
  // Every datagram of a flight fits the MTU.
  EXPECT_GT(pair.transport_a->counters().datagrams_out, 0u);
  EXPECT_LE(pair.a.largest_datagram, DtlsTransportOptions{}.mtu);
  EXPECT_LE(pair.b.largest_datagram, DtlsTransportOptions{}.mtu);
  EXPECT_EQ(pair.transport_a->counters().dropped, 0u);
  EXPECT_EQ(pair.timers.pending(), 0u) << "no retransmission or deadline timer survives the handshake";
}

INSTANTIATE_TEST_SUITE_P(
    DtlsRolesAndProfiles, DtlsHandshake,
    ::testing::Values(HandshakeCase{DtlsRole::kClient, "SRTP_AEAD_AES_128_GCM", SrtpSuite::kAeadAes128Gcm},
                      HandshakeCase{DtlsRole::kServer, "SRTP_AEAD_AES_128_GCM", SrtpSuite::kAeadAes128Gcm},
                      HandshakeCase{DtlsRole::kClient, "SRTP_AES128_CM_SHA1_80", SrtpSuite::kAesCm128HmacSha1_80},
                      HandshakeCase{DtlsRole::kServer, "SRTP_AES128_CM_SHA1_80", SrtpSuite::kAesCm128HmacSha1_80}));

TEST(DtlsTransport, ServerPrefersGcmAndAcceptsAClientThatOffersOnlyCm) {
  {
    Pair pair({.role_a = DtlsRole::kClient});
    pair.start();
    pair.pump();
    ASSERT_TRUE(pair.a.keys && pair.b.keys);
    EXPECT_EQ(pair.b.keys->suite, SrtpSuite::kAeadAes128Gcm);
  }
  {
    Pair pair({.role_a = DtlsRole::kClient, .profiles_a = "SRTP_AES128_CM_SHA1_80"});
    pair.start();
    pair.pump();
    ASSERT_TRUE(pair.a.keys && pair.b.keys);
    EXPECT_EQ(pair.b.keys->suite, SrtpSuite::kAesCm128HmacSha1_80);
  }
}

TEST(DtlsTransport, SmallMtuFragmentsFlightsAndTheHandshakeStillCompletes) {
  constexpr std::size_t kSmallMtu = 300;  // below one certificate: OpenSSL must fragment the message
  Pair pair({.role_a = DtlsRole::kServer, .options = {.mtu = kSmallMtu}});
  pair.start();
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kConnected);
  EXPECT_LE(pair.a.largest_datagram, kSmallMtu);
  EXPECT_LE(pair.b.largest_datagram, kSmallMtu);
  EXPECT_GT(pair.transport_a->counters().datagrams_out, 3u);
}

TEST(DtlsTransport, HandshakeWithoutACommonSrtpProfileFails) {
  Pair pair(
      {.role_a = DtlsRole::kClient, .profiles_a = "SRTP_AES128_CM_SHA1_80", .profiles_b = "SRTP_AEAD_AES_128_GCM"});
  pair.start();
  pair.pump();
  EXPECT_NE(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.a.connected_calls + pair.b.connected_calls, 0);
  EXPECT_FALSE(pair.a.failures.empty() && pair.b.failures.empty());
}

class DtlsFingerprintMismatch : public ::testing::TestWithParam<DtlsRole> {};

// The side whose expected fingerprint is wrong fails, whichever role it has; it never hands out keys.
TEST_P(DtlsFingerprintMismatch, FailsOnTheSideThatChecks) {
  Pair pair({.role_a = GetParam(), .a_expects_wrong_fingerprint = true});
  pair.start();
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kFailed);
  ASSERT_EQ(pair.a.failures.size(), 1u);
  EXPECT_EQ(pair.a.failures[0], "fingerprint mismatch");
  EXPECT_EQ(pair.a.connected_calls, 0);
  EXPECT_FALSE(pair.a.keys);
  // B's check passed; A's close_notify then ends B's session.
  EXPECT_TRUE(pair.b.failures.empty());
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kClosed);
  // A refuses everything afterwards.
  const auto dropped = pair.transport_a->counters().dropped;
  pair.transport_a->on_datagram(Datagram(40, 23));
  EXPECT_EQ(pair.transport_a->counters().dropped, dropped + 1);
  EXPECT_EQ(pair.a.failures.size(), 1u);
}

TEST_P(DtlsFingerprintMismatch, BothSidesCheck) {
  Pair pair({.role_a = GetParam(), .a_expects_wrong_fingerprint = true, .b_expects_wrong_fingerprint = true});
  pair.start();
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kFailed);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kFailed);
  EXPECT_EQ(pair.a.connected_calls + pair.b.connected_calls, 0);
  ASSERT_EQ(pair.b.failures.size(), 1u);
  EXPECT_EQ(pair.b.failures[0], "fingerprint mismatch");
}

INSTANTIATE_TEST_SUITE_P(DtlsRoles, DtlsFingerprintMismatch, ::testing::Values(DtlsRole::kClient, DtlsRole::kServer));

// OpenSSL times flights on the wall clock (DTLSv1_get_timeout); the manual clock only wakes the
// transport. So these tests use a short initial timeout and let that much real time pass before
// advancing the manual clock past it.
constexpr auto kShortTimeout = 40ms;

void let_openssl_timer_expire(std::chrono::milliseconds timeout) {
  std::this_thread::sleep_for(timeout + 15ms);
}

TEST(DtlsTransport, LostFirstFlightIsRetransmittedAndTheHandshakeCompletes) {
  Pair pair({.role_a = DtlsRole::kClient, .options = {.initial_retransmit_timeout = kShortTimeout}});
  pair.start();
  ASSERT_FALSE(pair.a.outbox.empty());
  pair.a.outbox.clear();  // the ClientHello is lost
  pair.pump();
  EXPECT_EQ(pair.transport_b->counters().datagrams_in, 0u);
  let_openssl_timer_expire(kShortTimeout);
  pair.timers.advance(kShortTimeout + 15ms);
  EXPECT_EQ(pair.transport_a->counters().retransmissions, 1u);
  ASSERT_FALSE(pair.a.outbox.empty()) << "the ClientHello went out again";
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.a.connected_calls, 1);
  EXPECT_EQ(pair.b.connected_calls, 1);
}

TEST(DtlsTransport, LostServerFlightIsRecoveredByTheClientsRetransmission) {
  Pair pair({.role_a = DtlsRole::kClient, .options = {.initial_retransmit_timeout = kShortTimeout}});
  pair.start();
  pair.transport_b->on_datagram(pair.a.outbox.front());  // ClientHello arrives
  pair.a.outbox.clear();
  ASSERT_FALSE(pair.b.outbox.empty());
  pair.b.outbox.clear();  // the server's whole first flight is lost
  let_openssl_timer_expire(kShortTimeout);
  pair.timers.advance(kShortTimeout + 15ms);
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kConnected);
}

TEST(DtlsTransport, PeerThatNeverAnswersFailsAfterTheHandshakeTimeout) {
  Pair pair({.role_a = DtlsRole::kClient});
  pair.transport_a->start();  // B never starts and never sees anything
  pair.a.outbox.clear();
  pair.timers.advance(29s);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnecting);
  pair.timers.advance(2s);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kFailed);
  ASSERT_EQ(pair.a.failures.size(), 1u);
  EXPECT_EQ(pair.a.failures[0], "DTLS handshake timed out");
  EXPECT_EQ(pair.timers.pending(), 0u);
  pair.timers.advance(60s);
  EXPECT_EQ(pair.a.failures.size(), 1u) << "failed is reported once";
}

TEST(DtlsTransport, ServerThatNeverHearsAClientHelloFailsAfterTheHandshakeTimeout) {
  Pair pair({.role_a = DtlsRole::kServer});
  pair.transport_a->start();
  EXPECT_TRUE(pair.a.outbox.empty()) << "a server waits for the ClientHello";
  pair.timers.advance(31s);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kFailed);
  EXPECT_EQ(pair.a.failures.size(), 1u);
}

TEST(DtlsTransport, GivesUpAfterTheRetransmissionBound) {
  Pair pair({.role_a = DtlsRole::kClient,
             .options = {.initial_retransmit_timeout = kShortTimeout, .max_retransmissions = 1}});
  pair.transport_a->start();
  pair.a.outbox.clear();
  let_openssl_timer_expire(kShortTimeout);
  pair.timers.advance(kShortTimeout + 15ms);
  EXPECT_EQ(pair.transport_a->counters().retransmissions, 1u);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnecting);
  let_openssl_timer_expire(2 * kShortTimeout);  // OpenSSL doubled the timer
  pair.timers.advance(2 * kShortTimeout + 15ms);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kFailed);
  ASSERT_EQ(pair.a.failures.size(), 1u);
  EXPECT_NE(pair.a.failures[0].find("retransmissions"), std::string::npos) << pair.a.failures[0];
}

TEST(DtlsTransport, GarbageIsDroppedAndCountedWithoutBreakingALaterHandshake) {
  Pair pair({.role_a = DtlsRole::kClient});
  pair.transport_b->start();
  const Datagram short_record = {22, 0xfe, 0xfd, 0, 0};
  const Datagram rtp(200, 0x80);  // RFC 7983: 128..191 is RTP/RTCP
  const Datagram stun(40, 0x00);  // 0..3 is STUN
  const Datagram huge(kMaxDtlsDatagram + 1, 22);
  Datagram bad_version(60, 0x5a);  // a handshake record with a version no DTLS has
  bad_version[0] = 22;
  bad_version[1] = 0x01;
  bad_version[2] = 0x02;
  for (const Datagram* datagram :
       std::initializer_list<const Datagram*>{&short_record, &rtp, &stun, &huge, &bad_version})
    pair.transport_b->on_datagram(*datagram);
  EXPECT_EQ(pair.transport_b->counters().dropped, 4u);
  EXPECT_EQ(pair.transport_b->counters().datagrams_in, 1u)
      << "the record-shaped one reached OpenSSL, which discards it";
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kConnecting);
  EXPECT_TRUE(pair.b.outbox.empty());
  pair.transport_a->start();
  pair.pump();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kConnected);
  // After the handshake too: junk is dropped and the session stays up.
  for (const Datagram* datagram : std::initializer_list<const Datagram*>{&short_record, &rtp, &bad_version})
    pair.transport_a->on_datagram(*datagram);
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.transport_a->counters().dropped, 2u);
}

TEST(DtlsTransport, DatagramsBeforeStartAreDropped) {
  Pair pair({.role_a = DtlsRole::kClient});
  pair.transport_a->start();
  pair.transport_b->on_datagram(pair.a.outbox.front());
  EXPECT_EQ(pair.transport_b->counters().dropped, 1u);
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kNew);
  EXPECT_TRUE(pair.b.outbox.empty());
}

TEST(DtlsTransport, CloseSendsCloseNotifyAndThePeerReportsClosed) {
  Pair pair({.role_a = DtlsRole::kServer});
  pair.start();
  pair.pump();
  ASSERT_EQ(pair.transport_b->state(), DtlsState::kConnected);
  const auto sent = pair.transport_a->counters().datagrams_out;
  pair.transport_a->close();
  EXPECT_EQ(pair.transport_a->state(), DtlsState::kClosed);
  EXPECT_EQ(pair.transport_a->counters().datagrams_out, sent + 1) << "one close_notify";
  pair.transport_a->close();  // idempotent
  EXPECT_EQ(pair.transport_a->counters().datagrams_out, sent + 1);
  pair.pump();  // B answers with its own close_notify, which A drops
  EXPECT_EQ(pair.transport_b->state(), DtlsState::kClosed);
  EXPECT_EQ(pair.b.closed_calls, 1);
  EXPECT_TRUE(pair.b.failures.empty());
  EXPECT_EQ(pair.transport_a->counters().dropped, 1u);
}

TEST(DtlsTransport, WrongLengthExpectedFingerprintFailsAtStart) {
  ManualTimerQueue timers;
  const auto certificate = generate_or_abort();
  auto context = context_or_abort(certificate);
  Recorder recorder;
  DtlsTransport transport(context, DtlsRole::kClient, std::vector<std::uint8_t>(20, 1), recorder, timers);
  transport.start();
  EXPECT_EQ(transport.state(), DtlsState::kFailed);
  EXPECT_EQ(recorder.failures.size(), 1u);
  EXPECT_TRUE(recorder.outbox.empty());
}

TEST(DtlsTransport, DestructionCancelsItsTimers) {
  ManualTimerQueue timers;
  const auto certificate = generate_or_abort();
  auto context = context_or_abort(certificate);
  Recorder recorder;
  {
    DtlsTransport transport(context, DtlsRole::kClient, fingerprint_of(certificate), recorder, timers);
    transport.start();
    EXPECT_GT(timers.pending(), 0u);
  }
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(60s);  // nothing left to fire into a destroyed transport
  EXPECT_TRUE(recorder.failures.empty());
}

TEST(DtlsRoles, AnswerRoleFollowsTheOffersSetupAttribute) {
  // RFC 5763 §5: actpass and active make the answerer passive (DTLS server); passive makes it active.
  EXPECT_EQ(answer_role_for_offer_setup("actpass"), DtlsRole::kServer);
  EXPECT_EQ(answer_role_for_offer_setup("active"), DtlsRole::kServer);
  EXPECT_EQ(answer_role_for_offer_setup("passive"), DtlsRole::kClient);
  EXPECT_EQ(answer_role_for_offer_setup("PASSIVE"), DtlsRole::kClient);
  EXPECT_EQ(answer_role_for_offer_setup(""), DtlsRole::kServer);
  EXPECT_EQ(setup_attribute_for(DtlsRole::kServer), "passive");
  EXPECT_EQ(setup_attribute_for(DtlsRole::kClient), "active");
}

TEST(DtlsSrtpKeys, ProfileIdsMapToSuites) {
  EXPECT_EQ(suite_for_srtp_profile(0x0001), SrtpSuite::kAesCm128HmacSha1_80);  // RFC 5764 §4.1.2
  EXPECT_EQ(suite_for_srtp_profile(0x0007), SrtpSuite::kAeadAes128Gcm);        // RFC 7714 §14.2
  EXPECT_FALSE(suite_for_srtp_profile(0x0005));                                // SRTP_NULL_HMAC_SHA1_80
}

}  // namespace dtls_transport_test
}  // namespace chorus::media::dtls
