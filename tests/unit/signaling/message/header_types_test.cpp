// Typed header grammar (RFC 3261 §20, §25.1): Via, name-addr/addr-spec, CSeq, params, lists.
#include "signaling/message/header_types.hpp"

#include <gtest/gtest.h>

#include "common/ascii.hpp"

namespace chorus::sip {
namespace header_types_test {

TEST(ParseVia, ReadsProtocolHostPortAndParams) {
  auto via = parse_via("SIP/2.0/udp pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;rport;received=192.0.2.1");
  ASSERT_TRUE(via) << via.error();
  EXPECT_EQ(via->protocol, "SIP/2.0");
  EXPECT_EQ(via->transport, "UDP");
  EXPECT_EQ(via->host, "pc33.atlanta.com");
  EXPECT_EQ(via->port, 5066);
  EXPECT_EQ(via->branch(), "z9hG4bK776asdhds");
  EXPECT_TRUE(via->has_magic_cookie());
  ASSERT_EQ(via->params.size(), 3u);
  EXPECT_FALSE(via->params[1].has_value);
}

TEST(ParseVia, ToleratesWhitespaceAroundSeparators) {
  // RFC 4475 §3.1.1.1 wsinv, after unfolding
  auto via = parse_via("SIP  / 2.0  / TCP     spindle.example.com   ;   branch  =   z9hG4bK9ikj8");
  ASSERT_TRUE(via) << via.error();
  EXPECT_EQ(via->transport, "TCP");
  EXPECT_EQ(via->host, "spindle.example.com");
  EXPECT_EQ(via->branch(), "z9hG4bK9ikj8");
  EXPECT_TRUE(parse_via("SIP/2.0/UDP host : 5060 ; branch=z9hG4bKx"));
}

TEST(ParseVia, Ipv6SentByAndReceived) {
  // RFC 5118 §4.5, §4.6, §4.8
  auto via = parse_via("SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];branch=z9hG4bKas3-111");
  ASSERT_TRUE(via) << via.error();
  EXPECT_EQ(via->host, "2001:db8::9:1");
  EXPECT_EQ(via->port, 6050);
  EXPECT_EQ(find_param(via->params, "received")->value, "[2001:db8::9:255]");
  auto bare = parse_via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3");
  ASSERT_TRUE(bare);
  EXPECT_EQ(find_param(bare->params, "received")->value, "2001:db8::9:255");
}

TEST(ParseVia, UnknownTransportAndMissingBranchAreValid) {
  auto unknown = parse_via("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->transport, "UNKNOWN");
  auto rfc2543 = parse_via("SIP/2.0/UDP iftgw.example.com");
  ASSERT_TRUE(rfc2543);
  EXPECT_EQ(rfc2543->branch(), "");
  EXPECT_FALSE(rfc2543->has_magic_cookie());
}

TEST(ParseVia, BranchThatIsOnlyTheCookieIsNotRfc3261) {
  auto via = parse_via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK");  // RFC 4475 §3.2.1
  ASSERT_TRUE(via);
  EXPECT_FALSE(via->has_magic_cookie());
}

TEST(ParseVia, RefusesMalformedValues) {
  EXPECT_FALSE(parse_via(""));
  EXPECT_FALSE(parse_via("SIP/2.0/UDP 192.0.2.15;;"));  // RFC 4475 §3.1.2.1 badinv01
  EXPECT_FALSE(parse_via("SIP/2.0/UDP"));
  EXPECT_FALSE(parse_via("SIP/2.0 host"));
  EXPECT_FALSE(parse_via("SIP/2.0/UDPhost"));
  EXPECT_FALSE(parse_via("SIP/2.0/UDP host:99999"));
  EXPECT_FALSE(parse_via("SIP/2.0/UDP [2001:db8::1"));
  EXPECT_FALSE(parse_via("SIP/2.0/UDP host extra"));
  EXPECT_FALSE(parse_via("SIP/2.0/UDP host;branch="));
}

TEST(ViaToString, KeepsParamOrderAndFlags) {
  auto via = parse_via("SIP/2.0/UDP [2001:db8::1]:5060;rport;branch=z9hG4bK1;x=\"a b\"");
  ASSERT_TRUE(via);
  via->params.push_back(GenericParam{"received", "192.0.2.7", true});
  EXPECT_EQ(via->to_string(), "SIP/2.0/UDP [2001:db8::1]:5060;rport;branch=z9hG4bK1;x=\"a b\";received=192.0.2.7");
  auto again = parse_via(via->to_string());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->params.size(), 4u);
  EXPECT_EQ(find_param(again->params, "x")->value, "a b");
}

TEST(ParseNameAddr, QuotedDisplayNameWithEscapes) {
  // RFC 4475 §3.1.1.1 wsinv: "J Rosenberg \\\"" is J Rosenberg \"
  auto na = parse_name_addr(R"("J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8)");
  ASSERT_TRUE(na) << na.error();
  EXPECT_EQ(na->display_name, R"(J Rosenberg \")");
  EXPECT_EQ(na->uri.user, "jdrosen");
  EXPECT_EQ(na->uri_text, "sip:jdrosen@example.com");
  EXPECT_EQ(na->tag(), "98asjd8");
}

TEST(ParseNameAddr, TokenDisplayNames) {
  auto lws = parse_name_addr("caller<sip:caller@example.com>;tag=323");  // §3.1.1.6 lwsdisp
  ASSERT_TRUE(lws);
  EXPECT_EQ(lws->display_name, "caller");
  auto words = parse_name_addr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>");
  ASSERT_TRUE(words);
  EXPECT_EQ(words->display_name, "token1~` token2'+_ token3*%!.-");
}

TEST(ParseNameAddr, AddrSpecParamsBelongToTheHeader) {
  // §20.10: without <>, ";unknownparam" is a header parameter (RFC 4475 §3.3.12 cparam01)
  auto na = parse_name_addr("sip:+19725552222@gw1.example.net;unknownparam");
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->uri.params.empty());
  ASSERT_EQ(na->params.size(), 1u);
  EXPECT_EQ(na->params[0].name, "unknownparam");
  // ... and inside <> it is a URI parameter (§3.3.13 cparam02)
  auto inside = parse_name_addr("<sip:+19725552222@gw1.example.net;unknownparam>");
  ASSERT_TRUE(inside);
  EXPECT_TRUE(inside->params.empty());
  EXPECT_TRUE(inside->uri.has_param("unknownparam"));
}

TEST(ParseNameAddr, AddrSpecWithSpaceBeforeParams) {
  auto na = parse_name_addr("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
  ASSERT_TRUE(na) << na.error();
  EXPECT_EQ(na->uri.host, "chair-dnrc.example.com");
  EXPECT_EQ(na->tag(), "1918181833n");
}

TEST(ParseNameAddr, OtherSchemesAndWildcard) {
  EXPECT_TRUE(parse_name_addr("isbn:2983792873"));  // RFC 4475 §3.3.4
  EXPECT_TRUE(parse_name_addr("<http://www.example.com>;tag=3234233"));
  auto star = parse_name_addr("*");
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->wildcard);
  EXPECT_EQ(star->to_string(), "*");
}

TEST(ParseNameAddr, QuotedParamValue) {
  auto na = parse_name_addr(R"(<sip:a@b>;+sip.instance="<urn:uuid:f81d4fae>";q=0.5)");
  ASSERT_TRUE(na);
  EXPECT_EQ(find_param(na->params, "+sip.instance")->value, "<urn:uuid:f81d4fae>");
  EXPECT_EQ(na->to_string(), R"(<sip:a@b>;+sip.instance="<urn:uuid:f81d4fae>";q=0.5)");
}

TEST(ParseNameAddr, SpacesInsideAnglesAreTrimmed) {
  // RFC 4475 §3.1.2.14 badaspec may be refused or accepted: we accept.
  auto na = parse_name_addr(R"("Watson, Thomas" < sip:t.watson@example.org >)");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->display_name, "Watson, Thomas");
  EXPECT_EQ(na->uri.user, "t.watson");
}

TEST(ParseNameAddr, RefusesMalformedValues) {
  EXPECT_FALSE(parse_name_addr(R"("Mr. J. User <sip:j.user@example.com>)"));           // §3.1.2.6 quotbal
  EXPECT_FALSE(parse_name_addr("Bell, Alexander <sip:a.g.bell@example.com>;tag=43"));  // §3.1.2.15
  EXPECT_FALSE(parse_name_addr(R"("Joe" <sip:joe@example.org>;;;;)"));                 // §3.1.2.1
  EXPECT_FALSE(parse_name_addr(""));
  EXPECT_FALSE(parse_name_addr("\"name\""));
  EXPECT_FALSE(parse_name_addr("<sip:a@b"));
  EXPECT_FALSE(parse_name_addr("\"a\" junk <sip:a@b>"));
  EXPECT_FALSE(parse_name_addr("sip:a b@c"));
}

TEST(NameAddrToString, QuotesDisplayNameAndUsesAngles) {
  NameAddr na;
  na.display_name = "Say \"hi\"";
  na.uri = *parse_uri("sip:alice@example.com");
  na.params.push_back(GenericParam{"tag", "abc", true});
  EXPECT_EQ(na.to_string(), R"("Say \"hi\"" <sip:alice@example.com>;tag=abc)");
  auto again = parse_name_addr(na.to_string());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->display_name, na.display_name);
  EXPECT_EQ(again->tag(), "abc");
}

TEST(ParseCSeq, NumberAndMethod) {
  auto cseq = parse_cseq("0009   INVITE");  // RFC 4475 §3.1.1.1 wsinv, unfolded
  ASSERT_TRUE(cseq);
  EXPECT_EQ(cseq->number, 9u);
  EXPECT_EQ(cseq->method, "INVITE");
  auto max = parse_cseq("2147483647 ACK");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->number, 2147483647u);
}

TEST(ParseCSeq, RefusesLargeOrMalformed) {
  EXPECT_FALSE(parse_cseq("2147483648 INVITE"));              // §8.1.1.5: below 2**31
  EXPECT_FALSE(parse_cseq("36893488147419103232 REGISTER"));  // RFC 4475 §3.1.2.4
  EXPECT_FALSE(parse_cseq("INVITE"));
  EXPECT_FALSE(parse_cseq("1"));
  EXPECT_FALSE(parse_cseq("1INVITE"));
  EXPECT_FALSE(parse_cseq("-1 INVITE"));
  EXPECT_FALSE(parse_cseq("1 IN VITE"));
}

TEST(SplitHeaderList, SplitsOnlyAtTopLevelCommas) {
  auto parts = split_header_list(R"("Doe, John" <sip:a@b;x=1,2>;q=1 , <sip:c@d>,sip:e@f)");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], R"("Doe, John" <sip:a@b;x=1,2>;q=1)");
  EXPECT_EQ(parts[1], "<sip:c@d>");
  EXPECT_EQ(parts[2], "sip:e@f");
  EXPECT_TRUE(split_header_list("   ").empty());
  auto empties = split_header_list("a,,b,");
  ASSERT_EQ(empties.size(), 4u);
  EXPECT_EQ(empties[1], "");
  auto escaped = split_header_list(R"("a\",b", c)");
  ASSERT_EQ(escaped.size(), 2u);
}

TEST(ParseParams, ReadsFlagsTokensAndQuotedValues) {
  std::vector<GenericParam> params;
  ASSERT_TRUE(parse_params(R"( ; Tag = abc ; lr ; x="q\"v" ; ip=[::1])", params));
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].name, "tag");
  EXPECT_EQ(params[0].value, "abc");
  EXPECT_FALSE(params[1].has_value);
  EXPECT_EQ(params[2].value, "q\"v");
  EXPECT_EQ(params[3].value, "[::1]");
  std::vector<GenericParam> bad;
  EXPECT_FALSE(parse_params(";", bad));
  EXPECT_FALSE(parse_params(";a=\"open", bad));
  EXPECT_FALSE(parse_params("a=b", bad));
  EXPECT_FALSE(parse_params(";a=b c", bad));
  EXPECT_TRUE(parse_params("", bad));
}

TEST(GrammarHelpers, TokenCaseAndTrim) {
  EXPECT_TRUE(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_FALSE(is_token(""));
  EXPECT_EQ(ascii_lowercase("MaX-fOrWaRdS"), "max-forwards");
  EXPECT_TRUE(iequals("Call-ID", "call-id"));
  EXPECT_FALSE(iequals("Call-ID", "call-i"));
  EXPECT_EQ(trim(" \t x y \r\n"), "x y");
}

}  // namespace header_types_test
}  // namespace chorus::sip
