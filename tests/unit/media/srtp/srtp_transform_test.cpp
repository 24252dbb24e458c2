// SrtpTransform (media/srtp/srtp_transform.hpp) held to libsrtp2, the reference implementation
// browsers and SIP phones run: for every suite, the same packets protected by both must be the same
// octets — across a sequence-number rollover, with CSRCs and header extensions, for several SSRCs
// interleaved, and for SRTCP — and each must unprotect what the other protected. Then what libsrtp
// cannot show: forged packets leave no state behind, and the stream table stays bounded.
#include "media/srtp/srtp_transform.hpp"

#include <srtp2/srtp.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "media/srtp/libsrtp_reference.hpp"
#include "media/srtp/srtp_session.hpp"

namespace chorus::media {
namespace srtp_transform_test {

std::vector<std::uint8_t> master_key(SrtpSuite suite) {
  std::vector<std::uint8_t> key(key_salt_length(suite));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0xa5 ^ (i * 29));
  return key;
}

using Bare = LibsrtpSession;

Bare libsrtp_session(SrtpSuite suite, bool outbound) {
  Bare session = make_libsrtp_session(suite, master_key(suite), outbound);
  EXPECT_NE(session, nullptr);
  return session;
}

std::unique_ptr<SrtpTransform> ours(SrtpSuite suite, bool outbound) {
  auto transform = SrtpTransform::create(suite, master_key(suite), outbound);
  EXPECT_NE(transform, nullptr);
  return transform;
}

// RFC 3550 §5.1, §5.3.1: `csrcs` CSRCs, a header extension of `extension_words` words when > 0.
std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::uint32_t ssrc, std::size_t payload, int csrcs = 0,
                                     int extension_words = 0) {
  std::vector<std::uint8_t> p;
  p.push_back(static_cast<std::uint8_t>(0x80 | (extension_words > 0 ? 0x10 : 0) | csrcs));
  p.push_back(96);
  p.push_back(static_cast<std::uint8_t>(seq >> 8));
  p.push_back(static_cast<std::uint8_t>(seq));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>((seq * 160U) >> (24 - 8 * i)));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(ssrc >> (24 - 8 * i)));
  for (int i = 0; i < 4 * csrcs; ++i) p.push_back(static_cast<std::uint8_t>(i + 1));
  if (extension_words > 0) {
    p.insert(p.end(), {0xbe, 0xde, 0, static_cast<std::uint8_t>(extension_words)});
    for (int i = 0; i < 4 * extension_words; ++i) p.push_back(static_cast<std::uint8_t>(0x30 + i));
  }
  for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(i * 7 + seq));
  return p;
}

// RFC 3550 §6.4.1: a sender report from `ssrc` with `blocks` report blocks.
std::vector<std::uint8_t> rtcp_packet(std::uint32_t ssrc, int blocks, std::uint8_t fill) {
  const auto words = static_cast<std::uint8_t>(6 + 6 * blocks);
  std::vector<std::uint8_t> p{static_cast<std::uint8_t>(0x80 | blocks), 200, 0, words};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(ssrc >> (24 - 8 * i)));
  p.resize(4 * (words + 1U), fill);
  return p;
}

// A 4-octet aligned buffer holding `packet` with room for any trailer.
struct Wire {
  explicit Wire(const std::vector<std::uint8_t>& packet) : length(packet.size()) {
    std::memcpy(bytes.data(), packet.data(), packet.size());
  }
  [[nodiscard]] std::vector<std::uint8_t> octets() const { return {bytes.begin(), bytes.begin() + length}; }
  alignas(8) std::array<std::uint8_t, 2048> bytes{};
  std::size_t length;
};

// libsrtp's srtp_protect & co. on a Wire.
srtp_err_status_t libsrtp(srtp_err_status_t (*operation)(srtp_t, void*, int*), srtp_t session, Wire& wire) {
  int length = static_cast<int>(wire.length);
  const auto status = operation(session, wire.bytes.data(), &length);
  wire.length = static_cast<std::size_t>(length);
  return status;
}

class SrtpTransformSuite : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpTransformSuite, RtpIsTheSameOctetsAsLibsrtpAcrossARolloverAndEachReadsTheOther) {
  const SrtpSuite suite = GetParam();
  auto our_sender = ours(suite, true);
  auto our_receiver = ours(suite, false);
  const Bare their_sender = libsrtp_session(suite, true);
  const Bare their_receiver = libsrtp_session(suite, false);
  const std::array<std::uint32_t, 2> ssrcs{0x01020304, 0xcafef00d};
  for (int i = 0; i < 300; ++i) {
    const auto seq = static_cast<std::uint16_t>(65400 + i);  // wraps at i = 136: ROC 0 -> 1
    const auto plain = rtp_packet(seq, ssrcs[i % 2], static_cast<std::size_t>(i % 5 == 0 ? 0 : 20 + i % 250), i % 3,
                                  i % 4 == 1 ? 2 : 0);
    Wire mine(plain);
    Wire theirs(plain);
    ASSERT_EQ(our_sender->protect_rtp(mine.bytes, mine.length), SrtpOutcome::kOk) << i;
    ASSERT_EQ(libsrtp(srtp_protect, their_sender.get(), theirs), srtp_err_status_ok) << i;
    ASSERT_EQ(mine.octets(), theirs.octets()) << "packet " << i << " seq " << seq;
    ASSERT_EQ(libsrtp(srtp_unprotect, their_receiver.get(), mine), srtp_err_status_ok) << i;
    ASSERT_EQ(our_receiver->unprotect_rtp(theirs.bytes, theirs.length), SrtpOutcome::kOk) << i;
    EXPECT_EQ(mine.octets(), plain);
    EXPECT_EQ(theirs.octets(), plain);
  }
}

TEST_P(SrtpTransformSuite, RtcpIsTheSameOctetsAsLibsrtpAndEachReadsTheOther) {
  const SrtpSuite suite = GetParam();
  auto our_sender = ours(suite, true);
  auto our_receiver = ours(suite, false);
  const Bare their_sender = libsrtp_session(suite, true);
  const Bare their_receiver = libsrtp_session(suite, false);
  for (int i = 0; i < 40; ++i) {
    const auto plain = rtcp_packet(i % 2 == 0 ? 0x11111111 : 0x22222222, i % 4, static_cast<std::uint8_t>(i));
    Wire mine(plain);
    Wire theirs(plain);
    ASSERT_EQ(our_sender->protect_rtcp(mine.bytes, mine.length), SrtpOutcome::kOk) << i;
    ASSERT_EQ(libsrtp(srtp_protect_rtcp, their_sender.get(), theirs), srtp_err_status_ok) << i;
    ASSERT_EQ(mine.octets(), theirs.octets()) << "packet " << i;
    ASSERT_EQ(libsrtp(srtp_unprotect_rtcp, their_receiver.get(), mine), srtp_err_status_ok) << i;
    ASSERT_EQ(our_receiver->unprotect_rtcp(theirs.bytes, theirs.length), SrtpOutcome::kOk) << i;
    EXPECT_EQ(mine.octets(), plain);
    EXPECT_EQ(theirs.octets(), plain);
  }
}

TEST_P(SrtpTransformSuite, ForgedPacketsLeaveNoStateBehind) {
  const SrtpSuite suite = GetParam();
  auto sender = ours(suite, true);
  auto receiver = ours(suite, false);
  Wire first(rtp_packet(1000, 0xabcdef01, 160));
  ASSERT_EQ(sender->protect_rtp(first.bytes, first.length), SrtpOutcome::kOk);
  const Wire replay = first;
  ASSERT_EQ(receiver->unprotect_rtp(first.bytes, first.length), SrtpOutcome::kOk);
  // Thousands of SSRCs with tags that do not verify: refused, and no stream table entry pushed out
  // the one that authenticated, so its replay is still caught.
  for (std::uint32_t ssrc = 1; ssrc <= 5 * SrtpTransform::kMaxStreams; ++ssrc) {
    Wire forged(rtp_packet(7, ssrc, 160));
    forged.length += 16;  // a "tag" of zeros
    ASSERT_EQ(receiver->unprotect_rtp(forged.bytes, forged.length), SrtpOutcome::kAuthFailure);
  }
  Wire again = replay;
  EXPECT_EQ(receiver->unprotect_rtp(again.bytes, again.length), SrtpOutcome::kReplay);
}

TEST_P(SrtpTransformSuite, TheStreamTableIsBoundedAndKeepsTheRecentStreams) {
  const SrtpSuite suite = GetParam();
  auto sender = ours(suite, true);
  auto receiver = ours(suite, false);
  std::vector<Wire> firsts;
  for (std::uint32_t ssrc = 1; ssrc <= 2 * SrtpTransform::kMaxStreams; ++ssrc) {
    Wire wire(rtp_packet(500, ssrc, 40));
    ASSERT_EQ(sender->protect_rtp(wire.bytes, wire.length), SrtpOutcome::kOk);
    firsts.push_back(wire);
    ASSERT_EQ(receiver->unprotect_rtp(wire.bytes, wire.length), SrtpOutcome::kOk);
  }
  EXPECT_EQ(receiver->stream_count(), SrtpTransform::kMaxStreams);
  EXPECT_EQ(sender->stream_count(), SrtpTransform::kMaxStreams);
  // The most recent streams are the ones kept: the last still knows its packet.
  Wire recent = firsts.back();
  EXPECT_EQ(receiver->unprotect_rtp(recent.bytes, recent.length), SrtpOutcome::kReplay);
}

TEST_P(SrtpTransformSuite, ATamperedPacketFailsAndItsGenuineTwinStillPasses) {
  const SrtpSuite suite = GetParam();
  auto sender = ours(suite, true);
  auto receiver = ours(suite, false);
  Wire wire(rtp_packet(42, 0x55667788, 200, 1, 1));
  ASSERT_EQ(sender->protect_rtp(wire.bytes, wire.length), SrtpOutcome::kOk);
  for (std::size_t at : {std::size_t{1}, std::size_t{20}, wire.length - 1}) {
    Wire tampered = wire;
    tampered.bytes[at] ^= 0x01;
    EXPECT_EQ(receiver->unprotect_rtp(tampered.bytes, tampered.length), SrtpOutcome::kAuthFailure) << at;
  }
  Wire rtcp(rtcp_packet(0x55667788, 1, 9));
  ASSERT_EQ(sender->protect_rtcp(rtcp.bytes, rtcp.length), SrtpOutcome::kOk);
  Wire rtcp_tampered = rtcp;
  rtcp_tampered.bytes[10] ^= 0x80;
  EXPECT_EQ(receiver->unprotect_rtcp(rtcp_tampered.bytes, rtcp_tampered.length), SrtpOutcome::kAuthFailure);
  EXPECT_EQ(receiver->unprotect_rtp(wire.bytes, wire.length), SrtpOutcome::kOk);
  EXPECT_EQ(receiver->unprotect_rtcp(rtcp.bytes, rtcp.length), SrtpOutcome::kOk);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, SrtpTransformSuite,
                         ::testing::Values(SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32,
                                           SrtpSuite::kAeadAes128Gcm, SrtpSuite::kAeadAes256Gcm),
                         [](const auto& info) { return std::string(suite_name(info.param)); });

}  // namespace srtp_transform_test
}  // namespace chorus::media
