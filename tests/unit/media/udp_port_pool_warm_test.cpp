// UdpPortPool's warm pairs (issue 13): a released pair may keep its sockets, parked, for the next
// lease. Parked means deaf: nothing queued before parking survives it, and nothing sent while it is
// parked is delivered (the sender is refused, as by a closed port). Drawing it again gives the same
// sockets, listening to anyone. The warm pairs stay within their limit, a lease may end on another
// thread, and a lease that outlives its pool closes its sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "media/udp_port_pool.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::media {
namespace udp_port_pool_warm_test {

ino_t socket_inode(int fd) {
  struct stat status{};
  return ::fstat(fd, &status) == 0 ? status.st_ino : 0;
}

bool port_is_bound(std::uint16_t port) {
  return !test::udp_port_is_free(port);
}

// A loopback UDP socket connected to `port`: a refused datagram shows as ECONNREFUSED on it.
class Sender {
 public:
  explicit Sender(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  ~Sender() { ::close(fd_); }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  void send(const std::string& text) const { (void)::send(fd_, text.data(), text.size(), 0); }
  // The error the kernel reported for an earlier datagram (ICMP port unreachable), 0 for none.
  [[nodiscard]] int pending_error() const {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    return error;
  }

 private:
  int fd_;
};

// Every datagram waiting on a non-blocking socket, in order.
std::vector<std::string> read_all(int fd) {
  std::vector<std::string> datagrams;
  char buffer[256];
  for (int i = 0; i < 64; ++i) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got < 0) break;
    datagrams.emplace_back(buffer, static_cast<std::size_t>(got));
  }
  return datagrams;
}

TEST(UdpPortPoolWarm, AReleasedPairKeepsItsSocketsForTheNextLease) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1), kDefaultReceiveBuffer, {}, 1);
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  const ino_t rtp_inode = socket_inode(lease->rtp_fd());
  const ino_t rtcp_inode = socket_inode(lease->rtcp_fd());
  lease.reset();
  EXPECT_EQ(pool.leased_pairs(), 0u);
  EXPECT_EQ(pool.warm_pairs(), 1u);
  EXPECT_TRUE(port_is_bound(base)) << "a warm pair stays bound";
  EXPECT_TRUE(port_is_bound(static_cast<std::uint16_t>(base + 1)));

  auto again = pool.allocate();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->rtp_port(), base);
  EXPECT_EQ(socket_inode(again->rtp_fd()), rtp_inode) << "the same socket, not a new one";
  EXPECT_EQ(socket_inode(again->rtcp_fd()), rtcp_inode);
  EXPECT_EQ(pool.warm_pairs(), 0u);
  EXPECT_EQ(pool.leased_pairs(), 1u);
}

TEST(UdpPortPoolWarm, AParkedPairForgetsItsLastCallAndRefusesEveryoneUntilDrawn) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1), kDefaultReceiveBuffer, {}, 1);
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  Sender rtp_sender(base);
  Sender rtcp_sender(static_cast<std::uint16_t>(base + 1));
  rtp_sender.send("late packet of the ended call");
  rtcp_sender.send("late report of the ended call");
  lease.reset();
  ASSERT_EQ(pool.warm_pairs(), 1u);

  // Parked: a datagram finds no socket and its sender hears ICMP port unreachable, as for a closed port.
  rtp_sender.send("sprayed while idle");
  EXPECT_EQ(rtp_sender.pending_error(), ECONNREFUSED);

  auto again = pool.allocate();
  ASSERT_NE(again, nullptr);
  ASSERT_EQ(again->rtp_port(), base);
  rtp_sender.send("the new call's first packet");
  rtcp_sender.send("the new call's first report");
  EXPECT_EQ(read_all(again->rtp_fd()), std::vector<std::string>{"the new call's first packet"});
  EXPECT_EQ(read_all(again->rtcp_fd()), std::vector<std::string>{"the new call's first report"});
}

TEST(UdpPortPoolWarm, AWildcardBoundPairListensOnEveryAddressAgainAfterParking) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("0.0.0.0", base, static_cast<std::uint16_t>(base + 1), kDefaultReceiveBuffer, {}, 1);
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  lease.reset();
  auto again = pool.allocate();
  ASSERT_NE(again, nullptr);
  sockaddr_in local{};
  socklen_t length = sizeof local;
  ASSERT_EQ(::getsockname(again->rtp_fd(), reinterpret_cast<sockaddr*>(&local), &length), 0);
  EXPECT_EQ(local.sin_addr.s_addr, htonl(INADDR_ANY)) << "parking on loopback must not narrow the bind";
  EXPECT_EQ(ntohs(local.sin_port), base);
  Sender sender(base);
  sender.send("hello");
  EXPECT_EQ(read_all(again->rtp_fd()), std::vector<std::string>{"hello"});
}

TEST(UdpPortPoolWarm, PairsBeyondTheLimitAreClosed) {
  const std::uint16_t base = chorus::test::free_udp_range(6);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 5), kDefaultReceiveBuffer, {}, 1);
  std::vector<std::unique_ptr<PortLease>> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(pool.allocate());
  for (const auto& lease : leases) ASSERT_NE(lease, nullptr);
  leases.clear();
  EXPECT_EQ(pool.warm_pairs(), 1u);
  int bound = 0;
  for (std::uint16_t port = base; port <= base + 5; ++port) bound += port_is_bound(port) ? 1 : 0;
  EXPECT_EQ(bound, 2) << "one warm pair, the other two closed";
}

TEST(UdpPortPoolWarm, ALeaseEndingOnAnotherThreadComesBackWarm) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1), kDefaultReceiveBuffer, {}, 1);
  std::shared_ptr<PortLease> lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  const ino_t inode = socket_inode(lease->rtp_fd());
  std::thread worker([held = std::move(lease)]() mutable { held.reset(); });
  worker.join();
  auto again = pool.allocate();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(socket_inode(again->rtp_fd()), inode);
}

TEST(UdpPortPoolWarm, ALeaseOutlivingItsPoolClosesItsSockets) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  auto pool = std::make_unique<UdpPortPool>("127.0.0.1", base, static_cast<std::uint16_t>(base + 1),
                                            kDefaultReceiveBuffer, SocketMarking{}, 1);
  auto lease = pool->allocate();
  ASSERT_NE(lease, nullptr);
  pool.reset();
  lease.reset();
  EXPECT_FALSE(port_is_bound(base));
  EXPECT_FALSE(port_is_bound(static_cast<std::uint16_t>(base + 1)));
}

TEST(UdpPortPoolWarm, ThePoolClosesItsWarmPairsWhenItEnds) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  {
    UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1), kDefaultReceiveBuffer, {}, 1);
    pool.allocate().reset();
    ASSERT_TRUE(port_is_bound(base));
  }
  EXPECT_FALSE(port_is_bound(base));
}

}  // namespace udp_port_pool_warm_test
}  // namespace chorus::media
