// AsioHostResolver (issue 12): names resolve on Asio's resolver thread and the answer comes back on
// the io_context given, never from inside resolve(); more than max_pending lookups fail at once.
// (The DNS timeout needs a DNS server that does not answer: tests/integration/test_egress_guard.py.)
#include "signaling/ua/host_resolver.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace chorus::sip {
namespace host_resolver_test {

TEST(AsioHostResolver, ResolvesLocalhostOnTheControlLoop) {
  boost::asio::io_context io;
  AsioHostResolver resolver(io, {.timeout = std::chrono::seconds(10), .max_pending = 4});
  std::optional<ResolveResult> got;
  resolver.resolve("localhost", [&](ResolveResult result) { got = std::move(result); });
  EXPECT_FALSE(got.has_value());  // not from inside resolve()
  EXPECT_EQ(resolver.pending(), 1u);
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value()) << got->error().detail;
  ASSERT_FALSE((*got)->empty());
  EXPECT_TRUE((*got)->front().is_loopback());
  EXPECT_EQ(resolver.pending(), 0u);
  EXPECT_EQ(resolver.timeouts(), 0u);
}

TEST(AsioHostResolver, LookupsBeyondMaxPendingFailBusyAtOnce) {
  boost::asio::io_context io;
  AsioHostResolver resolver(io, {.timeout = std::chrono::seconds(10), .max_pending = 1});
  std::optional<ResolveResult> first;
  std::optional<ResolveResult> second;
  resolver.resolve("localhost", [&](ResolveResult result) { first = std::move(result); });
  resolver.resolve("localhost", [&](ResolveResult result) { second = std::move(result); });
  EXPECT_FALSE(second.has_value());  // posted, not called inline
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->has_value());
  ASSERT_TRUE(second.has_value());
  ASSERT_FALSE(second->has_value());
  EXPECT_EQ(second->error().kind, ResolveError::Kind::kBusy);
  EXPECT_NE(second->error().detail.find("1 DNS lookups"), std::string::npos) << second->error().detail;
}

}  // namespace host_resolver_test
}  // namespace chorus::sip
