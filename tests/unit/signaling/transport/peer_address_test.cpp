#include "signaling/transport/peer_address.hpp"

#include <gtest/gtest.h>

namespace chorus::sip {
namespace peer_address_test {

TEST(PeerAddress, TransportNamesRoundTripCaseInsensitively) {
  EXPECT_EQ(transport_name(TransportKind::kTls), "TLS");
  EXPECT_EQ(transport_from_name("udp"), TransportKind::kUdp);
  EXPECT_EQ(transport_from_name("Tcp"), TransportKind::kTcp);
  EXPECT_EQ(transport_from_name("wss"), TransportKind::kWss);
  EXPECT_FALSE(transport_from_name("SCTP").has_value());
  EXPECT_FALSE(transport_from_name("").has_value());
}

TEST(PeerAddress, ToStringBracketsIpv6AndNamesTheConnection) {
  PeerAddress udp{TransportKind::kUdp, boost::asio::ip::make_address("127.0.0.1"), 5060, 0};
  EXPECT_EQ(udp.to_string(), "udp:127.0.0.1:5060");
  PeerAddress tcp{TransportKind::kTcp, boost::asio::ip::make_address("::1"), 5061, 7};
  EXPECT_EQ(tcp.to_string(), "tcp:[::1]:5061#7");
}

}  // namespace peer_address_test
}  // namespace chorus::sip
