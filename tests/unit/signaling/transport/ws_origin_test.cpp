// The Origin allow-list of the WebSocket upgrade (RFC 6454 §4, §5, §7): parsing, the comparison of
// origin triples, "*", and the server's own web-page origins.
#include "signaling/transport/ws_origin.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::sip {
namespace ws_origin_test {

TEST(WsOrigin, ParsesTheTripleAndFillsTheDefaultPort) {
  const auto origin = parse_ws_origin("HTTPS://Rooms.Example.COM");
  ASSERT_TRUE(origin.has_value()) << origin.error();
  EXPECT_EQ(origin->scheme, "https");
  EXPECT_EQ(origin->host, "rooms.example.com");
  EXPECT_EQ(origin->port, 443);
  EXPECT_EQ(origin->to_string(), "https://rooms.example.com");  // RFC 6454 §6.2: default port left out

  const auto explicit_port = parse_ws_origin("http://127.0.0.1:8080");
  ASSERT_TRUE(explicit_port.has_value());
  EXPECT_EQ(explicit_port->port, 8080);
  EXPECT_EQ(explicit_port->to_string(), "http://127.0.0.1:8080");

  const auto v6 = parse_ws_origin("http://[2001:DB8::1]:8080");
  ASSERT_TRUE(v6.has_value()) << v6.error();
  EXPECT_EQ(v6->host, "[2001:db8::1]");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(parse_ws_origin("http://[::1]")->port, 80);

  const auto other_scheme = parse_ws_origin("chrome-extension://abcdef");
  ASSERT_TRUE(other_scheme.has_value());
  EXPECT_FALSE(other_scheme->port.has_value());  // no default port known: compared as absent
}

TEST(WsOrigin, RefusesWhatIsNotAnOriginSerialisation) {
  for (const char* text :
       {"", "null", "example.com", "http://", "http://example.com/", "http://example.com/rooms", "http://example.com?x",
        "http://user@example.com", "http://example.com:", "http://a:0", "http://a:65536", "http://a:80x",
        "http://exa mple.com", "1http://a", "http://[::1", "http://[zz]:80"}) {
    EXPECT_FALSE(parse_ws_origin(text).has_value()) << text;
  }
}

TEST(WsOriginPolicy, MatchesSchemeHostAndPortExactly) {
  const std::vector<std::string> allowed{"https://rooms.example.com", "http://127.0.0.1:8080"};
  auto policy = WsOriginPolicy::make(allowed);
  ASSERT_TRUE(policy.has_value()) << policy.error();
  EXPECT_TRUE(policy->allows("https://rooms.example.com"));
  EXPECT_TRUE(policy->allows("https://ROOMS.example.com:443"));
  EXPECT_TRUE(policy->allows("http://127.0.0.1:8080"));
  EXPECT_FALSE(policy->allows("http://rooms.example.com"));        // scheme differs
  EXPECT_FALSE(policy->allows("https://rooms.example.com:8443"));  // port differs
  EXPECT_FALSE(policy->allows("https://evil.rooms.example.com"));  // host differs
  EXPECT_FALSE(policy->allows("https://rooms.example.com.evil.net"));
  EXPECT_FALSE(policy->allows("http://127.0.0.1"));
  EXPECT_FALSE(policy->allows("null"));
  EXPECT_FALSE(policy->allows("https://rooms.example.com/"));
  EXPECT_FALSE(policy->allows_any());
}

TEST(WsOriginPolicy, StarAllowsAnyOriginEvenAnOpaqueOne) {
  const std::vector<std::string> allowed{"*"};
  auto policy = WsOriginPolicy::make(allowed);
  ASSERT_TRUE(policy.has_value());
  EXPECT_TRUE(policy->allows_any());
  EXPECT_TRUE(policy->allows("https://anything.example.net"));
  EXPECT_TRUE(policy->allows("null"));
}

TEST(WsOriginPolicy, AnEmptyListAllowsNoOrigin) {
  auto policy = WsOriginPolicy::make({});
  ASSERT_TRUE(policy.has_value());
  EXPECT_FALSE(policy->allows("http://127.0.0.1:8080"));
}

TEST(WsOriginPolicy, NamesTheEntryThatIsNotAnOrigin) {
  const std::vector<std::string> allowed{"https://ok.example.com", "ok.example.com"};
  const auto policy = WsOriginPolicy::make(allowed);
  ASSERT_FALSE(policy.has_value());
  EXPECT_NE(policy.error().find("\"ok.example.com\""), std::string::npos) << policy.error();
}

TEST(WsOwnOrigins, ListTheWebPageOfThePublicAddressAndOfLoopback) {
  const std::vector<std::string> expected{
      "http://192.0.2.10:8080",  "http://127.0.0.1:8080",  "http://localhost:8080",
      "https://192.0.2.10:8080", "https://127.0.0.1:8080", "https://localhost:8080",
  };
  EXPECT_EQ(own_http_origins("192.0.2.10", 8080), expected);
  // Each parses, so the policy built from them starts.
  auto policy = WsOriginPolicy::make(expected);
  ASSERT_TRUE(policy.has_value());
  EXPECT_TRUE(policy->allows("http://localhost:8080"));
}

TEST(WsOwnOrigins, BracketIpv6AndDropRepeats) {
  const auto v6 = own_http_origins("2001:db8::7", 80);
  EXPECT_EQ(v6.front(), "http://[2001:db8::7]:80");
  EXPECT_TRUE(WsOriginPolicy::make(v6)->allows("http://[2001:db8::7]"));  // :80 is http's default
  EXPECT_EQ(own_http_origins("127.0.0.1", 8080).size(), 4u);              // public is loopback: no repeats
}

}  // namespace ws_origin_test
}  // namespace chorus::sip
