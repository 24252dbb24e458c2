// StunMessage: the RFC 5769 vectors parse, verify (MESSAGE-INTEGRITY, FINGERPRINT) and decode;
// every length is checked, so truncated, oversized, mis-cookied and overrunning messages are
// rejected; unknown comprehension-required attributes are reported for a 420.
#include "media/stun/stun_message.hpp"
#include "tests/unit/media/stun/rfc5769_vectors.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace chorus::media::stun {
namespace stun_message_test {

std::vector<std::uint8_t> copy_of(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// Bytes of a Binding request header with the given attribute bytes after it (length set to match).
std::vector<std::uint8_t> request_with(std::vector<std::uint8_t> attributes) {
  std::vector<std::uint8_t> message = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  message.insert(message.end(), rfc5769::kTransactionId.begin(), rfc5769::kTransactionId.end());
  message[2] = static_cast<std::uint8_t>(attributes.size() >> 8);
  message[3] = static_cast<std::uint8_t>(attributes.size());
  message.insert(message.end(), attributes.begin(), attributes.end());
  return message;
}

TEST(StunMessage, ParsesRfc5769SampleRequest) {
  auto message = StunMessage::parse(rfc5769::kSampleRequest);
  ASSERT_TRUE(message.has_value()) << to_string(message.error());
  EXPECT_EQ(message->message_class(), StunClass::kRequest);
  EXPECT_EQ(message->method(), kMethodBinding);
  EXPECT_EQ(message->transaction_id(), rfc5769::kTransactionId);
  EXPECT_EQ(message->software(), "STUN test client");
  EXPECT_EQ(message->username(), "evtj:h6vY");
  EXPECT_EQ(message->priority(), 0x6e0001ffu);
  EXPECT_EQ(message->ice_controlled(), 0x932ff9b151263b36u);
  EXPECT_FALSE(message->ice_controlling().has_value());
  EXPECT_FALSE(message->use_candidate());
  EXPECT_TRUE(message->unknown_required().empty());
}

TEST(StunMessage, Rfc5769SampleRequestIntegrityAndFingerprintVerify) {
  auto message = StunMessage::parse(rfc5769::kSampleRequest);
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(check_integrity(*message, rfc5769::kPassword));
  EXPECT_TRUE(check_fingerprint(*message));
}

TEST(StunMessage, Rfc5769Ipv4ResponseDecodesXorMappedAddress) {
  auto message = StunMessage::parse(rfc5769::kSampleIpv4Response);
  ASSERT_TRUE(message.has_value()) << to_string(message.error());
  EXPECT_EQ(message->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(message->method(), kMethodBinding);
  EXPECT_EQ(message->software(), "test vector");
  EXPECT_TRUE(check_integrity(*message, rfc5769::kPassword));
  EXPECT_TRUE(check_fingerprint(*message));
  EXPECT_EQ(message->xor_mapped_address(), TransportAddress::ipv4({192, 0, 2, 1}, 32853));
}

TEST(StunMessage, Rfc5769Ipv6ResponseDecodesXorMappedAddress) {
  auto message = StunMessage::parse(rfc5769::kSampleIpv6Response);
  ASSERT_TRUE(message.has_value()) << to_string(message.error());
  EXPECT_TRUE(check_integrity(*message, rfc5769::kPassword));
  EXPECT_TRUE(check_fingerprint(*message));
  const auto expected = TransportAddress::ipv6(
      {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 32853);
  EXPECT_EQ(message->xor_mapped_address(), expected);
}

TEST(StunMessage, TamperedByteFailsIntegrity) {
  // Every byte the HMAC covers, flipped in turn, breaks it (the length field included).
  const std::size_t covered = 108 - 8 - 24;  // up to MESSAGE-INTEGRITY
  for (std::size_t at = 0; at < covered; ++at) {
    if (at == 2 || at == 3) continue;  // the length field: flipping it fails the parse instead
    auto bytes = copy_of(rfc5769::kSampleRequest);
    bytes[at] ^= 0x01;
    auto message = StunMessage::parse(bytes);
    if (!message) continue;  // e.g. an attribute length now overruns: rejected earlier
    EXPECT_FALSE(check_integrity(*message, rfc5769::kPassword)) << "byte " << at;
  }
}

TEST(StunMessage, TamperedIntegrityValueFailsIntegrity) {
  auto bytes = copy_of(rfc5769::kSampleRequest);
  bytes[80] ^= 0x80;  // first byte of the HMAC
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  EXPECT_FALSE(check_integrity(*message, rfc5769::kPassword));
}

TEST(StunMessage, WrongPasswordFailsIntegrity) {
  auto message = StunMessage::parse(rfc5769::kSampleRequest);
  ASSERT_TRUE(message.has_value());
  EXPECT_FALSE(check_integrity(*message, std::string_view("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_FALSE(check_integrity(*message, std::string_view("")));
}

TEST(StunMessage, TamperedByteFailsFingerprint) {
  auto bytes = copy_of(rfc5769::kSampleIpv4Response);
  bytes[30] ^= 0x20;  // inside SOFTWARE
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  EXPECT_FALSE(check_fingerprint(*message));
}

TEST(StunMessage, MissingAttributesFailBothChecks) {
  const auto bytes = request_with({});
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  EXPECT_FALSE(check_integrity(*message, rfc5769::kPassword));
  EXPECT_FALSE(check_fingerprint(*message));
  EXPECT_FALSE(message->username().has_value());
}

TEST(StunMessage, RejectsTruncatedDatagram) {
  for (std::size_t size = 0; size < rfc5769::kSampleRequest.size(); ++size) {
    auto message = StunMessage::parse(std::span(rfc5769::kSampleRequest).first(size));
    EXPECT_FALSE(message.has_value()) << size;
  }
  EXPECT_EQ(StunMessage::parse(std::span(rfc5769::kSampleRequest).first(19)).error(), StunParseError::kTooShort);
  EXPECT_EQ(StunMessage::parse(std::span(rfc5769::kSampleRequest).first(40)).error(), StunParseError::kLengthMismatch);
}

TEST(StunMessage, RejectsLengthLargerThanDatagram) {
  auto bytes = copy_of(rfc5769::kSampleRequest);
  bytes[3] = 0x5c;  // 0x58 + 4
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kLengthMismatch);
  bytes[3] = 0x59;  // not a multiple of 4
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kLengthMismatch);
}

TEST(StunMessage, RejectsBadMagicCookie) {
  auto bytes = copy_of(rfc5769::kSampleRequest);
  bytes[7] = 0x43;
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kNotStun);
  EXPECT_FALSE(peek_header(bytes).has_value());
}

TEST(StunMessage, RejectsTopBitsSet) {
  // RFC 7983: first byte 128..191 is RTP/RTCP, 20..63 DTLS; STUN is 0..3.
  auto bytes = copy_of(rfc5769::kSampleRequest);
  bytes[0] = 0x80;
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kNotStun);
}

TEST(StunMessage, RejectsDatagramAboveLimit) {
  std::vector<std::uint8_t> attributes(kMaxMessageSize, 0);
  // One huge comprehension-optional attribute would be valid STUN, but exceeds the ingress limit.
  auto bytes = request_with(attributes);
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kTooLarge);
}

TEST(StunMessage, RejectsAttributeLengthBeyondMessage) {
  auto bytes = copy_of(rfc5769::kSampleRequest);
  bytes[23] = 0x60;  // SOFTWARE claims 96 bytes
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kAttributeOverrun);
  // An attribute whose padding would run past the end: USERNAME of 5 bytes needs 8 after header.
  EXPECT_EQ(StunMessage::parse(request_with({0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', 'd'})).error(),
            StunParseError::kAttributeOverrun);
  // A partial attribute header.
  EXPECT_EQ(StunMessage::parse(request_with({0x00, 0x25, 0x00, 0x00, 0x00, 0x24, 0x00, 0x04})).error(),
            StunParseError::kAttributeOverrun);
}

TEST(StunMessage, RejectsKnownAttributeOfWrongSize) {
  // PRIORITY with 8 bytes, MESSAGE-INTEGRITY with 16, USE-CANDIDATE with a value, IPv4 family with 20 bytes.
  EXPECT_EQ(StunMessage::parse(request_with({0x00, 0x24, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 2})).error(),
            StunParseError::kBadAttributeValue);
  std::vector<std::uint8_t> short_integrity = {0x00, 0x08, 0x00, 0x10};
  short_integrity.resize(4 + 16);
  EXPECT_EQ(StunMessage::parse(request_with(short_integrity)).error(), StunParseError::kBadAttributeValue);
  EXPECT_EQ(StunMessage::parse(request_with({0x00, 0x25, 0x00, 0x04, 0, 0, 0, 0})).error(),
            StunParseError::kBadAttributeValue);
  std::vector<std::uint8_t> v4_as_v6 = {0x00, 0x20, 0x00, 0x14, 0x00, 0x01};
  v4_as_v6.resize(4 + 20);
  EXPECT_EQ(StunMessage::parse(request_with(v4_as_v6)).error(), StunParseError::kBadAttributeValue);
}

TEST(StunMessage, RejectsAttributeAfterFingerprint) {
  auto bytes = request_with({0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x25, 0x00, 0x00});
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kFingerprintNotLast);
}

TEST(StunMessage, IgnoresAttributesAfterMessageIntegrityButFingerprint) {
  // RFC 8489 §14.5: USE-CANDIDATE and an unknown required attribute after MESSAGE-INTEGRITY are ignored.
  std::vector<std::uint8_t> attributes = {0x00, 0x08, 0x00, 0x14};
  attributes.resize(24);
  attributes.insert(attributes.end(), {0x00, 0x25, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x00});
  const auto bytes = request_with(attributes);
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  EXPECT_FALSE(message->use_candidate());
  EXPECT_TRUE(message->unknown_required().empty());
  EXPECT_EQ(message->message_integrity_offset(), kHeaderSize);
}

TEST(StunMessage, DetectsUseCandidateAndIceControlling) {
  const auto bytes =
      request_with({0x00, 0x25, 0x00, 0x00, 0x80, 0x2a, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(message->use_candidate());
  EXPECT_EQ(message->ice_controlling(), 0x0102030405060708u);
}

TEST(StunMessage, ReportsUnknownComprehensionRequiredAttributes) {
  // 0x7f00 twice (reported once), 0x0003 (RFC 3489 CHANGE-REQUEST), and 0xc000 (optional: ignored).
  const auto bytes = request_with({0x7f, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04,
                                   0,    0,    0,    0,    0xc0, 0x00, 0x00, 0x01, 0xff, 0,    0,    0});
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message.has_value());
  ASSERT_EQ(message->unknown_required().size(), 2u);
  EXPECT_EQ(message->unknown_required()[0], 0x7f00);
  EXPECT_EQ(message->unknown_required()[1], 0x0003);
}

TEST(StunMessage, DecodesMethodAndClassBits) {
  // 0x0111 = Binding error response; 0x0011 = Binding indication; 0x0103 = Allocate success (RFC 8656).
  auto bytes = request_with({});
  bytes[0] = 0x01, bytes[1] = 0x11;
  EXPECT_EQ(peek_header(bytes)->message_class, StunClass::kErrorResponse);
  bytes[0] = 0x00, bytes[1] = 0x11;
  EXPECT_EQ(peek_header(bytes)->message_class, StunClass::kIndication);
  bytes[0] = 0x01, bytes[1] = 0x03;
  EXPECT_EQ(peek_header(bytes)->message_class, StunClass::kSuccessResponse);
  EXPECT_EQ(peek_header(bytes)->method, 0x003);
  bytes[0] = 0x3e, bytes[1] = 0xef;  // every method bit set, class bits clear
  EXPECT_EQ(peek_header(bytes)->method, 0x0FFF);
  EXPECT_EQ(peek_header(bytes)->message_class, StunClass::kRequest);
}

TEST(StunMessage, Crc32MatchesCheckValue) {
  // The CRC-32/ISO-HDLC check value: CRC of "123456789".
  constexpr std::string_view kCheck = "123456789";
  EXPECT_EQ(crc32(std::span(reinterpret_cast<const std::uint8_t*>(kCheck.data()), kCheck.size())), 0xCBF43926u);
}

}  // namespace stun_message_test
}  // namespace chorus::media::stun
