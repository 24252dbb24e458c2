// TickSetRing (media/transport/tick_set_ring.hpp): real UDP sockets on loopback and the kernel's
// io_uring. Skipped where the kernel has no ring to give (the poller then keeps epoll, which
// readiness_poller_test covers).
#include "media/transport/tick_set_ring.hpp"

#include "tests/unit/media/transport/loopback_udp_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace chorus::media {
namespace tick_set_ring_test {

using UdpSocket = testing::LoopbackUdpSocket;

struct Taken {
  TickSetRing::Key key;
  std::vector<std::uint8_t> bytes;
  std::uint16_t source_port;
  bool truncated;
};

class TickSetRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = TickSetRing::open();
    if (!ring_) GTEST_SKIP() << "no io_uring receive ring on this kernel";
  }

  // One poll; what it handed out, in order.
  std::vector<Taken> poll() {
    std::vector<Taken> taken;
    ring_->poll([&](TickSetRing::Key key, const TakenDatagram& datagram) {
      const auto length = std::min(datagram.length, datagram.buffer.size());
      std::uint16_t port = 0;
      if (datagram.source->sa_family == AF_INET)
        port = ntohs(reinterpret_cast<const sockaddr_in*>(datagram.source)->sin_port);
      taken.push_back({key,
                       {datagram.buffer.begin(), datagram.buffer.begin() + static_cast<std::ptrdiff_t>(length)},
                       port,
                       datagram.truncated});
    });
    return taken;
  }

  std::unique_ptr<TickSetRing> ring_;
  UdpSocket sender_;
};

TEST_F(TickSetRingTest, HandsOutEverySocketsDatagramsWithTheirSourceInOneSystemCall) {
  std::array<UdpSocket, 3> sockets;
  for (std::size_t i = 0; i < sockets.size(); ++i) ASSERT_TRUE(ring_->arm(sockets[i].fd(), 10 + i));
  const std::array<std::uint8_t, 3> first{0x80, 0x00, 0x01};
  const std::array<std::uint8_t, 2> second{0x80, 0x02};
  sender_.send_bytes_to(sockets[2], first);
  sender_.send_bytes_to(sockets[0], first);
  sender_.send_bytes_to(sockets[0], second);

  const auto calls_before = ring_->stats().enter_calls;
  const auto taken = poll();
  EXPECT_EQ(ring_->stats().enter_calls - calls_before, 1U);
  ASSERT_EQ(taken.size(), 3U);
  std::map<TickSetRing::Key, std::vector<std::vector<std::uint8_t>>> by_key;
  for (const auto& datagram : taken) {
    by_key[datagram.key].push_back(datagram.bytes);
    EXPECT_EQ(datagram.source_port, sender_.port());
    EXPECT_FALSE(datagram.truncated);
  }
  using Bytes = std::vector<std::uint8_t>;
  EXPECT_EQ(by_key[10], (std::vector<Bytes>{Bytes(first.begin(), first.end()), Bytes(second.begin(), second.end())}));
  EXPECT_EQ(by_key[12], (std::vector<Bytes>{Bytes(first.begin(), first.end())}));
  EXPECT_EQ(by_key.count(11), 0U);
  EXPECT_TRUE(poll().empty());  // each datagram once
}

TEST_F(TickSetRingTest, ReadsNothingBetweenPolls) {
  UdpSocket socket;
  ASSERT_TRUE(ring_->arm(socket.fd(), 1));
  sender_.send_to(socket);
  EXPECT_GT(socket.queued_octets(), 0);  // still in the socket: nothing ran for it
  EXPECT_EQ(poll().size(), 1U);
  EXPECT_EQ(socket.queued_octets(), 0);
}

TEST_F(TickSetRingTest, ADisarmedSocketKeepsWhatArrivesForItsNextKey) {
  UdpSocket socket;
  ASSERT_TRUE(ring_->arm(socket.fd(), 1));
  ring_->disarm(1);
  EXPECT_EQ(ring_->armed(), 0U);
  sender_.send_to(socket);
  EXPECT_TRUE(poll().empty());
  EXPECT_GT(socket.queued_octets(), 0);

  // The same socket under another key (a parked port pair's next call) gets it, and the old key never.
  ASSERT_TRUE(ring_->arm(socket.fd(), 2));
  sender_.send_to(socket);
  const auto taken = poll();
  ASSERT_EQ(taken.size(), 2U);
  EXPECT_EQ(taken[0].key, 2U);
  EXPECT_EQ(taken[1].key, 2U);
}

TEST_F(TickSetRingTest, ReportsADatagramLargerThanItsBufferAsTruncated) {
  UdpSocket socket;
  ASSERT_TRUE(ring_->arm(socket.fd(), 1));
  const std::vector<std::uint8_t> large(TickSetRing::kBufferSize + 100, 0x80);
  sender_.send_bytes_to(socket, large);
  const auto taken = poll();
  ASSERT_EQ(taken.size(), 1U);
  EXPECT_TRUE(taken[0].truncated);
  EXPECT_LT(taken[0].bytes.size(), large.size());
}

// More datagrams than the ring has buffers (a ring of 8 here): the receives that found none end, are
// armed again, and every datagram is handed out, in order and once, within a few polls.
TEST_F(TickSetRingTest, ArmsAgainTheReceivesThatRanOutOfBuffers) {
  ring_ = TickSetRing::open(8);
  ASSERT_TRUE(ring_);
  constexpr std::size_t kSockets = 16;
  constexpr std::size_t kEach = 5;
  std::array<UdpSocket, kSockets> sockets;
  for (std::size_t i = 0; i < kSockets; ++i) ASSERT_TRUE(ring_->arm(sockets[i].fd(), i + 1));
  for (std::size_t n = 0; n < kEach; ++n)
    for (auto& socket : sockets) {
      const std::array<std::uint8_t, 2> bytes{static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
      sender_.send_bytes_to(socket, bytes);
    }
  std::map<TickSetRing::Key, std::vector<std::uint16_t>> sequences;
  for (int round = 0; round < 16; ++round)
    for (const auto& datagram : poll())
      sequences[datagram.key].push_back(static_cast<std::uint16_t>(datagram.bytes[0] << 8 | datagram.bytes[1]));
  std::size_t handed_out = 0;
  for (const auto& [key, numbers] : sequences) {
    handed_out += numbers.size();
    for (std::size_t i = 0; i < numbers.size(); ++i) ASSERT_EQ(numbers[i], i) << "key " << key;  // in order, once
  }
  EXPECT_EQ(handed_out, kSockets * kEach);
  for (auto& socket : sockets) EXPECT_FALSE(socket.read_one());
  EXPECT_GE(ring_->stats().shortfalls, 1U);
  EXPECT_EQ(ring_->armed(), kSockets);
  EXPECT_TRUE(ring_->take_failed().empty());
}

// A receive that fails for good (an ICMP error the kernel queued on a connected socket) is not
// armed again: its key is handed back so the caller reads the socket another way.
TEST_F(TickSetRingTest, HandsBackASocketWhoseReceiveFailed) {
  UdpSocket socket;
  sockaddr_in nobody{};
  {
    UdpSocket closed;  // a port nothing listens on once this closes
    nobody = *reinterpret_cast<const sockaddr_in*>(closed.address());
  }
  ASSERT_EQ(::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&nobody), sizeof nobody), 0);
  ASSERT_TRUE(ring_->arm(socket.fd(), 7));
  const char byte = 'x';
  ASSERT_EQ(::send(socket.fd(), &byte, 1, 0), 1);  // answered by ICMP port unreachable
  std::vector<TickSetRing::Key> failed;
  for (int round = 0; round < 4 && failed.empty(); ++round) {
    EXPECT_TRUE(poll().empty());
    failed = ring_->take_failed();
  }
  EXPECT_EQ(failed, std::vector<TickSetRing::Key>{7});
  EXPECT_EQ(ring_->armed(), 0U);
  EXPECT_EQ(ring_->stats().failures, 1U);
}

}  // namespace tick_set_ring_test
}  // namespace chorus::media
