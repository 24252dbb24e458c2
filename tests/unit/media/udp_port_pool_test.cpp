// UdpPortPool: RTP on an even port and RTCP on the next odd one (RFC 3550 §11), both really bound
// on 127.0.0.1; leases give their ports back; ports held elsewhere are skipped; an empty pool
// yields nullptr. Each test uses its own port range so tests may run in parallel processes.
#include "media/udp_port_pool.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

namespace chorus::media {
namespace udp_port_pool_test {

// A UDP socket bound (or not) to 127.0.0.1:port, closed at scope exit; `error` is bind's errno.
struct Probe {
  explicit Probe(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) error = errno;
  }
  ~Probe() { ::close(fd); }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  [[nodiscard]] bool bound() const { return error == 0; }

  int fd = -1;
  int error = 0;
};

std::uint16_t local_port_of(int fd) {
  sockaddr_in addr{};
  socklen_t length = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return 0;
  return ntohs(addr.sin_port);
}

TEST(UdpPortPool, LeasesEvenRtpAndOddRtcpReallyBound) {
  const std::uint16_t base = chorus::test::free_udp_range(20);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 19));
  EXPECT_EQ(pool.capacity_pairs(), 10u);
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->rtp_port() % 2, 0);
  EXPECT_EQ(lease->rtcp_port(), lease->rtp_port() + 1);
  EXPECT_GE(lease->rtp_port(), base);
  EXPECT_LE(lease->rtcp_port(), static_cast<std::uint16_t>(base + 19));
  EXPECT_EQ(local_port_of(lease->rtp_fd()), lease->rtp_port());
  EXPECT_EQ(local_port_of(lease->rtcp_fd()), lease->rtcp_port());
  EXPECT_EQ(pool.leased_pairs(), 1u);
  EXPECT_EQ(pool.bound_ports(), 2u);

  Probe rtp(lease->rtp_port());
  EXPECT_EQ(rtp.error, EADDRINUSE);
  Probe rtcp(lease->rtcp_port());
  EXPECT_EQ(rtcp.error, EADDRINUSE);
}

TEST(UdpPortPool, OddFirstPortIsRoundedUpToEven) {
  const std::uint16_t base = chorus::test::free_udp_range(6);
  UdpPortPool pool(
      "127.0.0.1", static_cast<std::uint16_t>(base + 1),
      static_cast<std::uint16_t>(
          base + 5));  // pairs static_cast<std::uint16_t>(base + 2)/3 and static_cast<std::uint16_t>(base + 4)/5
  EXPECT_EQ(pool.capacity_pairs(), 2u);
  auto a = pool.allocate();
  auto b = pool.allocate();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ((std::set<int>{a->rtp_port(), b->rtp_port()}),
            (std::set<int>{static_cast<std::uint16_t>(base + 2), static_cast<std::uint16_t>(base + 4)}));
}

TEST(UdpPortPool, LeaseDestructionFreesThePorts) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1));
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  const std::uint16_t port = lease->rtp_port();
  EXPECT_EQ(pool.allocate(), nullptr);
  lease.reset();
  EXPECT_EQ(pool.leased_pairs(), 0u);
  EXPECT_EQ(pool.bound_ports(), 0u);
  {
    Probe rtp(port);
    Probe rtcp(port + 1);
    EXPECT_TRUE(rtp.bound()) << "the lease closed its RTP socket";
    EXPECT_TRUE(rtcp.bound()) << "the lease closed its RTCP socket";
  }
  auto again = pool.allocate();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->rtp_port(), port);
}

TEST(UdpPortPool, ReleasedPairRestsBeforeReuse) {
  const std::uint16_t base = chorus::test::free_udp_range(6);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 5));
  auto first = pool.allocate();
  ASSERT_NE(first, nullptr);
  const std::uint16_t port = first->rtp_port();
  first.reset();
  auto next = pool.allocate();
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next->rtp_port(), port) << "least recently used first";
}

TEST(UdpPortPool, DrawsPairsAtRandomNotInOrder) {
  const std::uint16_t base = chorus::test::free_udp_range(40);
  // RFC 7362 §4: a port learnt from one call must not predict the next one. Twenty fresh pools
  // over the same range: in order, each would hand out `base` first.
  std::set<int> first_ports;
  for (int round = 0; round < 20; ++round) {
    UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 39));
    auto lease = pool.allocate();
    ASSERT_NE(lease, nullptr);
    first_ports.insert(lease->rtp_port());
  }
  // 20 uniform draws from 20 pairs land on fewer than 4 distinct pairs with probability < 1e-12.
  EXPECT_GE(first_ports.size(), 4u);
}

TEST(UdpPortPool, EveryPairIsLeasedOnceUntilGivenBack) {
  const std::uint16_t base = chorus::test::free_udp_range(40);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 39));
  std::vector<std::unique_ptr<PortLease>> leases;
  std::vector<int> order;
  std::set<int> ports;
  while (auto lease = pool.allocate()) {
    order.push_back(lease->rtp_port());
    ports.insert(lease->rtp_port());
    leases.push_back(std::move(lease));
  }
  EXPECT_EQ(leases.size(), pool.capacity_pairs());
  EXPECT_EQ(ports.size(), pool.capacity_pairs()) << "no pair is handed out twice";
  EXPECT_FALSE(std::ranges::is_sorted(order)) << "20 pairs drawn in ascending order: not random (p = 1/20!)";
}

TEST(UdpPortPool, ReleasedPairRestsWhileOthersAreFree) {
  const std::uint16_t base = chorus::test::free_udp_range(20);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 19));  // 10 pairs
  auto first = pool.allocate();
  ASSERT_NE(first, nullptr);
  const std::uint16_t port = first->rtp_port();
  first.reset();
  // It rests until half the pool (5 pairs) was released after it: the next draws never return it.
  std::vector<std::unique_ptr<PortLease>> held;
  for (int i = 0; i < 9; ++i) {
    held.push_back(pool.allocate());
    ASSERT_NE(held.back(), nullptr);
    EXPECT_NE(held.back()->rtp_port(), port) << i;
  }
  // Nothing else is free now: the resting pair beats refusing the call.
  auto last = pool.allocate();
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->rtp_port(), port);
}

TEST(UdpPortPool, SocketsGetAReceiveBufferSizedForMedia) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  constexpr std::size_t kWanted = 512 * 1024;
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1), kWanted);
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  int granted = 0;
  socklen_t length = sizeof granted;
  ASSERT_EQ(::getsockopt(lease->rtp_fd(), SOL_SOCKET, SO_RCVBUF, &granted, &length), 0);
  EXPECT_EQ(static_cast<std::size_t>(granted), pool.granted_receive_buffer());
  // socket(7): the kernel grants min(request, rmem_max), doubled; at least that much is there.
  std::size_t rmem_max = kWanted;
  if (FILE* file = std::fopen("/proc/sys/net/core/rmem_max", "r")) {
    unsigned long value = 0;
    if (std::fscanf(file, "%lu", &value) == 1) rmem_max = value;
    std::fclose(file);
  }
  EXPECT_GE(static_cast<std::size_t>(granted), std::min(kWanted, rmem_max));
}

TEST(UdpPortPool, PortHeldByOthersIsSkipped) {
  const std::uint16_t base = chorus::test::free_udp_range(4);
  Probe squatter(base);  // another process's RTP port
  ASSERT_TRUE(squatter.bound());
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 3));
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->rtp_port(), static_cast<std::uint16_t>(base + 2));
  EXPECT_EQ(pool.allocate(), nullptr);
  EXPECT_EQ(pool.leased_pairs(), 1u);
}

TEST(UdpPortPool, PairWithBusyRtcpPortIsSkippedWithoutLeakingRtp) {
  const std::uint16_t base = chorus::test::free_udp_range(4);
  Probe squatter(static_cast<std::uint16_t>(base + 1));  // RTCP port of the first pair
  ASSERT_TRUE(squatter.bound());
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 3));
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->rtp_port(), static_cast<std::uint16_t>(base + 2));
  Probe rtp(base);
  EXPECT_TRUE(rtp.bound()) << "the RTP socket of the skipped pair was closed";
}

TEST(UdpPortPool, SkippedPairIsUsableOnceFreed) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 1));
  {
    Probe squatter(base);
    ASSERT_TRUE(squatter.bound());
    EXPECT_EQ(pool.allocate(), nullptr);
  }
  auto lease = pool.allocate();
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->rtp_port(), base);
}

TEST(UdpPortPool, ExhaustionYieldsNullptr) {
  const std::uint16_t base = chorus::test::free_udp_range(6);
  UdpPortPool pool("127.0.0.1", base, static_cast<std::uint16_t>(base + 5));
  std::vector<std::unique_ptr<PortLease>> leases;
  for (int i = 0; i < 3; ++i) {
    leases.push_back(pool.allocate());
    ASSERT_NE(leases.back(), nullptr) << i;
  }
  EXPECT_EQ(pool.allocate(), nullptr);
  EXPECT_EQ(pool.leased_pairs(), 3u);
  EXPECT_EQ(pool.bound_ports(), 6u);
  std::set<int> ports;
  for (const auto& l : leases) ports.insert(l->rtp_port());
  EXPECT_EQ(ports, (std::set<int>{base, static_cast<std::uint16_t>(base + 2), static_cast<std::uint16_t>(base + 4)}));
}

TEST(UdpPortPool, Ipv6BindAddress) {
  const std::uint16_t base = chorus::test::free_udp_range(2);
  UdpPortPool pool("::1", base, static_cast<std::uint16_t>(base + 1));
  auto lease = pool.allocate();
  if (!lease) GTEST_SKIP() << "no IPv6 loopback here";
  EXPECT_EQ(lease->rtp_port(), base);
}

TEST(UdpPortPool, BadBindAddressLeasesNothing) {
  const std::uint16_t base = chorus::test::free_udp_range(4);
  UdpPortPool pool("not-an-ip", base, static_cast<std::uint16_t>(base + 3));
  EXPECT_EQ(pool.allocate(), nullptr);
  EXPECT_EQ(pool.leased_pairs(), 0u);
}

}  // namespace udp_port_pool_test
}  // namespace chorus::media
