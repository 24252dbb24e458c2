// SIP URI grammar (RFC 3261 §19.1, §25.1), escapes (RFC 4475 §3.1.1.3-4) and IPv6 (RFC 5118).
#include "signaling/message/sip_uri.hpp"

#include <gtest/gtest.h>

namespace chorus::sip {
namespace sip_uri_test {

TEST(SipUri, ParsesUserHostPortAndParams) {
  auto uri = parse_uri("sip:alice@Example.COM:5070;transport=tcp;lr");
  ASSERT_TRUE(uri) << uri.error();
  EXPECT_EQ(uri->scheme, "sip");
  EXPECT_EQ(uri->user, "alice");
  EXPECT_EQ(uri->host, "example.com");  // hostnames compare case-insensitively
  EXPECT_EQ(uri->port, 5070);
  ASSERT_EQ(uri->params.size(), 2u);
  EXPECT_EQ(uri->param_value("transport"), "tcp");
  EXPECT_TRUE(uri->has_param("LR"));
  EXPECT_FALSE(uri->param("lr")->has_value);
  EXPECT_FALSE(uri->param_value("maddr").has_value());
}

TEST(SipUri, SchemeIsCaseInsensitive) {
  auto uri = parse_uri("SIPS:bob@example.org");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->scheme, "sips");
  EXPECT_TRUE(uri->is_sip());
}

TEST(SipUri, HostWithoutUser) {
  auto uri = parse_uri("sip:example.com");
  ASSERT_TRUE(uri);
  EXPECT_TRUE(uri->user.empty());
  EXPECT_EQ(uri->host, "example.com");
  EXPECT_FALSE(uri->port.has_value());
}

TEST(SipUri, DecodesEscapedUserPart) {
  // RFC 4475 §3.1.1.3 esc01
  auto uri = parse_uri("sip:sips%3Auser%40example.com@example.net");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->user, "sips:user@example.com");
  EXPECT_EQ(uri->host, "example.net");
  EXPECT_EQ(uri->to_string(), "sip:sips%3Auser%40example.com@example.net");
}

TEST(SipUri, EscapedNulIsKept) {
  // RFC 4475 §3.1.1.4 escnull
  auto uri = parse_uri("sip:null-%00-null@example.com");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->user, std::string("null-\0-null", 11));
  EXPECT_EQ(uri->to_string(), "sip:null-%00-null@example.com");
}

TEST(SipUri, DecodesEscapedParams) {
  auto uri = parse_uri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->user, "caller");
  EXPECT_TRUE(uri->has_param("lr"));
  EXPECT_EQ(uri->param_value("name"), "value%41");
}

TEST(SipUri, UserPartMayHoldSemicolonsAndQuestionMarks) {
  // RFC 4475 §3.1.1.9 semiuri and §3.1.1.2 intmeth
  auto semi = parse_uri("sip:user;par=u%40example.net@example.com");
  ASSERT_TRUE(semi);
  EXPECT_EQ(semi->user, "user;par=u@example.net");
  EXPECT_EQ(semi->host, "example.com");
  EXPECT_TRUE(semi->params.empty());

  auto odd = parse_uri(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  ASSERT_TRUE(odd) << odd.error();
  EXPECT_EQ(odd->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(odd->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
}

TEST(SipUri, ParsesHeaders) {
  auto uri = parse_uri("sip:user@example.com?Route=%3Csip:sip.example.com%3E&Subject=hi");
  ASSERT_TRUE(uri);
  ASSERT_EQ(uri->headers.size(), 2u);
  EXPECT_EQ(uri->headers[0].first, "Route");
  EXPECT_EQ(uri->headers[0].second, "<sip:sip.example.com>");
  EXPECT_EQ(uri->to_string(), "sip:user@example.com?Route=%3Csip:sip.example.com%3E&Subject=hi");
}

TEST(SipUri, Ipv6ReferenceWithAndWithoutPort) {
  auto plain = parse_uri("sip:[2001:db8::10]");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "2001:db8::10");
  EXPECT_TRUE(plain->host_is_ipv6());
  EXPECT_FALSE(plain->port);

  // RFC 5118 §4.2: the last group is part of the address, not a port.
  auto ambiguous = parse_uri("sip:[2001:db8::10:5070]");
  ASSERT_TRUE(ambiguous);
  EXPECT_EQ(ambiguous->host, "2001:db8::10:5070");
  EXPECT_FALSE(ambiguous->port);

  auto with_port = parse_uri("sip:user@[2001:DB8::10]:5070");
  ASSERT_TRUE(with_port);
  EXPECT_EQ(with_port->host, "2001:db8::10");
  EXPECT_EQ(with_port->port, 5070);
  EXPECT_EQ(with_port->to_string(), "sip:user@[2001:db8::10]:5070");
}

TEST(SipUri, Ipv6WithEmbeddedIpv4) {
  EXPECT_TRUE(parse_uri("sip:user@[::ffff:192.0.2.2]"));
  EXPECT_TRUE(parse_uri("sip:user@[2001:db8::192.0.2.1]"));  // RFC 5118 §4.11
  // RFC 5118 §4.12: three colons; RFC 5954 makes it invalid and so do we.
  EXPECT_FALSE(parse_uri("sip:user@[2001:db8:::192.0.2.1]"));
}

TEST(SipUri, RefusesIpv6WithoutBrackets) {
  EXPECT_FALSE(parse_uri("sip:2001:db8::10"));  // RFC 5118 §4.4
}

TEST(SipUri, RefusesMalformedText) {
  EXPECT_FALSE(parse_uri(""));
  EXPECT_FALSE(parse_uri("<sip:user@example.com>"));  // RFC 4475 §3.1.2.7
  EXPECT_FALSE(parse_uri("sip:user@example.com; lr"));
  EXPECT_FALSE(parse_uri("sip:user@"));
  EXPECT_FALSE(parse_uri("sip:@example.com"));
  EXPECT_FALSE(parse_uri("sip:user@example.com:"));
  EXPECT_FALSE(parse_uri("sip:user@example.com:65536"));
  EXPECT_FALSE(parse_uri("sip:user@example.com;"));
  EXPECT_FALSE(parse_uri("sip:us%4ger@example.com"));
  EXPECT_FALSE(parse_uri("sip:user@[2001:db8::1"));
  EXPECT_FALSE(parse_uri("sip:user@example.com?novalue"));
  EXPECT_FALSE(parse_uri("nocolon"));
}

TEST(SipUri, OtherSchemesStayOpaque) {
  auto tel = parse_uri("tel:+1-201-555-0123");
  ASSERT_TRUE(tel);
  EXPECT_EQ(tel->scheme, "tel");
  EXPECT_FALSE(tel->is_sip());
  EXPECT_EQ(tel->opaque, "+1-201-555-0123");
  EXPECT_EQ(tel->to_string(), "tel:+1-201-555-0123");

  auto unknown = parse_uri("nobodyKnowsThisScheme:totallyopaquecontent");  // RFC 4475 §3.3.2
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->scheme, "nobodyknowsthisscheme");
  EXPECT_TRUE(parse_uri("soap.beep://192.0.2.103:3002"));  // §3.3.3
  EXPECT_FALSE(parse_uri("http://a b"));
}

TEST(SipUri, ToStringEscapesWhatTheGrammarReserves) {
  SipUri uri;
  uri.scheme = "sip";
  uri.user = "I have spaces";
  uri.host = "example.net";
  uri.params.push_back(UriParam{"maddr", "239.255.255.1", true});
  EXPECT_EQ(uri.to_string(), "sip:I%20have%20spaces@example.net;maddr=239.255.255.1");
  auto again = parse_uri(uri.to_string());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->user, "I have spaces");
}

TEST(BracketHost, AddsBracketsOnlyToIpv6) {
  EXPECT_EQ(bracket_host("2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(bracket_host("[2001:db8::1]"), "[2001:db8::1]");
  EXPECT_EQ(bracket_host("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(bracket_host("example.com"), "example.com");
}

}  // namespace sip_uri_test
}  // namespace chorus::sip
