#include "signaling/transport/via_routing.hpp"

#include <gtest/gtest.h>

namespace chorus::sip {
namespace via_routing_test {

namespace asio = boost::asio;

Via make_via(std::string transport, std::string host, std::optional<std::uint16_t> port,
             std::vector<GenericParam> params) {
  Via via;
  via.transport = std::move(transport);
  via.host = std::move(host);
  via.port = port;
  params.insert(params.begin(), GenericParam{"branch", "z9hG4bK776asdhds", true});
  via.params = std::move(params);
  return via;
}

GenericParam flag(std::string name) {
  return GenericParam{std::move(name), "", false};
}
GenericParam param(std::string name, std::string value) {
  return GenericParam{std::move(name), std::move(value), true};
}

SipMessage request_with(const Via& via) {
  SipMessage request;
  request.method = "OPTIONS";
  request.vias.push_back(via);
  request.headers.push_back({"Via", via.to_string()});
  request.headers.push_back({"Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsecond"});
  return request;
}

const std::string* param_value(const Via& via, std::string_view name) {
  const GenericParam* found = find_param(via.params, name);
  return found != nullptr && found->has_value ? &found->value : nullptr;
}

PeerAddress udp_source() {
  return {TransportKind::kUdp, asio::ip::make_address("203.0.113.7"), 40000, 0};
}

TEST(ViaStamping, AddsReceivedWhenSentByDiffersFromSource) {
  auto request = request_with(make_via("UDP", "192.0.2.10", 5060, {}));
  ASSERT_TRUE(stamp_top_via(request, udp_source().address, udp_source().port));
  ASSERT_NE(param_value(request.vias[0], "received"), nullptr);
  EXPECT_EQ(*param_value(request.vias[0], "received"), "203.0.113.7");
  EXPECT_EQ(find_param(request.vias[0].params, "rport"), nullptr);
  // The wire form follows the typed field; the second Via is untouched.
  EXPECT_NE(request.headers[0].value.find("received=203.0.113.7"), std::string::npos);
  EXPECT_EQ(request.headers[1].value, "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsecond");
}

TEST(ViaStamping, LeavesMatchingHostAloneAndDropsASelfWrittenReceived) {
  auto request = request_with(make_via("UDP", "203.0.113.7", 5060, {param("received", "198.51.100.1")}));
  ASSERT_TRUE(stamp_top_via(request, udp_source().address, udp_source().port));
  EXPECT_EQ(find_param(request.vias[0].params, "received"), nullptr);
  EXPECT_EQ(request.headers[0].value.find("received"), std::string::npos);
}

TEST(ViaStamping, FillsRportAndAddsReceivedEvenWhenHostMatches) {
  // RFC 3581 §4: with rport, received is added even when it equals the sent-by host.
  auto request = request_with(make_via("UDP", "203.0.113.7", 5060, {flag("rport")}));
  ASSERT_TRUE(stamp_top_via(request, udp_source().address, udp_source().port));
  ASSERT_NE(param_value(request.vias[0], "rport"), nullptr);
  EXPECT_EQ(*param_value(request.vias[0], "rport"), "40000");
  ASSERT_NE(param_value(request.vias[0], "received"), nullptr);
  EXPECT_EQ(*param_value(request.vias[0], "received"), "203.0.113.7");
  EXPECT_NE(request.headers[0].value.find("rport=40000"), std::string::npos);
}

TEST(ViaStamping, ComparesMappedIpv6SourcesAsIpv4) {
  auto request = request_with(make_via("UDP", "203.0.113.7", 5060, {}));
  ASSERT_TRUE(stamp_top_via(request, asio::ip::make_address("::ffff:203.0.113.7"), 40000));
  EXPECT_EQ(find_param(request.vias[0].params, "received"), nullptr);
}

TEST(ViaStamping, RefusesAMessageWithoutVia) {
  SipMessage request;
  EXPECT_FALSE(stamp_top_via(request, udp_source().address, udp_source().port));
}

TEST(ResponseRoute, UnreliableWithRportGoesToReceivedAtRport) {
  const auto via = make_via("UDP", "192.0.2.10", 5070, {param("received", "203.0.113.7"), param("rport", "40000")});
  const auto route = response_route(via, udp_source());
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->address, asio::ip::make_address("203.0.113.7"));
  EXPECT_EQ(route->port, 40000);
  EXPECT_EQ(route->kind, TransportKind::kUdp);
}

TEST(ResponseRoute, UnstampedRportGoesBackToTheSource) {
  const auto via = make_via("UDP", "192.0.2.10", 5070, {flag("rport")});
  const auto route = response_route(via, udp_source());
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->address, udp_source().address);
  EXPECT_EQ(route->port, udp_source().port);
}

TEST(ResponseRoute, UnreliableWithoutRportGoesToReceivedAtSentByPort) {
  const auto via = make_via("UDP", "192.0.2.10", 5070, {param("received", "203.0.113.7")});
  const auto route = response_route(via, udp_source());
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->address, asio::ip::make_address("203.0.113.7"));
  EXPECT_EQ(route->port, 5070);
}

TEST(ResponseRoute, DefaultsToPort5060AndIgnoresMaddr) {
  const auto via = make_via("UDP", "203.0.113.7", std::nullopt, {param("maddr", "224.0.1.75"), param("ttl", "16")});
  const auto route = response_route(via, udp_source());
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->address, asio::ip::make_address("203.0.113.7"));
  EXPECT_EQ(route->port, 5060);
}

TEST(ResponseRoute, RefusesAHostnameWithoutReceived) {
  const auto via = make_via("UDP", "attacker.example.com", 5060, {});
  const auto route = response_route(via, udp_source());
  ASSERT_FALSE(route.has_value());
  EXPECT_NE(route.error().find("attacker.example.com"), std::string::npos);
}

TEST(ResponseRoute, ResolvesOnlyLocalhost) {
  const auto route = response_route(make_via("UDP", "localhost", 5080, {}), udp_source());
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->address, asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(route->port, 5080);
}

TEST(ResponseRoute, ReliableReconnectsToReceivedAtSentByPortWithTlsDefault) {
  const PeerAddress tls_source{TransportKind::kTls, asio::ip::make_address("203.0.113.7"), 50123, 4};
  const auto via =
      make_via("TLS", "192.0.2.10", std::nullopt, {param("received", "203.0.113.7"), param("rport", "50123")});
  const auto route = response_route(via, tls_source);
  ASSERT_TRUE(route.has_value()) << route.error();
  EXPECT_EQ(route->kind, TransportKind::kTls);
  EXPECT_EQ(route->address, asio::ip::make_address("203.0.113.7"));
  EXPECT_EQ(route->port, 5061);  // §18.2.2: the sent-by port, not rport, for reliable transports
}

TEST(ResponseRoute, RefusesMulticastAndUnspecifiedTargets) {
  EXPECT_FALSE(response_route(make_via("UDP", "224.0.0.1", 5060, {}), udp_source()).has_value());
  EXPECT_FALSE(response_route(make_via("UDP", "0.0.0.0", 5060, {}), udp_source()).has_value());
  EXPECT_FALSE(response_route(make_via("UDP", "203.0.113.7", 0, {}), udp_source()).has_value());
}

TEST(LiteralHostAddress, AcceptsBracketedIpv6AndRejectsNames) {
  EXPECT_EQ(literal_host_address("[2001:db8::1]"), asio::ip::make_address("2001:db8::1"));
  EXPECT_EQ(literal_host_address("2001:db8::1"), asio::ip::make_address("2001:db8::1"));
  EXPECT_EQ(literal_host_address("LOCALHOST"), asio::ip::make_address("127.0.0.1"));
  EXPECT_FALSE(literal_host_address("example.com").has_value());
  EXPECT_FALSE(literal_host_address("").has_value());
}

TEST(TopVia, ParsesTheFirstViaHeaderOfABuiltMessage) {
  SipMessage response;
  response.is_request = false;
  response.headers.push_back({"Via", "SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bKabc;received=203.0.113.7"});
  const auto via = top_via(response);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->transport, "TCP");
  EXPECT_EQ(via->host, "192.0.2.10");
  EXPECT_EQ(via->port, 5070);
}

}  // namespace via_routing_test
}  // namespace chorus::sip
