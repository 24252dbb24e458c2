// Issue 15, QoS (media/transport/media_marking.hpp): the port pool binds every media socket with
// audio's class (EF); a transport that carries only video is re-marked AF41 by its session; on a
// BUNDLE transport audio leaves with the socket's EF and each video packet carries AF41 in its own
// ancillary data. A phone socket with IP_RECVTOS reads the marks as a capture would. Real worker,
// loopback sockets, bounded polls.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include "common/dscp.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/transport/media_session.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::media {
namespace media_marking_test {

constexpr std::uint32_t kAudioSsrc = 0x0a0a0a0a;
constexpr std::uint32_t kVideoSsrc = 0x0b0b0b0b;
constexpr int kEfTos = 0xB8;    // 46 << 2
constexpr int kAf41Tos = 0x88;  // 34 << 2

int tos_option(int fd) {
  int octet = -1;
  socklen_t length = sizeof octet;
  ::getsockopt(fd, IPPROTO_IP, IP_TOS, &octet, &length);
  return octet;
}

// Echoes every RTP packet it gets from its stream's SSRC.
class EchoSink final : public MediaSink {
 public:
  EchoSink(std::uint32_t ssrc, std::atomic<int>& sent) : ssrc_(ssrc), sent_(sent) {}
  void on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) override {
    packet.set_ssrc(ssrc_);
    if (session.send_rtp(buffer, packet.size())) ++sent_;
  }

 private:
  std::uint32_t ssrc_;
  std::atomic<int>& sent_;
};

// A phone socket that reads each datagram's TOS octet (IP_RECVTOS) with the packet's SSRC.
class MarkReadingPhone {
 public:
  MarkReadingPhone() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
    auto any = to_sockaddr(*parse_transport_address("127.0.0.1", 0));
    EXPECT_EQ(::bind(fd_, any.get(), any.length), 0);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    address_ = *from_sockaddr(local, length);
  }
  ~MarkReadingPhone() { ::close(fd_); }
  MarkReadingPhone(const MarkReadingPhone&) = delete;
  MarkReadingPhone& operator=(const MarkReadingPhone&) = delete;

  [[nodiscard]] const TransportAddress& address() const { return address_; }

  void send_rtp(const TransportAddress& to, std::uint8_t payload_type, std::uint16_t sequence) const {
    std::array<std::uint8_t, 128> buffer{};
    RtpHeaderFields fields;
    fields.payload_type = payload_type;
    fields.sequence_number = sequence;
    fields.timestamp = 160U * sequence;
    fields.ssrc = payload_type == 0 ? kPhoneSsrc : kPhoneSsrc + 1;
    const auto header = write_rtp_header(buffer, fields);
    ASSERT_TRUE(header.has_value());
    auto address = to_sockaddr(to);
    ::sendto(fd_, buffer.data(), *header + 40, 0, address.get(), address.length);
  }

  // SSRC → TOS of each RTP datagram that arrives within 2 s of the last, up to `count` of them.
  std::map<std::uint32_t, int> receive_marks(int count) {
    std::map<std::uint32_t, int> marks;
    for (int i = 0; i < count; ++i) {
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, 2000) != 1) break;
      std::array<std::uint8_t, 2048> data{};
      alignas(cmsghdr) std::array<char, 128> control{};
      iovec vector{data.data(), data.size()};
      msghdr message{};
      message.msg_iov = &vector;
      message.msg_iovlen = 1;
      message.msg_control = control.data();
      message.msg_controllen = control.size();
      const ssize_t got = ::recvmsg(fd_, &message, 0);
      if (got < 12 || data[0] < 128 || data[1] >= 192) continue;  // not RTP (an RTCP report)
      int tos = -1;
      for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr; h = CMSG_NXTHDR(&message, h))
        if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TOS) tos = *CMSG_DATA(h);
      marks[ssrc_of(std::span(data).first(static_cast<std::size_t>(got)))] = tos;
    }
    return marks;
  }

 private:
  int fd_ = -1;
  TransportAddress address_;
};

class MediaMarkingTest : public ::testing::Test {
 protected:
  MediaMarkingTest()
      : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 3), kDefaultReceiveBuffer,
              SocketMarking{kDscpEf, &failures_}) {
    worker_.set_marking(MediaMarking{kDscpEf, kDscpAf41, &failures_});
    lease_ = pool_.allocate();
  }

  MediaSessionSpec spec() {
    MediaSessionSpec spec;
    spec.id = 15;
    spec.label = "dscp-call";
    spec.rtp_fd = ::dup(lease_->rtp_fd());
    spec.rtcp_fd = ::dup(lease_->rtcp_fd());
    spec.rtcp_mux = true;
    spec.remote_rtp = phone_.address();
    spec.local_ssrc = kAudioSsrc;
    return spec;
  }

  // The lease's own sockets, borrowed as ConferenceService hands them over (participant_media.cpp).
  MediaSessionSpec borrowed_spec() {
    auto borrowed = spec();
    ::close(borrowed.rtp_fd);
    ::close(borrowed.rtcp_fd);
    borrowed.rtp_fd = lease_->rtp_fd();
    borrowed.rtcp_fd = lease_->rtcp_fd();
    borrowed.sockets_owner = std::shared_ptr<const void>(lease_.get(), [](const void*) {});
    borrowed.sockets_family = lease_->family();
    borrowed.sockets_dscp = lease_->dscp();
    return borrowed;
  }

  [[nodiscard]] TransportAddress server() const { return *parse_transport_address("127.0.0.1", lease_->rtp_port()); }

  DscpFailures failures_;
  std::uint16_t first_port_ = chorus::test::free_udp_range(4);
  UdpPortPool pool_;
  std::unique_ptr<PortLease> lease_;
  MarkReadingPhone phone_;
  std::atomic<int> sent_{0};
  MediaWorker worker_{0, nullptr};
};

TEST_F(MediaMarkingTest, ThePoolBindsEverySocketWithTheAudioClass) {
  ASSERT_NE(lease_, nullptr);
  EXPECT_EQ(tos_option(lease_->rtp_fd()), kEfTos);
  EXPECT_EQ(tos_option(lease_->rtcp_fd()), kEfTos);
  EXPECT_EQ(socket_dscp(lease_->rtp_fd()), kDscpEf);
  EXPECT_EQ(failures_.count(), 0u);
}

TEST_F(MediaMarkingTest, AVideoOnlyTransportIsRemarkedWithTheVideoClass) {
  auto video = spec();
  video.clock_rate = 90000;  // RFC 3551 §5: a video payload format
  worker_.add_session(std::move(video), [this] { return std::make_unique<EchoSink>(kVideoSsrc, sent_); });
  // The session's sockets are duplicates of the lease's: one socket, one mark.
  ASSERT_TRUE(test::wait_until([&] { return socket_dscp(lease_->rtp_fd()) == kDscpAf41; }));
  phone_.send_rtp(server(), 96, 1);
  ASSERT_TRUE(test::wait_until([&] { return sent_ == 1; }));
  EXPECT_EQ(phone_.receive_marks(1), (std::map<std::uint32_t, int>{{kVideoSsrc, kAf41Tos}}));
}

TEST_F(MediaMarkingTest, ALeaseVouchesForItsSocketsFamilyAndMark) {
  ASSERT_NE(lease_, nullptr);
  EXPECT_EQ(lease_->family(), AF_INET);
  EXPECT_EQ(lease_->dscp(), kDscpEf);
}

// Issue 13: a session does not re-mark sockets its lease says carry its class already (two system
// calls per socket on every join). The mark is cleared behind the lease's back here, so a session
// that marked anyway would show EF again.
TEST_F(MediaMarkingTest, AnAudioSessionTrustsTheLeasesMark) {
  auto audio = borrowed_spec();
  ASSERT_EQ(set_socket_dscp(lease_->rtp_fd(), 0), 0);
  worker_.add_session(std::move(audio), [this] { return std::make_unique<EchoSink>(kAudioSsrc, sent_); });
  phone_.send_rtp(server(), 0, 1);
  ASSERT_TRUE(test::wait_until([&] { return sent_ == 1; }));
  EXPECT_EQ(socket_dscp(lease_->rtp_fd()), 0);
}

// A video-only session re-marks borrowed sockets AF41 and gives them back marked as the pool marked
// them, since the next lease vouches for that mark.
TEST_F(MediaMarkingTest, BorrowedSocketsGoBackWithThePoolsMark) {
  auto video = borrowed_spec();
  video.clock_rate = 90000;
  worker_.add_session(std::move(video), [this] { return std::make_unique<EchoSink>(kVideoSsrc, sent_); });
  ASSERT_TRUE(test::wait_until([&] { return socket_dscp(lease_->rtp_fd()) == kDscpAf41; }));
  worker_.remove_session(15);
  ASSERT_TRUE(test::wait_until([&] { return worker_.counters().sessions == 0; }));
  EXPECT_EQ(socket_dscp(lease_->rtp_fd()), kDscpEf);
  EXPECT_EQ(failures_.count(), 0u);
}

TEST_F(MediaMarkingTest, OnABundleAudioKeepsTheSocketsClassAndEachVideoPacketCarriesItsOwn) {
  auto bundled = spec();
  BundleDemuxConfig bundle;
  bundle.streams = {BundleStreamConfig{"a", {0}, {}, {kAudioSsrc}}, BundleStreamConfig{"v", {96}, {}, {kVideoSsrc}}};
  bundled.bundle = bundle;
  bundled.streams = {MediaStreamSpec{{kAudioSsrc}, 8000, true}, MediaStreamSpec{{kVideoSsrc}, 90000, true}};
  std::vector<SinkFactory> sinks;
  sinks.emplace_back([this] { return std::make_unique<EchoSink>(kAudioSsrc, sent_); });
  sinks.emplace_back([this] { return std::make_unique<EchoSink>(kVideoSsrc, sent_); });
  worker_.add_session(std::move(bundled), std::move(sinks));
  phone_.send_rtp(server(), 0, 1);
  phone_.send_rtp(server(), 96, 1);
  ASSERT_TRUE(test::wait_until([&] { return sent_ == 2; }));
  EXPECT_EQ(phone_.receive_marks(2), (std::map<std::uint32_t, int>{{kAudioSsrc, kEfTos}, {kVideoSsrc, kAf41Tos}}));
  EXPECT_EQ(socket_dscp(lease_->rtp_fd()), kDscpEf) << "the socket stays audio's";
  EXPECT_EQ(failures_.count(), 0u);
}

// A dual-stack bind ("::") reaches IPv4 phones through mapped addresses: the socket gets the
// Traffic Class and IP_TOS, and a video packet's class goes in an IP_TOS control message.
TEST(MediaMarkingDualStack, IPv4PeersOfAnIpv6SocketSeeBothClasses) {
  DscpFailures failures;
  const std::uint16_t first = chorus::test::free_udp_range(4);
  UdpPortPool pool("::", first, static_cast<std::uint16_t>(first + 3), kDefaultReceiveBuffer,
                   SocketMarking{kDscpEf, &failures});
  auto lease = pool.allocate();
  if (!lease) GTEST_SKIP() << "no IPv6 on this host";
  EXPECT_EQ(socket_dscp(lease->rtp_fd()), kDscpEf) << "IPV6_TCLASS";
  EXPECT_EQ(tos_option(lease->rtp_fd()), kEfTos) << "IP_TOS, for mapped IPv4 peers";
  MarkReadingPhone phone;
  MediaWorker worker{0, nullptr};
  worker.set_marking(MediaMarking{kDscpEf, kDscpAf41, &failures});
  std::atomic<int> sent{0};
  MediaSessionSpec spec;
  spec.id = 16;
  spec.label = "dual-stack";
  spec.rtp_fd = ::dup(lease->rtp_fd());
  spec.rtcp_fd = ::dup(lease->rtcp_fd());
  spec.rtcp_mux = true;
  spec.remote_rtp = phone.address();
  spec.local_ssrc = kAudioSsrc;
  BundleDemuxConfig bundle;
  bundle.streams = {BundleStreamConfig{"a", {0}, {}, {kAudioSsrc}}, BundleStreamConfig{"v", {96}, {}, {kVideoSsrc}}};
  spec.bundle = bundle;
  spec.streams = {MediaStreamSpec{{kAudioSsrc}, 48000, true}, MediaStreamSpec{{kVideoSsrc}, 90000, true}};
  std::vector<SinkFactory> sinks;
  sinks.emplace_back([&sent] { return std::make_unique<EchoSink>(kAudioSsrc, sent); });
  sinks.emplace_back([&sent] { return std::make_unique<EchoSink>(kVideoSsrc, sent); });
  worker.add_session(std::move(spec), std::move(sinks));
  const auto server = *parse_transport_address("127.0.0.1", lease->rtp_port());
  phone.send_rtp(server, 0, 1);
  phone.send_rtp(server, 96, 1);
  ASSERT_TRUE(test::wait_until([&] { return sent == 2; }));
  EXPECT_EQ(phone.receive_marks(2), (std::map<std::uint32_t, int>{{kAudioSsrc, kEfTos}, {kVideoSsrc, kAf41Tos}}));
  EXPECT_EQ(failures.count(), 0u);
}

TEST(MediaMarking, StreamsAtNinetyKilohertzAreVideo) {
  EXPECT_EQ(traffic_class_of(90000), TrafficClass::kVideo);
  for (const int audio : {8000, 16000, 48000}) EXPECT_EQ(traffic_class_of(audio), TrafficClass::kAudio) << audio;
}

}  // namespace media_marking_test
}  // namespace chorus::media
