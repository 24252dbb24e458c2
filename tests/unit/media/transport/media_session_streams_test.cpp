// MediaSession carrying several streams on one transport (RFC 8843 BUNDLE): each stream's RTP
// reaches its own sink, RTCP feedback goes typed to the stream it names (RFC 4585 PLI/NACK, RFC 5104
// FIR and TMMBR) or to the first sink that takes transport-wide feedback (REMB, transport-cc), a
// stream that does not send keeps its packets in, and arrivals stamped with a transport-wide sequence
// number are reported back in transport-cc feedback. Feedback naming an SSRC we never sent reaches no
// sink and is counted (MediaCounters::feedback_unmatched). Real worker, loopback sockets, bounded polls.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/transport/media_session.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::media {
namespace media_session_streams_test {

constexpr std::uint32_t kAudioSsrc = 0x0a0a0a0a;
constexpr std::uint32_t kVideoSsrc = 0x0b0b0b0b;
constexpr std::uint32_t kVideoRtxSsrc = 0x0c0c0c0c;
constexpr std::uint8_t kTransportCcId = 3;

// What one stream's sink saw, readable from the test thread.
struct Seen {
  std::atomic<int> rtp{0};
  std::atomic<int> plis{0};
  std::atomic<int> nacks{0};
  std::atomic<int> firs{0};
  std::atomic<int> rembs{0};
  std::atomic<int> tmmbrs{0};
  std::atomic<int> sent{0};     // echoes send_rtp accepted
  std::atomic<int> refused{0};  // echoes send_rtp refused
};

// Records what reaches it, echoes each RTP packet from its stream's SSRC, and takes transport-wide
// feedback only when told to.
class RecordingSink final : public MediaSink {
 public:
  RecordingSink(Seen& seen, std::uint32_t echo_ssrc, bool takes_transport_feedback)
      : seen_(seen), echo_ssrc_(echo_ssrc), takes_(takes_transport_feedback) {}
  void on_rtp(MediaSession& session, RtpPacket& packet, std::span<std::uint8_t> buffer) override {
    ++seen_.rtp;
    packet.set_ssrc(echo_ssrc_);
    if (session.send_rtp(buffer, packet.size()))
      ++seen_.sent;
    else
      ++seen_.refused;
  }
  void on_feedback(MediaSession&, const RtcpFeedback& feedback) override {
    if (std::holds_alternative<rtcp::Pli>(feedback)) ++seen_.plis;
    if (std::holds_alternative<rtcp::GenericNack>(feedback)) ++seen_.nacks;
    if (std::holds_alternative<rtcp::Fir>(feedback)) ++seen_.firs;
    if (std::holds_alternative<rtcp::Tmmbr>(feedback)) ++seen_.tmmbrs;
  }
  bool on_transport_feedback(MediaSession&, const RtcpFeedback& feedback) override {
    if (!takes_) return false;
    if (std::holds_alternative<rtcp::Remb>(feedback)) ++seen_.rembs;
    return true;
  }

 private:
  Seen& seen_;
  std::uint32_t echo_ssrc_;
  bool takes_;
};

class MediaSessionStreamsTest : public ::testing::Test {
 protected:
  MediaSessionStreamsTest() : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 3)) {
    lease_ = pool_.allocate();
  }

  // Audio (mid "a", PCMU 0) and video (mid "v", VP8 96) bundled on one rtcp-mux transport.
  MediaSessionSpec bundled(bool video_sends = true, std::uint8_t transport_cc_id = 0) {
    MediaSessionSpec spec;
    spec.id = 9;
    spec.label = "bundle-call";
    spec.rtp_fd = ::dup(lease_->rtp_fd());
    spec.rtcp_fd = ::dup(lease_->rtcp_fd());
    spec.rtcp_mux = true;
    spec.remote_rtp = phone_.address();
    spec.local_ssrc = kAudioSsrc;
    spec.cname = "bundle";
    BundleDemuxConfig bundle;
    bundle.streams = {BundleStreamConfig{"a", {0}, {}, {kAudioSsrc}},
                      BundleStreamConfig{"v", {96}, {}, {kVideoSsrc, kVideoRtxSsrc}}};
    spec.bundle = bundle;
    spec.streams = {MediaStreamSpec{{kAudioSsrc}, 8000, true},
                    MediaStreamSpec{{kVideoSsrc, kVideoRtxSsrc}, 90000, video_sends}};
    spec.transport_cc_extension_id = transport_cc_id;
    return spec;
  }

  void start(MediaSessionSpec spec, bool audio_takes_transport_feedback = false) {
    std::vector<SinkFactory> sinks;
    sinks.emplace_back([this, audio_takes_transport_feedback] {
      return std::make_unique<RecordingSink>(audio_, kAudioSsrc, audio_takes_transport_feedback);
    });
    sinks.emplace_back([this] { return std::make_unique<RecordingSink>(video_, kVideoSsrc, true); });
    worker_.add_session(std::move(spec), std::move(sinks));
  }

  [[nodiscard]] TransportAddress server() const { return *parse_transport_address("127.0.0.1", lease_->rtp_port()); }

  // An RTP packet of `payload_type` from the phone, with the transport-wide sequence number
  // extension when `transport_sequence` is set.
  void send(std::uint8_t payload_type, std::uint16_t sequence, std::optional<std::uint16_t> transport_sequence = {}) {
    std::array<std::uint8_t, 256> buffer{};
    const std::array<std::uint8_t, 2> wide{static_cast<std::uint8_t>(transport_sequence.value_or(0) >> 8),
                                           static_cast<std::uint8_t>(transport_sequence.value_or(0))};
    const OneByteExtensionElement element{kTransportCcId, wide};
    RtpHeaderFields fields;
    fields.payload_type = payload_type;
    fields.sequence_number = sequence;
    fields.timestamp = 1000U * sequence;
    fields.ssrc = payload_type == 0 ? kPhoneSsrc : kPhoneSsrc + 1;
    if (transport_sequence) fields.extensions = std::span(&element, 1);
    auto header = write_rtp_header(buffer, fields);
    ASSERT_TRUE(header.has_value());
    std::fill_n(buffer.begin() + static_cast<std::ptrdiff_t>(*header), 100, 0x42);
    phone_.send_raw(server(), std::span(buffer).first(*header + 100));
  }

  // A reduced-size RTCP feedback packet (RFC 5506) from the phone.
  template <typename Feedback>
  void send_feedback(const Feedback& feedback) {
    std::array<std::uint8_t, 256> buffer{};
    auto length = feedback.write(buffer);
    ASSERT_TRUE(length.has_value());
    phone_.send_raw(server(), std::span(buffer).first(*length));
  }

  std::uint16_t first_port_ = chorus::test::free_udp_range(4);
  UdpPortPool pool_;
  std::unique_ptr<PortLease> lease_;
  Phone phone_;
  Seen audio_;
  Seen video_;
  MediaWorker worker_{0, nullptr};
};

TEST_F(MediaSessionStreamsTest, EachBundledStreamsRtpReachesItsOwnSink) {
  start(bundled());
  send(0, 1);
  send(96, 1);
  send(96, 2);
  ASSERT_TRUE(test::wait_until([&] { return audio_.rtp == 1 && video_.rtp == 2; }));
  // The echoes leave from each stream's SSRC.
  std::vector<std::uint32_t> echoed;
  for (int i = 0; i < 3; ++i) {
    auto packet = phone_.receive();
    if (packet.size() >= 12 && packet[0] >= 128 && packet[1] < 192) echoed.push_back(ssrc_of(packet));
  }
  EXPECT_EQ(std::ranges::count(echoed, kAudioSsrc), 1);
  EXPECT_EQ(std::ranges::count(echoed, kVideoSsrc), 2);
}

TEST_F(MediaSessionStreamsTest, AStreamThatDoesNotSendKeepsItsPacketsIn) {
  start(bundled(/*video_sends=*/false));
  send(0, 1);
  send(96, 1);
  ASSERT_TRUE(test::wait_until([&] { return audio_.sent == 1 && video_.refused == 1; }));
  EXPECT_EQ(video_.sent, 0);
}

TEST_F(MediaSessionStreamsTest, FeedbackGoesToTheStreamWhoseSsrcItNames) {
  start(bundled());
  send(0, 1);  // the phone's address is latched by its first packet
  ASSERT_TRUE(test::wait_until([&] { return audio_.rtp == 1; }));
  send_feedback(rtcp::Pli{kPhoneSsrc, kVideoSsrc});
  send_feedback(rtcp::GenericNack{kPhoneSsrc, kVideoRtxSsrc, {rtcp::NackItem{7, 0}}});
  send_feedback(rtcp::Fir{kPhoneSsrc, {rtcp::FirEntry{kAudioSsrc, 1}}});
  send_feedback(rtcp::Pli{kPhoneSsrc, 0x12345678});  // not ours: nobody hears it
  ASSERT_TRUE(test::wait_until([&] { return video_.plis == 1 && video_.nacks == 1 && audio_.firs == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(audio_.plis, 0);
  EXPECT_EQ(video_.plis, 1);
}

TEST_F(MediaSessionStreamsTest, ATmmbrGoesToTheStreamItsEntryNames) {
  start(bundled());
  send(0, 1);
  ASSERT_TRUE(test::wait_until([&] { return audio_.rtp == 1; }));
  // RFC 5104 §4.2.1.1: the header's media SSRC is 0; the entry names the stream to limit.
  send_feedback(rtcp::Tmmbr{kPhoneSsrc, {rtcp::TmmbItem{kVideoSsrc, 384000, 40}}});
  ASSERT_TRUE(test::wait_until([&] { return video_.tmmbrs == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(audio_.tmmbrs, 0);
}

TEST_F(MediaSessionStreamsTest, FeedbackNamingAStreamWeNeverSentIsCounted) {
  start(bundled());
  send(0, 1);
  ASSERT_TRUE(test::wait_until([&] { return audio_.rtp == 1; }));
  // A TMMBR whose entry names an SSRC of no stream of ours: no sink hears it, the worker counts it.
  send_feedback(rtcp::Tmmbr{kPhoneSsrc, {rtcp::TmmbItem{0x12345678, 384000, 40}}});
  ASSERT_TRUE(test::wait_until([&] { return worker_.counters().feedback_unmatched >= 1; }));
  // Feedback about our own stream, sent after it, is not: once it is heard, the count stands.
  send_feedback(rtcp::Pli{kPhoneSsrc, kVideoSsrc});
  ASSERT_TRUE(test::wait_until([&] { return video_.plis == 1; }));
  EXPECT_EQ(worker_.counters().feedback_unmatched, 1U);
  EXPECT_EQ(video_.tmmbrs, 0);
  EXPECT_EQ(audio_.tmmbrs, 0);
}

TEST_F(MediaSessionStreamsTest, TransportWideFeedbackGoesToTheFirstSinkThatTakesIt) {
  start(bundled(), /*audio_takes_transport_feedback=*/false);
  send(0, 1);
  ASSERT_TRUE(test::wait_until([&] { return audio_.rtp == 1; }));
  send_feedback(rtcp::Remb{kPhoneSsrc, 500000, {kVideoSsrc}});
  ASSERT_TRUE(test::wait_until([&] { return video_.rembs == 1; }));
  EXPECT_EQ(audio_.rembs, 0);
}

TEST_F(MediaSessionStreamsTest, StampedArrivalsAreReportedInTransportCcFeedback) {
  start(bundled(true, kTransportCcId));
  for (std::uint16_t i = 0; i < 5; ++i)
    send(96, static_cast<std::uint16_t>(10 + i), static_cast<std::uint16_t>(65533 + i));
  // Echoes and sender reports may come first; the feedback comes within a few 100 ms intervals.
  std::optional<rtcp::TransportCc> feedback;
  for (int i = 0; i < 40 && !feedback; ++i) {
    auto datagram = phone_.receive(100ms);
    if (datagram.size() < 4 || datagram[1] < 192 || datagram[1] > 223) continue;
    auto view = rtcp::CompoundView::parse(datagram);
    if (!view) continue;
    for (const auto& packet : *view)
      if (packet.is(rtcp::PacketType::kRtpfb) && packet.fmt() == 15) feedback = rtcp::TransportCc::parse(packet);
  }
  ASSERT_TRUE(feedback.has_value()) << "no transport-cc feedback within 4 s";
  EXPECT_EQ(feedback->base_sequence, 65533);  // across the 16-bit wrap
  ASSERT_EQ(feedback->packets.size(), 5U);
  for (const auto& packet : feedback->packets) EXPECT_TRUE(packet.received());
}

}  // namespace media_session_streams_test
}  // namespace chorus::media
