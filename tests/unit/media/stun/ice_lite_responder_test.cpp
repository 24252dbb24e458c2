// IceLiteResponder: a correctly signed Binding request gets a success response that maps the
// source address and reports USE-CANDIDATE; bad credentials get 401, malformed requests 400,
// unknown required attributes 420, a second controlled agent 487; non-STUN is handed on and
// indications are noted without an answer.
#include "media/stun/ice_lite_responder.hpp"
#include "tests/unit/media/stun/rfc5769_vectors.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace chorus::media::stun {
namespace ice_lite_responder_test {

constexpr std::string_view kLocalUfrag = "loc1";
constexpr std::string_view kLocalPassword = "local-password-0123456789";
constexpr std::string_view kRemoteUfrag = "rem2";
const TransactionId kId = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

struct RequestOptions {
  std::string_view username = "loc1:rem2";
  std::string_view password = kLocalPassword;
  bool use_candidate = false;
  bool controlled = false;
  bool with_integrity = true;
  bool with_fingerprint = true;
  std::uint16_t unknown_attribute = 0;  // 0: none
  std::uint16_t method = kMethodBinding;
  StunClass message_class = StunClass::kRequest;
};

// A connectivity check as a full controlling agent sends it (RFC 8445 §7.2.2).
std::vector<std::uint8_t> make_request(const RequestOptions& options) {
  std::array<std::uint8_t, kMaxMessageSize> buffer{};
  StunBuilder builder(buffer, options.message_class, options.method, kId);
  if (!options.username.empty()) builder.add_username(options.username);
  builder.add_priority(0x6e7f1eff);
  if (options.controlled) {
    builder.add_ice_controlled(42);
  } else {
    builder.add_ice_controlling(0x0102030405060708);
  }
  if (options.use_candidate) builder.add_use_candidate();
  if (options.unknown_attribute != 0) {
    // A 4-byte attribute of the given type: written as PRIORITY, then retyped in the buffer
    // before the hashes are computed over it.
    builder.add_priority(0);
    auto so_far = builder.finish();
    const std::size_t type_at = so_far->size() - 8;
    buffer[type_at] = static_cast<std::uint8_t>(options.unknown_attribute >> 8);
    buffer[type_at + 1] = static_cast<std::uint8_t>(options.unknown_attribute);
  }
  if (options.with_integrity) builder.add_message_integrity(options.password);
  if (options.with_fingerprint) builder.add_fingerprint();
  auto bytes = builder.finish();
  std::vector<std::uint8_t> message(bytes->begin(), bytes->end());
  return message;
}

class IceLiteResponderTest : public ::testing::Test {
 protected:
  IceLiteOutcome respond(std::span<const std::uint8_t> datagram) { return responder_.respond(datagram, source_, out_); }
  StunMessage response(const IceLiteOutcome& outcome) {
    auto message = StunMessage::parse(std::span(out_).first(outcome.response_size));
    EXPECT_TRUE(message.has_value());
    return *message;
  }

  IceLiteResponder responder_{std::string(kLocalUfrag), std::string(kLocalPassword), std::string(kRemoteUfrag)};
  TransportAddress source_ = TransportAddress::ipv4({198, 51, 100, 20}, 40001);
  std::array<std::uint8_t, kMaxMessageSize> out_{};
};

TEST_F(IceLiteResponderTest, ValidRequestGetsSignedSuccessWithMappedSource) {
  auto outcome = respond(make_request({}));
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 0);
  EXPECT_TRUE(outcome.authenticated);
  EXPECT_TRUE(outcome.source_validated());
  EXPECT_FALSE(outcome.use_candidate);
  EXPECT_EQ(outcome.priority, 0x6e7f1effu);
  auto message = response(outcome);
  EXPECT_EQ(message.message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(message.transaction_id(), kId);
  EXPECT_EQ(message.xor_mapped_address(), source_);
  // RFC 8445 §7.2.2: the short-term key is the password of the agent that answers.
  EXPECT_TRUE(check_integrity(message, kLocalPassword));
  EXPECT_TRUE(check_fingerprint(message));
}

TEST_F(IceLiteResponderTest, Ipv6SourceIsMapped) {
  source_ = TransportAddress::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}, 5004);
  auto outcome = respond(make_request({}));
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(response(outcome).xor_mapped_address(), source_);
}

TEST_F(IceLiteResponderTest, UseCandidateIsReportedForNomination) {
  auto outcome = respond(make_request({.use_candidate = true}));
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 0);
  EXPECT_TRUE(outcome.use_candidate);
}

TEST_F(IceLiteResponderTest, WrongPasswordGetsUnsignedUnauthorized) {
  auto outcome = respond(make_request({.password = "not-the-password", .use_candidate = true}));
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 401);
  EXPECT_FALSE(outcome.authenticated);
  EXPECT_FALSE(outcome.source_validated());
  EXPECT_FALSE(outcome.use_candidate);
  auto message = response(outcome);
  EXPECT_EQ(message.message_class(), StunClass::kErrorResponse);
  EXPECT_EQ(message.error_code()->code, 401);
  EXPECT_FALSE(message.message_integrity().has_value());
  EXPECT_TRUE(check_fingerprint(message));
}

TEST_F(IceLiteResponderTest, WrongUsernameGetsUnauthorized) {
  for (std::string_view username : {"rem2:loc1", "loc1:rem3", "loc1rem2", "loc1:rem2x", "xloc1:rem2"}) {
    auto outcome = respond(make_request({.username = username}));
    EXPECT_EQ(outcome.error_code, 401) << username;
    EXPECT_FALSE(outcome.authenticated);
  }
}

TEST_F(IceLiteResponderTest, MissingUsernameOrIntegrityGetsBadRequest) {
  // RFC 8489 §9.1.3: absent credentials are a bad request, wrong ones are unauthorized.
  EXPECT_EQ(respond(make_request({.username = ""})).error_code, 400);
  auto outcome = respond(make_request({.with_integrity = false}));
  EXPECT_EQ(outcome.error_code, 400);
  EXPECT_FALSE(outcome.authenticated);
}

TEST_F(IceLiteResponderTest, MissingFingerprintGetsBadRequest) {
  EXPECT_EQ(respond(make_request({.with_fingerprint = false})).error_code, 400);
}

TEST_F(IceLiteResponderTest, BadFingerprintIsDropped) {
  auto bytes = make_request({});
  bytes.back() ^= 0x01;
  EXPECT_EQ(respond(bytes).verdict, IceLiteVerdict::kDrop);
}

TEST_F(IceLiteResponderTest, TamperedRequestGetsUnauthorized) {
  auto bytes = make_request({.use_candidate = true});
  bytes[24] ^= 0x01;  // inside USERNAME's value: FINGERPRINT recomputed below so only the HMAC breaks
  auto parsed = StunMessage::parse(bytes);
  ASSERT_TRUE(parsed.has_value());
  const std::size_t fp = parsed->fingerprint_offset();
  const std::uint32_t crc = crc32(std::span(bytes).first(fp)) ^ kFingerprintXor;
  bytes[fp + 4] = crc >> 24, bytes[fp + 5] = (crc >> 16) & 0xff, bytes[fp + 6] = (crc >> 8) & 0xff,
             bytes[fp + 7] = crc & 0xff;
  auto outcome = respond(bytes);
  EXPECT_EQ(outcome.error_code, 401);
  EXPECT_FALSE(outcome.use_candidate);
}

TEST_F(IceLiteResponderTest, MalformedRequestGetsBadRequest) {
  auto bytes = make_request({});
  bytes[23] = 0xff;  // USERNAME length now overruns the message
  auto outcome = respond(bytes);
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 400);
  EXPECT_EQ(response(outcome).transaction_id(), kId);
}

TEST_F(IceLiteResponderTest, UnknownRequiredAttributeGetsUnknownAttribute) {
  auto outcome = respond(make_request({.unknown_attribute = 0x7f01}));
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 420);
  EXPECT_FALSE(outcome.use_candidate);
  auto message = response(outcome);
  EXPECT_EQ(message.error_code()->code, 420);
  ASSERT_TRUE(message.unknown_attributes().has_value());
  EXPECT_EQ(std::vector<std::uint8_t>(message.unknown_attributes()->begin(), message.unknown_attributes()->end()),
            (std::vector<std::uint8_t>{0x7f, 0x01}));
  EXPECT_TRUE(check_integrity(message, kLocalPassword));
}

TEST_F(IceLiteResponderTest, UnknownOptionalAttributeIsIgnored) {
  EXPECT_EQ(respond(make_request({.unknown_attribute = 0xc001})).error_code, 0);
}

TEST_F(IceLiteResponderTest, ControlledPeerGetsRoleConflict) {
  auto outcome = respond(make_request({.controlled = true}));
  EXPECT_EQ(outcome.error_code, 487);
  EXPECT_TRUE(check_integrity(response(outcome), kLocalPassword));
}

TEST_F(IceLiteResponderTest, Rfc5769SampleRequestAuthenticatesThenConflictsOnRole) {
  // The RFC's request is signed for ufrags evtj/h6vY and carries ICE-CONTROLLED.
  IceLiteResponder responder("evtj", std::string(rfc5769::kPassword), "h6vY");
  auto outcome = responder.respond(rfc5769::kSampleRequest, source_, out_);
  ASSERT_EQ(outcome.verdict, IceLiteVerdict::kRespond);
  EXPECT_EQ(outcome.error_code, 487);
  EXPECT_TRUE(outcome.authenticated);
  EXPECT_FALSE(outcome.source_validated());
  IceLiteResponder wrong_password("evtj", "wrong", "h6vY");
  EXPECT_EQ(wrong_password.respond(rfc5769::kSampleRequest, source_, out_).error_code, 401);
}

TEST_F(IceLiteResponderTest, NonStunIsHandedOn) {
  const std::array<std::uint8_t, 24> rtp = {0x80, 0x60, 0x00, 0x01};
  EXPECT_EQ(respond(rtp).verdict, IceLiteVerdict::kNotStun);
  const std::array<std::uint8_t, 24> dtls = {0x16, 0xfe, 0xfd};
  EXPECT_EQ(respond(dtls).verdict, IceLiteVerdict::kNotStun);
  EXPECT_EQ(respond({}).verdict, IceLiteVerdict::kNotStun);
}

TEST_F(IceLiteResponderTest, BindingIndicationIsNotedNotAnswered) {
  auto outcome = respond(make_request({.message_class = StunClass::kIndication}));
  EXPECT_EQ(outcome.verdict, IceLiteVerdict::kIndication);
  EXPECT_EQ(outcome.response_size, 0u);
}

TEST_F(IceLiteResponderTest, ResponsesAreDropped) {
  EXPECT_EQ(respond(rfc5769::kSampleIpv4Response).verdict, IceLiteVerdict::kDrop);
}

TEST_F(IceLiteResponderTest, OtherMethodGetsBadRequest) {
  EXPECT_EQ(respond(make_request({.method = 0x003})).error_code, 400);
}

TEST_F(IceLiteResponderTest, TooSmallOutputBufferDrops) {
  std::array<std::uint8_t, 24> small{};
  auto outcome = responder_.respond(make_request({}), source_, small);
  EXPECT_EQ(outcome.verdict, IceLiteVerdict::kDrop);
  EXPECT_FALSE(outcome.authenticated);
}

}  // namespace ice_lite_responder_test
}  // namespace chorus::media::stun
