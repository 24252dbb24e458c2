// SendBatch (media/transport/send_batch.hpp): real UDP sockets on loopback. Datagrams queued in a
// burst leave at the flush, in order, counted once; outside a burst, or without io_uring, the
// batch declines and the caller sends; a send the kernel refuses is counted as dropped.
#include "media/transport/send_batch.hpp"

#include "tests/unit/media/transport/loopback_udp_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace chorus::media {
namespace send_batch_test {

using UdpSocket = testing::LoopbackUdpSocket;

class SendBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!batch_.available()) GTEST_SKIP() << "io_uring is not available here (io_uring_disabled or seccomp)";
  }
  bool queue(std::uint8_t first, const UdpSocket& to) {
    const std::array<std::uint8_t, 12> datagram{first, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    return batch_.queue(sender_.fd(), datagram, to.address(), sizeof(sockaddr_in));
  }

  MediaCounters counters_;
  SendBatch batch_{counters_};
  UdpSocket sender_;
  UdpSocket receiver_;
};

TEST_F(SendBatchTest, QueuedDatagramsLeaveAtTheFlushInOrderAndAreCountedOnce) {
  batch_.open();
  for (std::uint8_t i = 0; i < 5; ++i) ASSERT_TRUE(queue(i, receiver_));
  EXPECT_TRUE(receiver_.read_all().empty()) << "nothing leaves before the flush";
  EXPECT_EQ(counters_.packets_out.load(), 0U);
  batch_.flush();
  EXPECT_EQ(receiver_.read_all(), (std::vector<std::uint8_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(counters_.packets_out.load(), 5U);
  EXPECT_EQ(counters_.dropped_send.load(), 0U);
}

TEST_F(SendBatchTest, OutsideABurstItDeclinesAndTheCallerSends) {
  EXPECT_FALSE(queue(1, receiver_));
  batch_.open();
  batch_.flush();
  EXPECT_FALSE(queue(2, receiver_)) << "the burst ended at the flush";
  EXPECT_EQ(batch_.queued(), 0U);
}

TEST_F(SendBatchTest, ABurstLongerThanOneSubmissionLeavesWhole) {
  // Several receivers, so no receive queue overflows on the way.
  std::array<UdpSocket, 16> receivers;
  const std::size_t total = 3 * SendBatch::kCapacity + 7;
  batch_.open();
  for (std::size_t i = 0; i < total; ++i)
    ASSERT_TRUE(queue(static_cast<std::uint8_t>(i), receivers[i % receivers.size()]));
  batch_.flush();
  EXPECT_EQ(counters_.packets_out.load(), total);
  std::size_t received = 0;
  for (const auto& receiver : receivers) received += receiver.read_all().size();
  EXPECT_EQ(received, total);
}

TEST_F(SendBatchTest, ADatagramTheKernelRefusesIsCountedDropped) {
  // An IPv6 destination on an IPv4 socket: sendmsg(2) fails (EAFNOSUPPORT / EINVAL).
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  v6.sin6_port = htons(9);
  const std::array<std::uint8_t, 4> datagram{1, 2, 3, 4};
  batch_.open();
  ASSERT_TRUE(batch_.queue(sender_.fd(), datagram, reinterpret_cast<const sockaddr*>(&v6), sizeof v6));
  ASSERT_TRUE(queue(7, receiver_));
  batch_.flush();
  EXPECT_EQ(counters_.dropped_send.load(), 1U);
  EXPECT_EQ(counters_.packets_out.load(), 1U);
  EXPECT_EQ(receiver_.read_all(), (std::vector<std::uint8_t>{7})) << "the refused one does not stop the others";
}

TEST(SendBatch, WithoutIoUringItNeverTakesADatagram) {
  MediaCounters counters;
  SendBatch batch(counters, /*use_io_uring=*/false);
  UdpSocket sender;
  UdpSocket receiver;
  EXPECT_FALSE(batch.available());
  batch.open();
  const std::array<std::uint8_t, 4> datagram{1, 2, 3, 4};
  EXPECT_FALSE(batch.queue(sender.fd(), datagram, receiver.address(), sizeof(sockaddr_in)));
  batch.flush();
  EXPECT_EQ(counters.packets_out.load(), 0U);
}

TEST_F(SendBatchTest, ADatagramLargerThanASlotIsLeftToTheCaller) {
  const std::vector<std::uint8_t> jumbo(9'000, 0x55);
  batch_.open();
  EXPECT_FALSE(batch_.queue(sender_.fd(), jumbo, receiver_.address(), sizeof(sockaddr_in)));
  batch_.flush();
}

TEST_F(SendBatchTest, AScopedBurstFlushesWhatItsScopeQueued) {
  {
    const ScopedSendBurst burst(&batch_);
    ASSERT_TRUE(queue(7, receiver_));
    ASSERT_TRUE(queue(8, receiver_));
    EXPECT_TRUE(receiver_.read_all().empty()) << "nothing leaves inside the scope";
  }
  EXPECT_EQ(receiver_.read_all(), (std::vector<std::uint8_t>{7, 8}));
  EXPECT_FALSE(batch_.is_open());
}

TEST_F(SendBatchTest, AScopedBurstInsideAnOpenBurstLeavesTheFlushToItsOwner) {
  batch_.open();  // the audio tick's burst
  {
    const ScopedSendBurst burst(&batch_);  // a read round inside the tick
    ASSERT_TRUE(queue(1, receiver_));
  }
  EXPECT_TRUE(batch_.is_open());
  EXPECT_TRUE(receiver_.read_all().empty()) << "the inner scope must not flush the tick's burst";
  ASSERT_TRUE(queue(2, receiver_));
  batch_.flush();
  EXPECT_EQ(receiver_.read_all(), (std::vector<std::uint8_t>{1, 2}));
}

TEST(ScopedSendBurst, WithoutABatchItDoesNothing) {
  const ScopedSendBurst burst(nullptr);
  MediaCounters counters;
  SendBatch no_uring(counters, false);
  const ScopedSendBurst declined(&no_uring);
  EXPECT_FALSE(no_uring.is_open());
}

}  // namespace send_batch_test
}  // namespace chorus::media
