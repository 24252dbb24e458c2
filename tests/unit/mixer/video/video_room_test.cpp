// VideoRoom on a real media worker and compositor: a room system receives the composite over
// loopback (plain RTP/AVPF, rtcp-mux) and limits it with TMMBR (RFC 5104 §4.2.1), as room systems
// do instead of REMB. The class's encoder follows the lowest limit or estimate of its receivers, a
// TMMBR is answered with a TMMBN (§4.2.2), at most one per receiver per interval (a flood of
// requests is answered once more, with the latest), and a request of 0 does not stop the stream.
#include "mixer/video/video_room.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::mixer {
namespace video_room_test {

using namespace std::chrono_literals;
using media::kPhoneSsrc;
using media::rtcp::TmmbItem;

constexpr ParticipantId kRoomSystem = 7;
constexpr std::uint32_t kOurSsrc = 0x00c0ffee;  // what we send the room system from
constexpr std::uint64_t kSessionId = 1;

class VideoRoomFeedbackTest : public ::testing::Test {
 protected:
  VideoRoomFeedbackTest() : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 1)) {
    lease_ = pool_.allocate();
    VideoRoomConfig config;
    config.canvas = VideoCanvas{320, 180, 15};
    config.class_bitrate_bps = 1'500'000;
    config.min_class_bitrate_bps = 150'000;
    room_ = VideoRoom::create(worker_, config, counters_, nullptr);
  }
  ~VideoRoomFeedbackTest() override {
    worker_.remove_session(kSessionId);
    worker_.post([room = std::move(room_)]() mutable { room.reset(); });
    // The worker's destructor runs what is posted, then joins.
  }

  // The room system's session: it receives the composite, plain RTP with rtcp-mux, its address
  // proven by its signaling.
  void attach_room_system() {
    media::MediaSessionSpec spec;
    spec.id = kSessionId;
    spec.label = "room-system";
    spec.rtp_fd = ::dup(lease_->rtp_fd());
    spec.rtcp_fd = ::dup(lease_->rtcp_fd());
    spec.rtcp_mux = true;
    spec.remote_rtp = phone_.address();
    spec.remote_proven = true;
    spec.local_ssrc = kOurSsrc;
    spec.cname = "mcu";
    spec.clock_rate = 90000;
    VideoReceiverSpec receiver;
    receiver.id = kRoomSystem;
    receiver.ssrc = kOurSsrc;
    worker_.add_session(std::move(spec), [room = room_, receiver] {
      return std::make_unique<VideoRoomSink>(room, std::nullopt, receiver);
    });
    ASSERT_TRUE(test::wait_until([&] { return class_bitrate() == 1'500'000U; }));
  }

  std::optional<std::uint32_t> class_bitrate() {
    std::promise<std::optional<std::uint32_t>> answer;
    worker_.post([&] { answer.set_value(room_->class_bitrate_of(kRoomSystem)); });
    return answer.get_future().get();
  }

  template <typename Feedback>
  void send_feedback(const Feedback& feedback) {
    std::array<std::uint8_t, 64> buffer{};
    auto length = feedback.write(buffer);
    ASSERT_TRUE(length.has_value());
    phone_.send_raw(server(), std::span(buffer).first(*length));
  }

  // The next TMMBN the room system receives, within `within` (the composite's RTP and our reports
  // are skipped).
  std::optional<media::rtcp::Tmmbn> next_tmmbn(std::chrono::milliseconds within = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      auto datagram = phone_.receive_raw(50ms);
      if (datagram.size() < 4 || datagram[1] < 192 || datagram[1] > 223) continue;  // RFC 5761 §4
      auto view = media::rtcp::CompoundView::parse(datagram);
      if (!view) continue;
      for (const auto& packet : *view)
        if (auto tmmbn = media::rtcp::Tmmbn::parse(packet)) return tmmbn;
    }
    return std::nullopt;
  }

  [[nodiscard]] media::TransportAddress server() const {
    return *media::parse_transport_address("127.0.0.1", lease_->rtp_port());
  }

  std::uint16_t first_port_ = chorus::test::free_udp_range(2);
  media::UdpPortPool pool_;
  std::unique_ptr<media::PortLease> lease_;
  media::Phone phone_;
  media::MediaWorker worker_{0, nullptr};
  std::shared_ptr<VideoMcuCounters> counters_ = std::make_shared<VideoMcuCounters>();
  std::shared_ptr<VideoRoom> room_;
};

TEST_F(VideoRoomFeedbackTest, ATmmbrLimitsTheClassAndIsAnsweredWithATmmbn) {
  attach_room_system();
  send_feedback(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc, 400'000, 40}}});
  EXPECT_TRUE(test::wait_until([&] { return class_bitrate() == 400'000U; })) << "at " << class_bitrate().value_or(0);
  // RFC 5104 §4.2.2.1: from the SSRC the request named, the bounding set: the room system's tuple.
  const auto tmmbn = next_tmmbn();
  ASSERT_TRUE(tmmbn.has_value()) << "no TMMBN";
  EXPECT_EQ(tmmbn->sender_ssrc, kOurSsrc);
  EXPECT_EQ(tmmbn->items, (std::vector<TmmbItem>{{kPhoneSsrc, 400'000, 40}}));

  // A request is a maximum, not an estimate: even a twentieth less reaches the encoder.
  send_feedback(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc, 380'000, 40}}});
  EXPECT_TRUE(test::wait_until([&] { return class_bitrate() == 380'000U; })) << "at " << class_bitrate().value_or(0);
  // Inside the TMMBN interval: answered when it ends (0.5 s at most), with this request.
  const auto second = next_tmmbn();
  ASSERT_TRUE(second.has_value()) << "no TMMBN for the second request";
  EXPECT_EQ(second->items, (std::vector<TmmbItem>{{kPhoneSsrc, 380'000, 40}}));
}

TEST_F(VideoRoomFeedbackTest, AFloodOfTmmbrsIsAnsweredOncePerIntervalWithTheLatest) {
  attach_room_system();
  // 50 requests back to back, rising then falling: the last asks for 410 kb/s.
  constexpr int kRequests = 50;
  const auto requested = [](int i) -> std::uint64_t {
    return i < 25 ? 200'000 + 40'000 * i : 1'160'000 - 30'000 * (i - 24);
  };
  const auto first_sent = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i)
    send_feedback(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc, requested(i), 40}}});
  const std::vector<TmmbItem> latest{{kPhoneSsrc, requested(kRequests - 1), 40}};
  ASSERT_EQ(latest.front().bitrate_bps, 410'000U);

  // Each request takes effect at once: the class ends at the last one.
  EXPECT_TRUE(test::wait_until([&] { return class_bitrate() == 410'000U; })) << "at " << class_bitrate().value_or(0);
  // However slowly a loaded machine let the worker take them, every interval they spanned may end
  // with one TMMBN: the bound below counts those, so the test does not lean on the worker's speed.
  const auto spanned = std::chrono::steady_clock::now() - first_sent;
  const auto allowed = 2U + static_cast<std::size_t>(spanned / VideoRoomConfig{}.tmmbn_min_interval);
  // The TMMBNs: the first request's at once, then one for all the others when the interval ends.
  // Received until the one with the latest request (bounded), then for 1.5 s more, three
  // intervals, so a further one would show.
  std::vector<media::rtcp::Tmmbn> tmmbns;
  EXPECT_TRUE(test::wait_until([&] {
    if (auto tmmbn = next_tmmbn(100ms)) tmmbns.push_back(*tmmbn);
    return !tmmbns.empty() && tmmbns.back().items == latest;
  })) << "no TMMBN with the latest request";
  const auto settled = std::chrono::steady_clock::now() + 1500ms;
  for (auto now = std::chrono::steady_clock::now(); now < settled; now = std::chrono::steady_clock::now())
    if (auto tmmbn = next_tmmbn(std::chrono::ceil<std::chrono::milliseconds>(settled - now))) tmmbns.push_back(*tmmbn);
  ASSERT_FALSE(tmmbns.empty());
  EXPECT_LE(tmmbns.size(), allowed) << "TMMBNs are not rate-limited (the requests spanned "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(spanned).count() << " ms)";
  EXPECT_EQ(tmmbns.back().items, latest) << "the last TMMBN is not the latest request's";
  EXPECT_EQ(tmmbns.back().sender_ssrc, kOurSsrc);
  // Every request not answered at once was coalesced.
  EXPECT_GE(counters_->tmmbn_coalesced.load(), static_cast<std::uint64_t>(kRequests) - allowed);
  EXPECT_EQ(class_bitrate(), 410'000U);
}

TEST_F(VideoRoomFeedbackTest, ATmmbrOfZeroKeepsTheClassAtItsMinimum) {
  attach_room_system();
  send_feedback(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc, 0, 40}}});
  const auto tmmbn = next_tmmbn();
  ASSERT_TRUE(tmmbn.has_value()) << "no TMMBN";
  // The notification says what we hold to: the class's minimum.
  EXPECT_EQ(tmmbn->items, (std::vector<TmmbItem>{{kPhoneSsrc, 150'000, 40}}));
  EXPECT_EQ(class_bitrate(), 150'000U);
}

TEST_F(VideoRoomFeedbackTest, TheClassFollowsTheLowestOfRembAndTmmbr) {
  attach_room_system();
  send_feedback(media::rtcp::Remb{kPhoneSsrc, 300'000, {kOurSsrc}});
  ASSERT_TRUE(test::wait_until([&] { return class_bitrate() == 300'000U; }));
  send_feedback(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc, 500'000, 0}}});
  ASSERT_TRUE(next_tmmbn().has_value());
  EXPECT_EQ(class_bitrate(), 300'000U) << "the estimate is lower";
  send_feedback(media::rtcp::Remb{kPhoneSsrc, 1'000'000, {kOurSsrc}});
  EXPECT_TRUE(test::wait_until([&] { return class_bitrate() == 500'000U; })) << "at " << class_bitrate().value_or(0);
}

TEST_F(VideoRoomFeedbackTest, OnlyTheEntryNamingOurStreamIsTaken) {
  attach_room_system();
  // Handed to the room directly: the session routes a TMMBR by its first entry, and drops one
  // naming an SSRC it never sent.
  const auto take = [&](media::RtcpFeedback feedback) {
    std::promise<bool> taken;
    worker_.post([&] { taken.set_value(room_->on_receiver_feedback(kRoomSystem, feedback)); });
    return taken.get_future().get();
  };
  EXPECT_FALSE(take(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc + 1, 200'000, 40}}}));
  EXPECT_EQ(class_bitrate(), 1'500'000U);
  EXPECT_TRUE(
      take(media::rtcp::Tmmbr{kPhoneSsrc, {TmmbItem{kOurSsrc + 1, 200'000, 40}, TmmbItem{kOurSsrc, 400'000, 40}}}));
  EXPECT_EQ(class_bitrate(), 400'000U);
}

}  // namespace video_room_test
}  // namespace chorus::mixer
