// SourceRateLimiter: the pike-like token bucket per source IP, its block list, the trusted list and
// the bounded LRU table, on a clock the test moves.
#include "signaling/transport/source_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::sip {
namespace source_rate_limiter_test {

using Verdict = SourceRateLimiter::Verdict;
using std::chrono::milliseconds;
using std::chrono::seconds;

boost::asio::ip::address ip(const std::string& text) {
  return boost::asio::ip::make_address(text);
}

SourceLimits limits(std::uint32_t rate, std::uint32_t burst, seconds block = seconds(60)) {
  SourceLimits l;
  l.rate = rate;
  l.burst = burst;
  l.block_time = block;
  return l;
}

// Sends `n` messages from `source` at `now`; returns how many were allowed.
int send(SourceRateLimiter& limiter, const std::string& source, int n, TimePoint now) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += limiter.admit(ip(source), now) == Verdict::kAllowed ? 1 : 0;
  return allowed;
}

const TimePoint kStart = TimePoint{} + seconds(1000);

TEST(SourceRateLimiter, BurstPassesThenTheSourceIsBlockedOnce) {
  SourceRateLimiter limiter(limits(30, 60));
  EXPECT_EQ(send(limiter, "203.0.113.5", 60, kStart), 60);
  EXPECT_EQ(limiter.admit(ip("203.0.113.5"), kStart), Verdict::kBlockedNow);
  // Reported once: what follows is dropped silently (no log line per packet).
  EXPECT_EQ(limiter.admit(ip("203.0.113.5"), kStart), Verdict::kBlocked);
  EXPECT_EQ(limiter.admit(ip("203.0.113.5"), kStart + seconds(30)), Verdict::kBlocked);
  EXPECT_TRUE(limiter.blocked(ip("203.0.113.5"), kStart + seconds(59)));
  EXPECT_EQ(limiter.counters().sources_blocked.load(), 1u);
  EXPECT_EQ(limiter.counters().messages_dropped.load(), 3u);
}

TEST(SourceRateLimiter, SteadyTrafficAtTheRateIsNeverBlocked) {
  SourceRateLimiter limiter(limits(30, 60));
  // 30 a second for 10 s, in 100 ms steps of 3: the bucket refills as fast as it drains.
  for (int step = 0; step < 100; ++step)
    ASSERT_EQ(send(limiter, "203.0.113.5", 3, kStart + milliseconds(100 * step)), 3) << step;
  EXPECT_EQ(limiter.counters().sources_blocked.load(), 0u);
}

TEST(SourceRateLimiter, BlockEndsAfterBlockTimeWithAFullBucket) {
  SourceRateLimiter limiter(limits(10, 20, seconds(60)));
  EXPECT_EQ(send(limiter, "203.0.113.5", 21, kStart), 20);
  EXPECT_EQ(limiter.admit(ip("203.0.113.5"), kStart + seconds(59)), Verdict::kBlocked);
  EXPECT_FALSE(limiter.blocked(ip("203.0.113.5"), kStart + seconds(60)));
  EXPECT_EQ(send(limiter, "203.0.113.5", 20, kStart + seconds(60)), 20);
  EXPECT_EQ(limiter.admit(ip("203.0.113.5"), kStart + seconds(60)), Verdict::kBlockedNow);
  EXPECT_EQ(limiter.counters().sources_blocked.load(), 2u);
}

TEST(SourceRateLimiter, OneSourceBlockedLeavesAnotherUntouched) {
  SourceRateLimiter limiter(limits(30, 60));
  send(limiter, "127.0.0.3", 500, kStart);  // loopback is not exempt by default
  EXPECT_TRUE(limiter.blocked(ip("127.0.0.3"), kStart));
  EXPECT_EQ(send(limiter, "127.0.0.2", 60, kStart), 60);
  EXPECT_FALSE(limiter.blocked(ip("127.0.0.2"), kStart));
}

TEST(SourceRateLimiter, TrustedRangesAreNeverLimited) {
  SourceLimits l = limits(1, 1);
  l.trusted = {*parse_address_range("10.0.0.0/8"), *parse_address_range("2001:db8::/32")};
  SourceRateLimiter limiter(l);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limiter.admit(ip("10.20.30.40"), kStart), Verdict::kTrusted);
    ASSERT_EQ(limiter.admit(ip("2001:db8::7"), kStart), Verdict::kTrusted);
  }
  EXPECT_EQ(limiter.tracked(), 0u);  // trusted sources take no table space
  EXPECT_EQ(send(limiter, "11.0.0.1", 2, kStart), 1);
}

TEST(SourceRateLimiter, MappedIpv4IsTheSameSourceAsIpv4) {
  SourceRateLimiter limiter(limits(1, 2));
  EXPECT_EQ(limiter.admit(ip("192.0.2.9"), kStart), Verdict::kAllowed);
  EXPECT_EQ(limiter.admit(ip("::ffff:192.0.2.9"), kStart), Verdict::kAllowed);
  EXPECT_EQ(limiter.admit(ip("192.0.2.9"), kStart), Verdict::kBlockedNow);
  EXPECT_EQ(limiter.tracked(), 1u);
}

TEST(SourceRateLimiter, TableIsBoundedAndForgetsTheLeastRecentlySeen) {
  SourceLimits l = limits(1, 1);
  l.max_sources = 3;
  SourceRateLimiter limiter(l);
  limiter.admit(ip("192.0.2.1"), kStart);
  limiter.admit(ip("192.0.2.1"), kStart);  // blocked
  limiter.admit(ip("192.0.2.2"), kStart);
  limiter.admit(ip("192.0.2.3"), kStart);
  limiter.admit(ip("192.0.2.1"), kStart);  // seen again: now the most recent
  limiter.admit(ip("192.0.2.4"), kStart);  // evicts .2, the least recently seen
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_EQ(limiter.counters().sources_evicted.load(), 1u);
  EXPECT_TRUE(limiter.blocked(ip("192.0.2.1"), kStart));
  // .2 starts afresh with a full bucket, and takes the place of .3, now the least recently seen.
  EXPECT_EQ(limiter.admit(ip("192.0.2.2"), kStart), Verdict::kAllowed);
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_EQ(limiter.counters().sources_evicted.load(), 2u);
}

TEST(SourceRateLimiter, RateZeroTurnsItOff) {
  SourceRateLimiter limiter(limits(0, 1));
  EXPECT_FALSE(limiter.enabled());
  EXPECT_EQ(send(limiter, "203.0.113.5", 10000, kStart), 10000);
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(AddressRange, ParsesCidrAndBareAddresses) {
  auto v4 = parse_address_range("10.0.0.0/8");
  ASSERT_TRUE(v4.has_value()) << v4.error();
  EXPECT_TRUE(v4->contains(ip("10.255.1.2")));
  EXPECT_TRUE(v4->contains(ip("::ffff:10.1.1.1")));
  EXPECT_FALSE(v4->contains(ip("11.0.0.1")));
  EXPECT_FALSE(v4->contains(ip("::a00:1")));  // an IPv6 address that is not IPv4-mapped
  EXPECT_EQ(v4->to_string(), "10.0.0.0/8");

  auto host = parse_address_range(" 127.0.0.2 ");
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->prefix_length, 32u);
  EXPECT_TRUE(host->contains(ip("127.0.0.2")));
  EXPECT_FALSE(host->contains(ip("127.0.0.3")));

  auto v6 = parse_address_range("2001:db8:1::/48");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->contains(ip("2001:db8:1:ffff::1")));
  EXPECT_FALSE(v6->contains(ip("2001:db8:2::1")));

  auto all = parse_address_range("0.0.0.0/0");
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->contains(ip("198.51.100.1")));
  EXPECT_FALSE(all->contains(ip("2001:db8::1")));
}

TEST(AddressRange, RefusesWhatIsNotARange) {
  for (const char* bad : {"", "example.com", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "10.1.2.3/8", "::1/129",
                          "2001:db8::1/32", "10.0.0.0/-1"}) {
    auto parsed = parse_address_range(bad);
    EXPECT_FALSE(parsed.has_value()) << bad;
  }
  auto zoned = parse_address_range("fe80::1%18446744072826008736/128");  // source_limiter_fuzz's crash
  ASSERT_FALSE(zoned.has_value());
  EXPECT_NE(zoned.error().find("zone"), std::string::npos) << zoned.error();
  EXPECT_FALSE(parse_address_range("fe80::1%1").has_value());
  auto host_bits = parse_address_range("10.1.2.3/8");
  ASSERT_FALSE(host_bits.has_value());
  EXPECT_NE(host_bits.error().find("host bits"), std::string::npos) << host_bits.error();
}

TEST(AddressRange, ParsesAListAndNamesTheBadItem) {
  auto list = parse_address_ranges("10.0.0.0/8, 192.0.2.7 ,::1");
  ASSERT_TRUE(list.has_value()) << list.error();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_TRUE(any_contains(*list, ip("::1")));
  EXPECT_TRUE(parse_address_ranges("  ")->empty());
  auto bad = parse_address_ranges("10.0.0.0/8,sip.example.com");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("sip.example.com"), std::string::npos) << bad.error();
}

}  // namespace source_rate_limiter_test
}  // namespace chorus::sip
