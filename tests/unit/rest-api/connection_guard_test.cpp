// PerAddressCounter (the REST per-IP connection cap) and LogGate (one security line per interval).
#include "rest-api/connection_guard.hpp"

#include <gtest/gtest.h>

namespace chorus::rest {
namespace connection_guard_test {

using boost::asio::ip::make_address;
using namespace std::chrono_literals;

TEST(PerAddressCounter, RefusesTheConnectionPastTheCapAndNothingIsCounted) {
  PerAddressCounter counter(2);
  const auto peer = make_address("192.0.2.7");
  EXPECT_TRUE(counter.try_acquire(peer));
  EXPECT_TRUE(counter.try_acquire(peer));
  EXPECT_FALSE(counter.try_acquire(peer));
  EXPECT_FALSE(counter.try_acquire(peer));
  EXPECT_EQ(counter.count(peer), 2U);
}

TEST(PerAddressCounter, AnotherAddressHasItsOwnCount) {
  PerAddressCounter counter(1);
  EXPECT_TRUE(counter.try_acquire(make_address("127.0.0.1")));
  EXPECT_FALSE(counter.try_acquire(make_address("127.0.0.1")));
  EXPECT_TRUE(counter.try_acquire(make_address("127.0.0.2")));
  EXPECT_TRUE(counter.try_acquire(make_address("2001:db8::1")));
  EXPECT_EQ(counter.addresses(), 3U);
}

TEST(PerAddressCounter, ReleaseMakesRoomAndForgetsAnAddressAtZero) {
  PerAddressCounter counter(1);
  const auto peer = make_address("198.51.100.1");
  ASSERT_TRUE(counter.try_acquire(peer));
  counter.release(peer);
  EXPECT_EQ(counter.count(peer), 0U);
  EXPECT_EQ(counter.addresses(), 0U) << "an address without connections must not stay in the map";
  EXPECT_TRUE(counter.try_acquire(peer));
}

TEST(PerAddressCounter, ReleasingAnUnknownAddressChangesNothing) {
  PerAddressCounter counter(1);
  const auto peer = make_address("198.51.100.1");
  counter.release(peer);
  ASSERT_TRUE(counter.try_acquire(peer));
  counter.release(make_address("198.51.100.2"));
  EXPECT_EQ(counter.count(peer), 1U);
  EXPECT_FALSE(counter.try_acquire(peer));
}

TEST(PerAddressCounter, AnIpv4MappedAddressCountsAsItsIpv4Address) {
  // RFC 4291 §2.5.5.2: a dual-stack listener reports an IPv4 peer as ::ffff:a.b.c.d.
  PerAddressCounter counter(1);
  ASSERT_TRUE(counter.try_acquire(make_address("::ffff:203.0.113.5")));
  EXPECT_FALSE(counter.try_acquire(make_address("203.0.113.5")));
  counter.release(make_address("203.0.113.5"));
  EXPECT_EQ(counter.addresses(), 0U);
  EXPECT_EQ(canonical_address(make_address("::ffff:203.0.113.5")), make_address("203.0.113.5"));
  EXPECT_EQ(canonical_address(make_address("2001:db8::5")), make_address("2001:db8::5"));
}

TEST(PerAddressCounter, ZeroMeansNoCapButStillCounts) {
  PerAddressCounter counter(0);
  const auto peer = make_address("127.0.0.1");
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(counter.try_acquire(peer));
  EXPECT_EQ(counter.count(peer), 1000U);
}

TEST(LogGate, LetsOneLineThroughPerIntervalAndCountsTheRest) {
  LogGate gate(1s);
  const std::chrono::steady_clock::time_point start{std::chrono::hours(1)};
  EXPECT_EQ(gate.pass(start), 0U);
  EXPECT_EQ(gate.pass(start + 10ms), std::nullopt);
  EXPECT_EQ(gate.pass(start + 999ms), std::nullopt);
  EXPECT_EQ(gate.pass(start + 1s), 2U) << "the next line says how many were held back";
  EXPECT_EQ(gate.pass(start + 1500ms), std::nullopt);
  EXPECT_EQ(gate.pass(start + 5s), 1U);
}

}  // namespace connection_guard_test
}  // namespace chorus::rest
