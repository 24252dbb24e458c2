#include "media/transport/remote_address_policy.hpp"

#include <gtest/gtest.h>

namespace chorus::media {
namespace remote_address_policy_test {

TransportAddress address(std::uint8_t last, std::uint16_t port) {
  return TransportAddress::ipv4({192, 0, 2, last}, port);
}

const TimePoint kStart{std::chrono::hours(1)};

PacketIdentity rtp(std::uint32_t ssrc, std::uint16_t sequence, std::uint8_t payload_type = 0) {
  return PacketIdentity{true, payload_type, sequence, ssrc};
}

RemoteAddressPolicy plain(std::optional<TransportAddress> signalled, bool proven) {
  LatchConfig config;
  config.signalled = signalled;
  config.proven_by_signaling = proven;
  return RemoteAddressPolicy(config, /*ice=*/false, kStart);
}

RemoteAddressPolicy with_ice(std::optional<TransportAddress> signalled) {
  LatchConfig config;
  config.signalled = signalled;
  return RemoteAddressPolicy(config, /*ice=*/true, kStart);
}

TEST(RemoteAddressPolicy, SendsNowhereUntilTheSdpAddressIsProven) {
  auto policy = plain(address(1, 5000), /*proven=*/false);
  EXPECT_EQ(policy.destination(kStart), std::nullopt);
  EXPECT_EQ(plain(address(1, 5000), /*proven=*/true).destination(kStart), address(1, 5000));
}

TEST(RemoteAddressPolicy, LatchesToTheFirstSourceInTheWindow) {
  auto policy = plain(address(1, 5000), false);
  // A NATed phone: its packets come from another address than its SDP says.
  EXPECT_EQ(policy.admit_media(address(9, 40000), rtp(7, 100), kStart), Admission::kAcceptIfAuthentic);
  EXPECT_TRUE(policy.on_authenticated(address(9, 40000), rtp(7, 100), kStart));
  EXPECT_EQ(policy.destination(kStart), address(9, 40000));
}

TEST(RemoteAddressPolicy, StrictSourceRejectsAStrangerForever) {
  auto policy = plain(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), rtp(7, 100), kStart);
  EXPECT_EQ(policy.admit_media(address(1, 5000), rtp(7, 101), kStart), Admission::kAccept);
  EXPECT_EQ(policy.admit_media(address(66, 6666), rtp(99, 1), kStart + std::chrono::minutes(5)), Admission::kReject);
}

TEST(RemoteAddressPolicy, DtlsWithoutIceComesFromTheDestinationOnceLatched) {
  auto policy = plain(address(1, 5000), false);
  EXPECT_TRUE(policy.admit_dtls(address(7, 7000)));  // nothing latched yet: whoever speaks first
  policy.on_authenticated(address(1, 5000), rtp(7, 100), kStart);
  EXPECT_TRUE(policy.admit_dtls(address(1, 5000)));
  EXPECT_FALSE(policy.admit_dtls(address(7, 7000)));
}

TEST(RemoteAddressPolicy, IceAdmitsNothingBeforeACheck) {
  auto policy = with_ice(address(1, 5000));
  EXPECT_EQ(policy.destination(kStart), std::nullopt);  // not even the SDP address
  EXPECT_EQ(policy.admit_media(address(1, 5000), rtp(7, 1), kStart), Admission::kReject);
  EXPECT_FALSE(policy.admit_dtls(address(1, 5000)));
}

TEST(RemoteAddressPolicy, IceCheckValidatesAndTheFirstValidatedPairCarriesMedia) {
  auto policy = with_ice(std::nullopt);
  EXPECT_TRUE(policy.on_ice_check(address(1, 5000), /*nominated=*/false, kStart));
  EXPECT_EQ(policy.admit_media(address(1, 5000), rtp(7, 1), kStart), Admission::kAccept);
  EXPECT_TRUE(policy.admit_dtls(address(1, 5000)));
  EXPECT_EQ(policy.destination(kStart), address(1, 5000));
  // Media never latches under ICE: an authenticated packet from elsewhere moves nothing.
  EXPECT_FALSE(policy.on_authenticated(address(2, 5002), rtp(7, 1), kStart));
  EXPECT_EQ(policy.admit_media(address(2, 5002), rtp(7, 1), kStart), Admission::kReject);
}

TEST(RemoteAddressPolicy, NominationMovesTheDestination) {
  auto policy = with_ice(std::nullopt);
  policy.on_ice_check(address(1, 5000), false, kStart);
  policy.on_ice_check(address(2, 5002), false, kStart);
  EXPECT_EQ(policy.destination(kStart), address(1, 5000));
  EXPECT_TRUE(policy.on_ice_check(address(2, 5002), /*nominated=*/true, kStart));
  EXPECT_EQ(policy.destination(kStart), address(2, 5002));
}

TEST(RemoteAddressPolicy, ConsentExpiresWithoutChecks) {
  auto policy = with_ice(std::nullopt);
  policy.on_ice_check(address(1, 5000), true, kStart);
  EXPECT_TRUE(policy.destination(kStart + kConsentLifetime).has_value());
  EXPECT_FALSE(policy.destination(kStart + kConsentLifetime + std::chrono::seconds(1)).has_value());
  policy.on_ice_check(address(1, 5000), true, kStart + std::chrono::seconds(40));
  EXPECT_TRUE(policy.destination(kStart + std::chrono::seconds(41)).has_value());
}

TEST(RemoteAddressPolicy, ValidatedAddressesAreBoundedAndTheOldestGoesFirst) {
  auto policy = with_ice(std::nullopt);
  for (std::uint8_t i = 0; i < kMaxValidatedAddresses + 1; ++i) policy.on_ice_check(address(i, 5000), false, kStart);
  EXPECT_FALSE(policy.is_validated(address(0, 5000)));
  EXPECT_TRUE(policy.is_validated(address(kMaxValidatedAddresses, 5000)));
  // The evicted address was the destination: the check that evicted it takes over.
  EXPECT_EQ(policy.destination(kStart), address(kMaxValidatedAddresses, 5000));
}

TEST(RemoteAddressPolicy, ReInviteToAProvenAddressRedirectsAtOnce) {
  auto policy = plain(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), rtp(7, 100), kStart);
  policy.on_signalled(address(3, 5004), /*proven_by_signaling=*/true, kStart);
  EXPECT_EQ(policy.destination(kStart), address(3, 5004));
}

TEST(RemoteAddressPolicy, ReInviteToAnUnprovenAddressKeepsTheLatchedOneUntilRelatched) {
  auto policy = plain(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), rtp(7, 100), kStart);
  const auto later = kStart + std::chrono::minutes(1);
  policy.on_signalled(address(3, 5004), false, later);
  EXPECT_EQ(policy.destination(later), address(1, 5000));
  // The re-offer opened a new learning window: the new source latches in it.
  EXPECT_EQ(policy.admit_media(address(3, 5004), rtp(8, 1), later), Admission::kAcceptIfAuthentic);
  EXPECT_TRUE(policy.on_authenticated(address(3, 5004), rtp(8, 1), later));
  EXPECT_EQ(policy.destination(later), address(3, 5004));
}

}  // namespace remote_address_policy_test
}  // namespace chorus::media
