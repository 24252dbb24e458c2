#include "media/transport/remote_address_policy.hpp"

#include <gtest/gtest.h>

namespace chorus::media {
namespace {

TransportAddress address(std::uint8_t last, std::uint16_t port) {
  return TransportAddress::ipv4({192, 0, 2, last}, port);
}

const TimePoint kStart{std::chrono::hours(1)};

TEST(RemoteAddressPolicy, SendsWhereTheSdpSaidUntilSomethingIsHeard) {
  RemoteAddressPolicy policy(address(1, 5000), /*ice=*/false);
  EXPECT_EQ(policy.destination(kStart), address(1, 5000));
}

TEST(RemoteAddressPolicy, LatchesAtOnceWhenTheSignalledAddressNeverSpoke) {
  RemoteAddressPolicy policy(address(1, 5000), false);
  // A NATed phone: its packets come from another port than its SDP says.
  EXPECT_EQ(policy.admit_media(address(9, 40000), kStart), Admission::kAcceptIfAuthentic);
  EXPECT_TRUE(policy.on_authenticated(address(9, 40000), kStart));
  EXPECT_EQ(policy.destination(kStart), address(9, 40000));
}

TEST(RemoteAddressPolicy, StrictSourceRejectsAnotherSourceWhileTheLatchedOneSpeaks) {
  RemoteAddressPolicy policy(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), kStart);
  EXPECT_EQ(policy.admit_media(address(1, 5000), kStart), Admission::kAccept);
  EXPECT_EQ(policy.admit_media(address(66, 6666), kStart + std::chrono::milliseconds(1999)), Admission::kReject);
}

TEST(RemoteAddressPolicy, MovesOnlyAfterTheOldSourceWasSilentForTwoSeconds) {
  RemoteAddressPolicy policy(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), kStart);
  const auto later = kStart + kLatchSilence;
  EXPECT_EQ(policy.admit_media(address(2, 5002), later), Admission::kAcceptIfAuthentic);
  EXPECT_TRUE(policy.on_authenticated(address(2, 5002), later));
  EXPECT_EQ(policy.destination(later), address(2, 5002));
  EXPECT_EQ(policy.admit_media(address(1, 5000), later), Admission::kReject);
}

TEST(RemoteAddressPolicy, DtlsWithoutIceComesFromTheDestinationOnceHeard) {
  RemoteAddressPolicy policy(address(1, 5000), false);
  EXPECT_TRUE(policy.admit_dtls(address(7, 7000)));  // nothing heard yet: whoever speaks first
  policy.on_authenticated(address(1, 5000), kStart);
  EXPECT_TRUE(policy.admit_dtls(address(1, 5000)));
  EXPECT_FALSE(policy.admit_dtls(address(7, 7000)));
}

TEST(RemoteAddressPolicy, IceAdmitsNothingBeforeACheck) {
  RemoteAddressPolicy policy(address(1, 5000), /*ice=*/true);
  EXPECT_EQ(policy.destination(kStart), std::nullopt);  // not even the SDP address
  EXPECT_EQ(policy.admit_media(address(1, 5000), kStart), Admission::kReject);
  EXPECT_FALSE(policy.admit_dtls(address(1, 5000)));
}

TEST(RemoteAddressPolicy, IceCheckValidatesAndTheFirstValidatedPairCarriesMedia) {
  RemoteAddressPolicy policy(std::nullopt, true);
  EXPECT_TRUE(policy.on_ice_check(address(1, 5000), /*nominated=*/false, kStart));
  EXPECT_EQ(policy.admit_media(address(1, 5000), kStart), Admission::kAccept);
  EXPECT_TRUE(policy.admit_dtls(address(1, 5000)));
  EXPECT_EQ(policy.destination(kStart), address(1, 5000));
  // Media never latches under ICE: an authenticated packet from elsewhere moves nothing.
  EXPECT_FALSE(policy.on_authenticated(address(2, 5002), kStart));
  EXPECT_EQ(policy.admit_media(address(2, 5002), kStart), Admission::kReject);
}

TEST(RemoteAddressPolicy, NominationMovesTheDestination) {
  RemoteAddressPolicy policy(std::nullopt, true);
  policy.on_ice_check(address(1, 5000), false, kStart);
  policy.on_ice_check(address(2, 5002), false, kStart);
  EXPECT_EQ(policy.destination(kStart), address(1, 5000));
  EXPECT_TRUE(policy.on_ice_check(address(2, 5002), /*nominated=*/true, kStart));
  EXPECT_EQ(policy.destination(kStart), address(2, 5002));
}

TEST(RemoteAddressPolicy, ConsentExpiresWithoutChecks) {
  RemoteAddressPolicy policy(std::nullopt, true);
  policy.on_ice_check(address(1, 5000), true, kStart);
  EXPECT_TRUE(policy.destination(kStart + kConsentLifetime).has_value());
  EXPECT_FALSE(policy.destination(kStart + kConsentLifetime + std::chrono::seconds(1)).has_value());
  policy.on_ice_check(address(1, 5000), true, kStart + std::chrono::seconds(40));
  EXPECT_TRUE(policy.destination(kStart + std::chrono::seconds(41)).has_value());
}

TEST(RemoteAddressPolicy, ValidatedAddressesAreBoundedAndTheOldestGoesFirst) {
  RemoteAddressPolicy policy(std::nullopt, true);
  for (std::uint8_t i = 0; i < kMaxValidatedAddresses + 1; ++i) policy.on_ice_check(address(i, 5000), false, kStart);
  EXPECT_FALSE(policy.is_validated(address(0, 5000)));
  EXPECT_TRUE(policy.is_validated(address(kMaxValidatedAddresses, 5000)));
  // The evicted address was the destination: the check that evicted it takes over.
  EXPECT_EQ(policy.destination(kStart), address(kMaxValidatedAddresses, 5000));
}

TEST(RemoteAddressPolicy, ReInviteRedirectsUntilLatchingMovesAgain) {
  RemoteAddressPolicy policy(address(1, 5000), false);
  policy.on_authenticated(address(1, 5000), kStart);
  policy.on_signalled(address(3, 5004));
  EXPECT_EQ(policy.destination(kStart), address(3, 5004));
  EXPECT_EQ(policy.admit_media(address(1, 5000), kStart), Admission::kAcceptIfAuthentic);
}

}  // namespace
}  // namespace chorus::media
