// Egress policy (issue 12): address kinds, the dial_out_allow parser, which dial-out hosts and
// resolved addresses are refused, and which webhook addresses are.
#include "conference/egress_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::conference {
namespace egress_policy_test {

using boost::asio::ip::make_address;

DialOutPolicy policy(std::vector<std::string> entries) {
  auto allow = parse_dial_out_allow(entries);
  EXPECT_TRUE(allow.has_value()) << allow.error();
  return DialOutPolicy(allow.value_or(DialOutAllowList{}));
}

TEST(AddressKind, ClassifiesSpecialPurposeAndPrivateBlocks) {
  EXPECT_EQ(classify_address(make_address("127.0.0.1")), AddressKind::kLoopback);
  EXPECT_EQ(classify_address(make_address("127.255.0.9")), AddressKind::kLoopback);
  EXPECT_EQ(classify_address(make_address("::1")), AddressKind::kLoopback);
  EXPECT_EQ(classify_address(make_address("::ffff:127.0.0.1")), AddressKind::kLoopback);  // mapped: its IPv4
  EXPECT_EQ(classify_address(make_address("169.254.169.254")), AddressKind::kLinkLocal);  // cloud metadata
  EXPECT_EQ(classify_address(make_address("fe80::1")), AddressKind::kLinkLocal);
  EXPECT_EQ(classify_address(make_address("febf::1")), AddressKind::kLinkLocal);
  EXPECT_EQ(classify_address(make_address("fec0::1")), AddressKind::kPublic);  // outside fe80::/10
  EXPECT_EQ(classify_address(make_address("224.0.0.1")), AddressKind::kMulticast);
  EXPECT_EQ(classify_address(make_address("ff02::1")), AddressKind::kMulticast);
  EXPECT_EQ(classify_address(make_address("0.0.0.0")), AddressKind::kUnspecified);
  EXPECT_EQ(classify_address(make_address("0.1.2.3")), AddressKind::kUnspecified);
  EXPECT_EQ(classify_address(make_address("::")), AddressKind::kUnspecified);
  EXPECT_EQ(classify_address(make_address("255.255.255.255")), AddressKind::kBroadcast);
  EXPECT_EQ(classify_address(make_address("240.0.0.1")), AddressKind::kReserved);
  EXPECT_EQ(classify_address(make_address("10.1.2.3")), AddressKind::kPrivate);
  EXPECT_EQ(classify_address(make_address("172.16.0.1")), AddressKind::kPrivate);
  EXPECT_EQ(classify_address(make_address("172.31.255.255")), AddressKind::kPrivate);
  EXPECT_EQ(classify_address(make_address("172.32.0.1")), AddressKind::kPublic);
  EXPECT_EQ(classify_address(make_address("192.168.1.1")), AddressKind::kPrivate);
  EXPECT_EQ(classify_address(make_address("100.64.0.1")), AddressKind::kShared);
  EXPECT_EQ(classify_address(make_address("100.127.255.255")), AddressKind::kShared);
  EXPECT_EQ(classify_address(make_address("100.128.0.1")), AddressKind::kPublic);
  EXPECT_EQ(classify_address(make_address("fc00::1")), AddressKind::kUniqueLocal);
  EXPECT_EQ(classify_address(make_address("fd12:3456::1")), AddressKind::kUniqueLocal);
  EXPECT_EQ(classify_address(make_address("192.0.2.10")), AddressKind::kPublic);
  EXPECT_EQ(classify_address(make_address("2001:db8::1")), AddressKind::kPublic);
}

TEST(DialOutAllowList, ParsesRangesNamesAndWildcards) {
  const std::vector<std::string> entries{" 192.0.2.0/24 ",   "198.51.100.7",        "2001:db8::/32",
                                         "PBX.Example.COM.", "*.trunk.example.net", ""};
  auto allow = parse_dial_out_allow(entries);
  ASSERT_TRUE(allow.has_value()) << allow.error();
  ASSERT_EQ(allow->ranges.size(), 3U);
  EXPECT_EQ(allow->ranges[1].to_string(), "198.51.100.7/32");
  EXPECT_EQ(allow->hosts, std::vector<std::string>{"pbx.example.com"});
  EXPECT_EQ(allow->domains, std::vector<std::string>{"trunk.example.net"});
}

TEST(DialOutAllowList, RejectsEntriesThatAreNoneOfTheForms) {
  for (const char* bad : {"10.1.2.3/8", "300.1.1.1", "bad host", "*.", "*.10.0.0.1", "-pbx.example.com",
                          "pbx_1.example.com", "sip:pbx.example.com"}) {
    const std::vector<std::string> entries{bad};
    auto allow = parse_dial_out_allow(entries);
    EXPECT_FALSE(allow.has_value()) << bad;
    if (!allow) {
      EXPECT_NE(allow.error().find(std::string(bad).substr(0, 3)), std::string::npos) << allow.error();
    }
  }
}

TEST(DialOutPolicy, EmptyAllowListRefusesEveryTarget) {
  const DialOutPolicy none;
  const auto refused = none.refuse_host("192.0.2.10");
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("dial_out_allow is empty"), std::string::npos);
  EXPECT_TRUE(none.refuse_host("pbx.example.com").has_value());
}

TEST(DialOutPolicy, AllowsOnlyListedLiteralsNamesAndSubdomains) {
  const auto allowed = policy({"192.0.2.0/24", "pbx.example.com", "*.trunk.example.net", "2001:db8::/32"});
  EXPECT_FALSE(allowed.refuse_host("192.0.2.10").has_value());
  EXPECT_FALSE(allowed.refuse_host("[2001:db8::5]").has_value());
  EXPECT_FALSE(allowed.refuse_host("PBX.example.com").has_value());
  EXPECT_FALSE(allowed.refuse_host("a.trunk.example.net").has_value());
  EXPECT_FALSE(allowed.refuse_host("b.a.trunk.example.net.").has_value());
  const auto outside = allowed.refuse_host("198.51.100.1");
  ASSERT_TRUE(outside.has_value());
  EXPECT_EQ(*outside, "198.51.100.1 is not in dial_out_allow");
  EXPECT_TRUE(allowed.refuse_host("trunk.example.net").has_value());  // the wildcard is for names under it
  EXPECT_TRUE(allowed.refuse_host("eviltrunk.example.net").has_value());
  EXPECT_TRUE(allowed.refuse_host("pbx.example.com.evil.org").has_value());
  EXPECT_TRUE(allowed.refuse_host("evil.org").has_value());
}

TEST(DialOutPolicy, RefusesSpecialPurposeAddressesInsideWiderRanges) {
  const auto everything = policy({"0.0.0.0/0", "::/0"});
  EXPECT_FALSE(everything.refuse_host("192.0.2.10").has_value());
  EXPECT_FALSE(everything.refuse_host("10.0.0.5").has_value());  // private PBXs are dialled when listed
  for (const char* target : {"127.0.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0", "255.255.255.255", "::1",
                             "[fe80::1]", "ff02::1", "::ffff:127.0.0.1"}) {
    const auto refused = everything.refuse_host(target);
    ASSERT_TRUE(refused.has_value()) << target;
    EXPECT_NE(refused->find("refused unless dial_out_allow lists it"), std::string::npos) << *refused;
  }
  EXPECT_EQ(*everything.refuse_host("127.0.0.1"), "127.0.0.1 is loopback (refused unless dial_out_allow lists it)");
}

TEST(DialOutPolicy, LoopbackListedExplicitlyIsDialled) {
  const auto tests = policy({"127.0.0.1", "localhost"});
  EXPECT_FALSE(tests.refuse_host("127.0.0.1").has_value());
  EXPECT_FALSE(tests.refuse_host("localhost").has_value());
  EXPECT_FALSE(tests.refuse_address(make_address("127.0.0.1")).has_value());
  EXPECT_TRUE(tests.refuse_host("127.0.0.2").has_value());  // not in the listed /32
  EXPECT_TRUE(tests.refuse_address(make_address("::1")).has_value());
}

TEST(DialOutPolicy, ResolvedAddressOfAListedNameIsCheckedToo) {
  const auto named = policy({"pbx.example.com"});
  ASSERT_FALSE(named.refuse_host("pbx.example.com").has_value());
  EXPECT_FALSE(named.refuse_address(make_address("192.0.2.10")).has_value());
  const auto rebound = named.refuse_address(make_address("127.0.0.1"));
  ASSERT_TRUE(rebound.has_value());
  EXPECT_NE(rebound->find("loopback"), std::string::npos);
  EXPECT_TRUE(named.refuse_address(make_address("169.254.169.254")).has_value());
}

TEST(WebhookTargetPolicy, RefusesPrivateRangesByDefault) {
  const WebhookTargetPolicy strict;
  for (const char* address : {"127.0.0.1", "10.0.0.1", "172.20.1.1", "192.168.0.10", "169.254.169.254", "100.64.1.1",
                              "::1", "fd00::1", "fe80::1", "0.0.0.0", "::ffff:10.0.0.1"})
    EXPECT_TRUE(strict.refuse(make_address(address)).has_value()) << address;
  EXPECT_FALSE(strict.refuse(make_address("192.0.2.10")).has_value());
  EXPECT_FALSE(strict.refuse(make_address("2001:db8::1")).has_value());
  EXPECT_EQ(*strict.refuse(make_address("127.0.0.1")),
            "127.0.0.1 is loopback (refused unless webhook_allow_private is set or webhook_allow_ranges "
            "lists it)");
}

TEST(WebhookTargetPolicy, AllowPrivateOpensPrivateButNotUnspecifiedOrMulticast) {
  const WebhookTargetPolicy open{.allow_private = true, .allow_ranges = {}};
  EXPECT_FALSE(open.refuse(make_address("127.0.0.1")).has_value());
  EXPECT_FALSE(open.refuse(make_address("10.0.0.1")).has_value());
  EXPECT_TRUE(open.refuse(make_address("0.0.0.0")).has_value());
  EXPECT_TRUE(open.refuse(make_address("224.0.0.1")).has_value());
}

TEST(WebhookTargetPolicy, AllowRangesOpenOnlyTheirAddresses) {
  auto range = sip::parse_address_range("10.20.0.0/16");
  ASSERT_TRUE(range.has_value());
  const WebhookTargetPolicy ranged{.allow_private = false, .allow_ranges = {*range}};
  EXPECT_FALSE(ranged.refuse(make_address("10.20.3.4")).has_value());
  EXPECT_TRUE(ranged.refuse(make_address("10.21.3.4")).has_value());
  EXPECT_TRUE(ranged.refuse(make_address("127.0.0.1")).has_value());
}

TEST(HostName, FollowsRfc1123Labels) {
  EXPECT_TRUE(is_host_name("pbx.example.com"));
  EXPECT_TRUE(is_host_name("pbx.example.com."));
  EXPECT_TRUE(is_host_name("a-b.c1"));
  EXPECT_FALSE(is_host_name(""));
  EXPECT_FALSE(is_host_name("."));
  EXPECT_FALSE(is_host_name("a..b"));
  EXPECT_FALSE(is_host_name("-a.b"));
  EXPECT_FALSE(is_host_name("a-.b"));
  EXPECT_FALSE(is_host_name(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(is_host_name("a b"));
}

}  // namespace egress_policy_test
}  // namespace chorus::conference
