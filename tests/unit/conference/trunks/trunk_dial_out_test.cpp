// prepare_trunk_call (issue 15): the INVITE's target, hops, credentials and caller-ID for a dial-out
// through a trunk.
#include "conference/trunks/trunk_dial_out.hpp"

#include <gtest/gtest.h>

namespace chorus::conference {
namespace trunk_dial_out_test {

Trunk pbx() {
  Trunk trunk;
  trunk.id = "trk_pbx";
  trunk.targets = {{.host = "192.0.2.20", .port = 5080, .transport = TrunkTransport::kTcp},
                   {.host = "192.0.2.21", .port = std::nullopt, .transport = std::nullopt}};
  trunk.numbering = {.country_code = "49", .national_prefix = "0", .international_prefix = "00"};
  return trunk;
}

TEST(PrepareTrunkCall, IpTargetsBecomeOrderedHopsForFailover) {
  sip::OutgoingCallRequest call;
  ASSERT_TRUE(prepare_trunk_call(pbx(), "0049 30 123456", call).has_value());
  EXPECT_EQ(call.target, "sip:+4930123456@192.0.2.20:5080;transport=tcp");
  ASSERT_EQ(call.hops.size(), 2U);
  EXPECT_EQ(call.hops[0].hop.to_string(), "tcp:192.0.2.20:5080");
  EXPECT_EQ(call.hops[1].hop.to_string(), "udp:192.0.2.21:5060");
  EXPECT_FALSE(call.credentials.has_value());
  EXPECT_TRUE(call.extra_headers.empty());
  EXPECT_EQ(call.from_host, "192.0.2.20");
}

TEST(PrepareTrunkCall, NamedTargetIsLeftToTheUasLocator) {
  Trunk trunk = pbx();
  trunk.targets = {{.host = "sip.provider.example", .port = std::nullopt, .transport = std::nullopt}};
  trunk.outbound = TrunkCredentials{.username = "u", .password = "p"};
  trunk.caller_id = "sip:+4930999@provider.example";
  sip::OutgoingCallRequest call;
  ASSERT_TRUE(prepare_trunk_call(trunk, "sip:030123456@ignored.example", call).has_value());
  EXPECT_EQ(call.target, "sip:+4930123456@sip.provider.example");
  EXPECT_TRUE(call.hops.empty());
  ASSERT_TRUE(call.credentials.has_value());
  EXPECT_EQ(call.credentials->username, "u");
  ASSERT_EQ(call.extra_headers.size(), 1U);
  EXPECT_EQ(call.extra_headers[0].name, "P-Asserted-Identity");
  EXPECT_EQ(call.extra_headers[0].value, "<sip:+4930999@provider.example>");
  EXPECT_EQ(call.from_user, "+4930999");
}

TEST(PrepareTrunkCall, JunkNumbersAreRefused) {
  sip::OutgoingCallRequest call;
  EXPECT_FALSE(prepare_trunk_call(pbx(), "call me", call).has_value());
  EXPECT_FALSE(prepare_trunk_call(pbx(), "+1234567890123456", call).has_value());
  Trunk none = pbx();
  none.targets.clear();
  EXPECT_FALSE(prepare_trunk_call(none, "+4930123456", call).has_value());
}

}  // namespace trunk_dial_out_test
}  // namespace chorus::conference
