// An sfu room's composite is built on demand (VideoRoomConfig::build_on_demand): while nobody
// receives it, a camera's packets are neither decoded nor counted; the first receiver (here the
// meeting's recorder, a tap) starts the compositor with the cameras already attached, and the last
// one's leaving stops it again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <optional>

#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/video/video_room.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::mixer {
namespace video_room_on_demand_test {

constexpr ParticipantId kCamera = 3;
constexpr ParticipantId kRecorder = 0xF0000000U;
constexpr std::uint64_t kSessionId = 1;

// The camera's sink: the room's, counting what reached it (so the test knows a burst was delivered).
class CountingSink final : public media::MediaSink {
 public:
  CountingSink(std::unique_ptr<media::MediaSink> inner, std::atomic<int>& delivered)
      : inner_(std::move(inner)), delivered_(delivered) {}
  void on_attached(media::MediaSession& session) override { inner_->on_attached(session); }
  void on_detached(media::MediaSession& session) override { inner_->on_detached(session); }
  void on_rtp(media::MediaSession& session, media::RtpPacket& packet, std::span<std::uint8_t> buffer) override {
    inner_->on_rtp(session, packet, buffer);
    delivered_.fetch_add(1);
  }

 private:
  std::unique_ptr<media::MediaSink> inner_;
  std::atomic<int>& delivered_;
};

class VideoRoomOnDemandTest : public ::testing::Test {
 protected:
  VideoRoomOnDemandTest() : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 1)) {
    lease_ = pool_.allocate();
    VideoRoomConfig config;
    config.canvas = VideoCanvas{320, 180, 15};
    config.build_on_demand = true;
    room_ = VideoRoom::create(worker_, config, counters_, nullptr);
  }
  ~VideoRoomOnDemandTest() override {
    worker_.remove_session(kSessionId);
    worker_.post([room = std::move(room_)]() mutable { room.reset(); });
  }

  // The camera: plain RTP from the loopback phone (payload type 0, as the phone sends it).
  void attach_camera() {
    media::MediaSessionSpec spec;
    spec.id = kSessionId;
    spec.label = "camera";
    spec.rtp_fd = ::dup(lease_->rtp_fd());
    spec.rtcp_fd = ::dup(lease_->rtcp_fd());
    spec.rtcp_mux = true;
    spec.remote_rtp = phone_.address();
    spec.remote_proven = true;
    spec.local_ssrc = 0x1234;
    spec.cname = "mcu";
    spec.clock_rate = 90000;
    VideoInputSpec input;
    input.source = VideoSource{kCamera, false};
    input.payload_type = 0;
    worker_.add_session(std::move(spec), [room = room_, input, this] {
      return std::make_unique<CountingSink>(std::make_unique<VideoRoomSink>(room, input, std::nullopt), delivered_);
    });
    on_worker([&](VideoRoom& room) { room.add_member(kCamera, "camera"); });
  }

  // Sends `count` packets and waits until the room's sink had them all.
  void send_burst(int count) {
    const int before = delivered_.load();
    const auto server = *media::parse_transport_address("127.0.0.1", lease_->rtp_port());
    for (int i = 0; i < count; ++i) phone_.send_rtp(server, sequence_++);
    ASSERT_TRUE(test::wait_until([&] { return delivered_.load() >= before + count; }));
  }

  template <typename Work>
  void on_worker(Work&& work) {
    std::promise<void> done;
    worker_.post([&] {
      work(*room_);
      done.set_value();
    });
    done.get_future().get();
  }

  std::uint16_t first_port_ = chorus::test::free_udp_range(2);
  media::UdpPortPool pool_;
  std::unique_ptr<media::PortLease> lease_;
  media::Phone phone_;
  media::MediaWorker worker_{0, nullptr};
  std::shared_ptr<VideoMcuCounters> counters_ = std::make_shared<VideoMcuCounters>();
  std::shared_ptr<VideoRoom> room_;
  std::atomic<int> delivered_{0};
  std::atomic<int> tapped_{0};
  std::uint16_t sequence_ = 1;
};

TEST_F(VideoRoomOnDemandTest, NothingIsDecodedUntilSomeoneReceivesAndAfterTheLastLeaves) {
  attach_camera();
  send_burst(30);
  EXPECT_EQ(counters_->packets_received.load(), 0U);  // not fed to a decoder: there is none
  EXPECT_EQ(counters_->packets_refused.load(), 0U);   // nor counted as refused

  VideoReceiverSpec recorder;
  recorder.id = kRecorder;
  on_worker([&](VideoRoom& room) {
    room.attach_tap(recorder, [this](std::span<const std::uint8_t>) { tapped_.fetch_add(1); });
  });
  // The compositor is built with the camera already attached: its packets reach a decoder now.
  ASSERT_TRUE(test::wait_until([&] {
    send_burst(5);
    return counters_->packets_received.load() > 0 && tapped_.load() > 0;
  })) << "received "
      << counters_->packets_received.load() << ", tapped " << tapped_.load();

  on_worker([&](VideoRoom& room) { room.detach_receiver(kRecorder); });
  const auto decoded = counters_->packets_received.load();
  send_burst(30);
  EXPECT_EQ(counters_->packets_received.load(), decoded);  // the last receiver left: no decoding
}

}  // namespace video_room_on_demand_test
}  // namespace chorus::mixer
