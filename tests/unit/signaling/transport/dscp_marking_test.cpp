// Issue 15, QoS: every SIP socket is marked with the configured DSCP (common/dscp.hpp) — the UDP
// socket (seen by a receiver with IP_RECVTOS / IPV6_RECVTCLASS, as a capture would), the TCP
// listener and what it accepts, and an outbound connection before it connects. A socket the kernel
// refuses is counted, never fatal.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstring>
#include <optional>
#include <vector>

#include "common/dscp.hpp"
#include "signaling/transport/stream_acceptor.hpp"
#include "signaling/transport/stream_connection.hpp"
#include "signaling/transport/udp_transport.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"

namespace chorus::sip {
namespace dscp_marking_test {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using testing::run_until;

struct NoDatagrams final : UdpEvents {
  void on_datagram(std::string_view, const udp::endpoint&) override {}
};

// A UDP receiver that reports each datagram's TOS / Traffic Class octet from its ancillary data.
class MarkReceiver {
 public:
  explicit MarkReceiver(bool ipv6) : ipv6_(ipv6) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    const int on = 1;
    if (ipv6)
      ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof on);
    else
      ::setsockopt(fd_, IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
    const auto local =
        ipv6 ? udp::endpoint(asio::ip::address_v6::loopback(), 0) : udp::endpoint(asio::ip::address_v4::loopback(), 0);
    EXPECT_EQ(::bind(fd_, local.data(), static_cast<socklen_t>(local.size())), 0);
    udp::endpoint bound;
    socklen_t length = static_cast<socklen_t>(bound.capacity());
    ::getsockname(fd_, bound.data(), &length);
    endpoint_ = udp::endpoint(local.address(), bound.port());
  }
  ~MarkReceiver() { ::close(fd_); }
  MarkReceiver(const MarkReceiver&) = delete;
  MarkReceiver& operator=(const MarkReceiver&) = delete;

  [[nodiscard]] const udp::endpoint& endpoint() const { return endpoint_; }

  // The next datagram's TOS octet, within 2 s; nullopt when none came or it carried no mark.
  std::optional<int> next_tos() {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, 2000) != 1) return std::nullopt;
    char data[2048];
    alignas(cmsghdr) char control[256];
    iovec vector{data, sizeof data};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    if (::recvmsg(fd_, &message, 0) < 0) return std::nullopt;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (!ipv6_ && header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_TOS) return *CMSG_DATA(header);
      if (ipv6_ && header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_TCLASS) {
        int octet = 0;
        std::memcpy(&octet, CMSG_DATA(header), sizeof octet);
        return octet;
      }
    }
    return std::nullopt;
  }

 private:
  bool ipv6_;
  int fd_ = -1;
  udp::endpoint endpoint_;
};

TEST(SipDscpMarking, UdpSocketSendsWithTheConfiguredClass) {
  asio::io_context io;
  NoDatagrams events;
  DscpFailures failures;
  auto transport = std::make_shared<UdpTransport>(io, events);
  ASSERT_TRUE(transport->open(udp::endpoint(asio::ip::address_v4::loopback(), 0), {kDscpCs3, &failures}).has_value());
  MarkReceiver receiver(/*ipv6=*/false);
  ASSERT_FALSE(transport->send_to("OPTIONS sip:x SIP/2.0\r\n\r\n", receiver.endpoint()));
  EXPECT_EQ(receiver.next_tos(), 0x60) << "CS3 (24) << 2";
  EXPECT_EQ(failures.count(), 0u);
  transport->close();
}

TEST(SipDscpMarking, Ipv6UdpSocketSetsTheTrafficClass) {
  asio::io_context io;
  NoDatagrams events;
  auto transport = std::make_shared<UdpTransport>(io, events);
  if (!transport->open(udp::endpoint(asio::ip::address_v6::loopback(), 0), {26, nullptr})) GTEST_SKIP() << "no IPv6";
  MarkReceiver receiver(/*ipv6=*/true);
  ASSERT_FALSE(transport->send_to("OPTIONS sip:x SIP/2.0\r\n\r\n", receiver.endpoint()));
  EXPECT_EQ(receiver.next_tos(), 26 << 2) << "AF31 in the Traffic Class";
  transport->close();
}

TEST(SipDscpMarking, UnmarkedWithoutACodePoint) {
  asio::io_context io;
  NoDatagrams events;
  auto transport = std::make_shared<UdpTransport>(io, events);
  ASSERT_TRUE(transport->open(udp::endpoint(asio::ip::address_v4::loopback(), 0)).has_value());
  MarkReceiver receiver(/*ipv6=*/false);
  ASSERT_FALSE(transport->send_to("x", receiver.endpoint()));
  EXPECT_EQ(receiver.next_tos(), 0);
  transport->close();
}

struct AcceptedSockets final : AcceptorEvents {
  void on_accepted(TransportKind, tcp::socket socket) override {
    marks.push_back(socket_dscp(socket.native_handle()));
    sockets.push_back(std::move(socket));
  }
  std::vector<std::optional<std::uint8_t>> marks;
  std::vector<tcp::socket> sockets;
};

TEST(SipDscpMarking, ListenerAndAcceptedConnectionsCarryTheClass) {
  asio::io_context io;
  AcceptedSockets events;
  auto acceptor = std::make_shared<StreamAcceptor>(io, TransportKind::kTcp, events);
  ASSERT_TRUE(acceptor->open(tcp::endpoint(asio::ip::address_v4::loopback(), 0), {kDscpCs3, nullptr}).has_value());
  acceptor->start();
  tcp::socket client(io);
  client.connect(tcp::endpoint(asio::ip::address_v4::loopback(), acceptor->port()));
  ASSERT_TRUE(run_until(io, [&] { return events.marks.size() == 1; }));
  EXPECT_EQ(events.marks.front(), kDscpCs3);
  acceptor->close();
}

struct IgnoredConnectionEvents final : ConnectionEvents {
  void on_stream_message(SipMessage, const PeerAddress&) override {}
  void on_stream_bad_message(const ParseError&, const PeerAddress&) override {}
  void on_stream_keepalive(const PeerAddress&) override {}
  void on_ws_upgraded(const PeerAddress&) override {}
  void on_stream_closed(ConnectionId, std::optional<DropReason>, std::string_view) override {}
};

TEST(SipDscpMarking, OutboundConnectionIsMarkedBeforeItConnects) {
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  IgnoredConnectionEvents events;
  StreamOptions options;
  options.marking = {kDscpCs3, nullptr};
  tcp::socket socket(io);
  socket.open(tcp::v4());
  const int fd = socket.native_handle();  // moving the socket keeps its descriptor
  auto connection =
      std::make_shared<StreamConnection>(1, TransportKind::kTcp, std::move(socket), nullptr, events, options);
  connection->start_connect(listener.local_endpoint());
  EXPECT_EQ(socket_dscp(fd), kDscpCs3);
  connection->close(std::nullopt, "test over");
  testing::run_for(io, std::chrono::milliseconds(50));
}

TEST(SipDscpMarking, ARefusedMarkIsCountedNotFatal) {
  DscpFailures failures;
  EXPECT_FALSE(mark_socket(-1, kDscpCs3, &failures, "sip"));
  EXPECT_FALSE(mark_socket(-1, kDscpCs3, &failures, "sip"));
  EXPECT_EQ(failures.count(), 2u);
  EXPECT_TRUE((SocketMarking{std::nullopt, &failures}.apply(-1, "sip"))) << "no code point: nothing to refuse";
}

}  // namespace dscp_marking_test
}  // namespace chorus::sip
