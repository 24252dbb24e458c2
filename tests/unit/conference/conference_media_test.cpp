// ConferenceService with media workers: SDP answers carry the keys and ICE attributes a secure
// call needs (RFC 4568 SDES, RFC 5763 DTLS-SRTP, RFC 8839 ICE-lite), the room's encryption
// policy refuses plain RTP, and every accepted stream gets a media session on the room's worker
// that goes away with the call.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "conference/conference_service.hpp"
#include "media/dtls/dtls_certificate.hpp"
#include "media/dtls/dtls_context.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "tests/unit/conference/worker_sessions.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::conference {
namespace conference_media_test {

using namespace std::chrono_literals;

constexpr std::string_view kPhoneFingerprint =
    "sha-256 EE:AF:A5:AA:1C:05:28:E0:14:0B:B6:4C:47:AE:53:9C:5A:6D:7E:79:E6:E7:95:F0:21:01:67:AC:8F:80:78:96";

std::string sdes_offer(std::string_view crypto_lines, std::string_view direction = "sendrecv") {
  return "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n" +
         std::string(crypto_lines) + "a=" + std::string(direction) + "\r\n";
}

constexpr std::string_view kGoodCrypto =
    "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

// What baresip 1.0 offers with mediaenc=dtls_srtp and medianat=ice (session-level ICE and DTLS).
std::string dtls_ice_offer(bool rtcp_mux, bool with_fingerprint = true) {
  std::string offer =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "a=ice-ufrag:Hg5Ayjv\r\na=ice-pwd:XU2OZBBT2oyxFC7hTotznB6lye6shyD\r\na=setup:actpass\r\n";
  if (with_fingerprint) offer += "a=fingerprint:" + std::string(kPhoneFingerprint) + "\r\n";
  offer += "m=audio 24738 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
  if (rtcp_mux) offer += "a=rtcp-mux\r\n";
  offer += "a=candidate:1 1 UDP 2113929471 127.0.0.1 24738 typ host\r\n";
  return offer;
}

constexpr std::string_view kPlainOffer =
    "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

sip::SipMessage any_invite() {
  auto parsed = sip::parse_message(
      "INVITE sip:echo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmedia\r\n"
      "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:echo@127.0.0.1>\r\nCall-ID: media-1\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  return parsed ? *parsed : sip::SipMessage{};
}

sip::CallInfo call_to(std::string room, sip::CallHandle handle) {
  sip::CallInfo info;
  info.handle = handle;
  info.call_id = "media-" + std::to_string(handle);
  info.request_user = std::move(room);
  info.from_uri = "sip:alice@example.com";
  return info;
}

std::vector<std::string> values(const sdp::AttributeList& list, std::string_view name) {
  std::vector<std::string> out;
  for (auto value : list.attribute_values(name)) out.emplace_back(value);
  return out;
}

struct ConferenceMediaTest : ::testing::Test {
  ConferenceMediaTest() {
    certificate = *media::dtls::DtlsCertificate::generate();
    context = *media::dtls::DtlsContext::create(*certificate);
    workers = std::make_unique<media::MediaWorkerPool>(1, &*context);
    first = chorus::test::free_udp_range(8);
    pool = std::make_unique<media::UdpPortPool>("127.0.0.1", first, static_cast<std::uint16_t>(first + 7));
    rooms.add(echo_room());
    Room secure = default_room();
    secure.id = "secure";
    secure.dial_in_number = "2000";
    secure.encryption = RoomEncryption::kRequired;
    rooms.add(secure);
    SecurityOptions security;
    security.dtls_fingerprint = context->local_fingerprint();
    service = std::make_unique<ConferenceService>(rooms, *pool, sdp::MediaPolicy{}, workers.get(), security);
  }

  sip::CallDecision call(std::string room, sip::CallHandle handle, const std::string& offer) {
    return service->on_incoming_call(call_to(std::move(room), handle), any_invite(), offer);
  }

  sdp::SessionDescription answer(const sip::CallDecision& decision) {
    auto parsed = sdp::parse_sdp(decision.sdp);
    EXPECT_TRUE(parsed.has_value()) << decision.sdp;
    return parsed ? *parsed : sdp::SessionDescription{};
  }

  std::uint64_t sessions_when(std::uint64_t expected) {
    return chorus::conference::test_support::sessions_when(*workers, expected);
  }

  std::optional<media::dtls::DtlsCertificate> certificate;
  std::optional<media::dtls::DtlsContext> context;
  std::unique_ptr<media::MediaWorkerPool> workers;
  std::uint16_t first = 0;
  std::unique_ptr<media::UdpPortPool> pool;
  RoomDirectory rooms;
  std::unique_ptr<ConferenceService> service;
};

TEST_F(ConferenceMediaTest, SdesOfferGetsOneCryptoLineWithTheOfferedTagAndAFreshKey) {
  auto decision = call("9196", 1, sdes_offer(kGoodCrypto));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  ASSERT_EQ(sdp.media.size(), 1U);
  EXPECT_EQ(sdp.media[0].protocol, "RTP/SAVP");
  const auto crypto = values(sdp.media[0], "crypto");
  ASSERT_EQ(crypto.size(), 1U);
  auto ours = media::parse_crypto_attribute(crypto[0]);
  ASSERT_TRUE(ours.has_value()) << crypto[0];
  EXPECT_EQ(ours->tag, 7U);  // RFC 4568 §7.1.2: the tag of the accepted line
  EXPECT_EQ(ours->suite, media::SrtpSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(crypto[0].find("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"), std::string::npos) << "our key is our own";
  EXPECT_EQ(sessions_when(1), 1U);
  ASSERT_EQ(service->participant(1)->media.size(), 1U);
}

TEST_F(ConferenceMediaTest, SdesWithoutAUsableSuiteIs488WithAWarning) {
  auto decision =
      call("echo", 1, sdes_offer("a=crypto:1 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm\r\n"));
  EXPECT_EQ(decision.status, 488);
  ASSERT_EQ(decision.extra_headers.size(), 1U);
  EXPECT_EQ(decision.extra_headers[0].name, "Warning");
  EXPECT_EQ(service->participant_count(), 0U);
  EXPECT_EQ(pool->bound_ports(), 0U);
}

TEST_F(ConferenceMediaTest, DtlsWithIceIsAnsweredPassiveWithOurFingerprintAndIceLite) {
  auto decision = call("echo", 1, dtls_ice_offer(/*rtcp_mux=*/false));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  EXPECT_TRUE(sdp.has_attribute("ice-lite"));  // RFC 8839 §5.3: session level
  const auto& m = sdp.media.at(0);
  EXPECT_EQ(m.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(m.attribute_value("setup"), "passive");  // RFC 5763 §5: answer to actpass
  EXPECT_EQ(m.attribute_value("fingerprint"), "sha-256 " + context->local_fingerprint());
  const auto ufrag = m.attribute_value("ice-ufrag");
  const auto password = m.attribute_value("ice-pwd");
  ASSERT_TRUE(ufrag && password);
  EXPECT_GE(ufrag->size(), 4U);
  EXPECT_GE(password->size(), 22U);  // RFC 8445 §5.3: at least 128 bits
  const auto candidates = values(m, "candidate");
  ASSERT_EQ(candidates.size(), 2U);  // RTP and RTCP: no rtcp-mux offered
  const auto port = std::to_string(m.port);
  EXPECT_EQ(candidates[0], "1 1 UDP 2130706431 127.0.0.1 " + port + " typ host");
  EXPECT_EQ(candidates[1], "1 2 UDP 2130706430 127.0.0.1 " + std::to_string(m.port + 1) + " typ host");
  EXPECT_EQ(sessions_when(1), 1U);
}

TEST_F(ConferenceMediaTest, RtcpMuxNeedsOneCandidate) {
  auto decision = call("echo", 1, dtls_ice_offer(/*rtcp_mux=*/true));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  EXPECT_TRUE(sdp.media.at(0).has_attribute("rtcp-mux"));
  EXPECT_EQ(values(sdp.media.at(0), "candidate").size(), 1U);
}

TEST_F(ConferenceMediaTest, DtlsWithoutFingerprintIs488) {
  auto decision = call("echo", 1, dtls_ice_offer(false, /*with_fingerprint=*/false));
  EXPECT_EQ(decision.status, 488);
  EXPECT_EQ(pool->bound_ports(), 0U);
}

TEST_F(ConferenceMediaTest, RoomRequiringEncryptionRefusesPlainRtpAndTakesSrtp) {
  auto plain = call("2000", 1, std::string(kPlainOffer));
  EXPECT_EQ(plain.status, 488);
  ASSERT_EQ(plain.extra_headers.size(), 1U);
  EXPECT_NE(plain.extra_headers[0].value.find("302"), std::string::npos);
  EXPECT_NE(plain.extra_headers[0].value.find("Encryption required"), std::string::npos);
  EXPECT_EQ(call("2000", 2, sdes_offer(kGoodCrypto)).status, 200);
  EXPECT_EQ(call("echo", 3, std::string(kPlainOffer)).status, 200) << "the echo room takes plain RTP";
}

TEST_F(ConferenceMediaTest, HoldKeepsOurKeyAndTheSession) {
  auto first_answer = call("echo", 1, sdes_offer(kGoodCrypto));
  ASSERT_EQ(first_answer.status, 200);
  const auto key_before = values(answer(first_answer).media[0], "crypto");
  auto hold = service->on_remote_offer(1, sdes_offer(kGoodCrypto, "sendonly"));
  ASSERT_EQ(hold.status, 200) << hold.reason;
  auto parsed = sdp::parse_sdp(hold.sdp);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(values(parsed->media[0], "crypto"), key_before);
  EXPECT_EQ(parsed->media[0].direction(), sdp::Direction::kRecvOnly);
  EXPECT_EQ(service->participant(1)->media.size(), 1U);
  EXPECT_EQ(sessions_when(1), 1U);
}

TEST_F(ConferenceMediaTest, EndOfCallRemovesTheSessionAndFreesThePorts) {
  ASSERT_EQ(call("echo", 1, sdes_offer(kGoodCrypto)).status, 200);
  ASSERT_EQ(sessions_when(1), 1U);
  service->on_call_ended(1, "BYE");
  EXPECT_EQ(sessions_when(0), 0U);
  EXPECT_EQ(pool->bound_ports(), 0U);
}

TEST_F(ConferenceMediaTest, BundledAudioIsAnsweredInTheGroupWithItsMidExtension) {
  // A WebRTC-style offer: audio and video bundled, the MID extension on id 4. Video is refused
  // (port 0) and so leaves the group (RFC 8843 §7.3.3); audio's mid is the answer's group.
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "a=group:BUNDLE a0 v1\r\n"
      "m=audio 40000 RTP/SAVPF 0\r\na=mid:a0\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
      std::string(kGoodCrypto) + "m=video 40000 RTP/SAVPF 96\r\na=mid:v1\r\na=rtpmap:96 VP8/90000\r\n" +
      std::string(kGoodCrypto);
  auto decision = call("echo", 1, offer);
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  EXPECT_EQ(sdp.attribute_value("group"), "BUNDLE a0");
  EXPECT_EQ(sdp.media.at(0).attribute_value("extmap"), "4 urn:ietf:params:rtp-hdrext:sdes:mid");
  EXPECT_EQ(sdp.media.at(1).port, 0);
  const auto& bundle = service->participant(1)->media.at(0).security.bundle;
  ASSERT_TRUE(bundle.has_value());
  EXPECT_EQ(bundle->mid_extension_id, 4);
  ASSERT_EQ(bundle->streams.size(), 1U);
  EXPECT_EQ(bundle->streams[0].mid, "a0");
}

TEST(HostCandidates, PrioritiesFollowRfc8445TypePreferenceForHosts) {
  const auto candidates = host_candidates("[2001:db8::1]", 30000, false);
  ASSERT_EQ(candidates.size(), 2U);
  EXPECT_EQ(candidates[0].value, "1 1 UDP 2130706431 2001:db8::1 30000 typ host");
  EXPECT_EQ(candidates[1].value, "1 2 UDP 2130706430 2001:db8::1 30001 typ host");
}

}  // namespace conference_media_test
}  // namespace chorus::conference
