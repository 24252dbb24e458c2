// What the router tests share: a room's Router on a real media worker, participants whose video
// sessions (plain RTP/AVPF on loopback, rtcp-mux) carry VideoSinks, phones that send VP8 packets with
// real payload descriptors and keyframe headers (RFC 7741) and read what the router forwards, and a
// listener that records slot maps. Every wait is a bounded poll.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "sfu/payload/vp8_descriptor.hpp"
#include "sfu/router.hpp"
#include "sfu/video_sink.hpp"
#include "tests/unit/media/transport/loopback_phone.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::sfu::test {

using namespace std::chrono_literals;
using media::Phone;

constexpr std::uint8_t kPublisherVp8 = 96;
constexpr std::uint8_t kPublisherRtx = 97;
constexpr std::uint8_t kReceiverVp8 = 100;  // receivers number VP8 differently: the router maps it
constexpr std::uint8_t kH264 = 102;         // packetization-mode 1, the same number on both sides
constexpr std::uint8_t kReceiverRtx = 101;
constexpr std::uint8_t kRidExtension = 4;

// Slot maps as the router reported them (worker thread → test thread).
class RecordingListener final : public RouterListener {
 public:
  void on_slots_changed(ParticipantId receiver, std::vector<SlotView> slots) override {
    const std::lock_guard lock(mutex_);
    maps_[receiver] = std::move(slots);
  }
  void on_keyframe_request(ParticipantId publisher) override {
    const std::lock_guard lock(mutex_);
    info_requests_.push_back(publisher);
  }
  std::optional<std::vector<SlotView>> map_of(ParticipantId receiver) {
    const std::lock_guard lock(mutex_);
    auto it = maps_.find(receiver);
    return it == maps_.end() ? std::nullopt : std::optional(it->second);
  }
  std::size_t info_requests() {
    const std::lock_guard lock(mutex_);
    return info_requests_.size();
  }

 private:
  std::mutex mutex_;
  std::map<ParticipantId, std::vector<SlotView>> maps_;
  std::vector<ParticipantId> info_requests_;
};

// One VP8 RTP packet: descriptor with a 15-bit picture id, a keyframe header of `width`x`height` or
// an inter-frame tag, `filler` bytes of partition data; the RID extension when `rid` is set.
inline std::vector<std::uint8_t> vp8_packet(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
                                            std::uint16_t picture_id, bool keyframe, std::uint16_t width = 320,
                                            std::uint16_t height = 180, std::string_view rid = {},
                                            std::size_t filler = 100) {
  std::vector<std::uint8_t> packet(1500);
  media::OneByteExtensionElement element{kRidExtension,
                                         std::span(reinterpret_cast<const std::uint8_t*>(rid.data()), rid.size())};
  media::RtpHeaderFields fields;
  fields.payload_type = kPublisherVp8;
  fields.sequence_number = sequence;
  fields.timestamp = timestamp;
  fields.ssrc = ssrc;
  fields.marker = true;
  if (!rid.empty()) fields.extensions = std::span(&element, 1);
  auto header = media::write_rtp_header(packet, fields);
  EXPECT_TRUE(header.has_value());
  std::size_t at = *header;
  // RFC 7741 §4.2: X=1 S=1 PID=0; I=1; M=1 + 15-bit PictureID.
  for (std::uint8_t byte : {std::uint8_t{0x90}, std::uint8_t{0x80}, static_cast<std::uint8_t>(0x80 | (picture_id >> 8)),
                            static_cast<std::uint8_t>(picture_id)})
    packet[at++] = byte;
  if (keyframe) {  // RFC 6386 §9.1: frame tag P=0, start code, 14-bit width and height
    for (std::uint8_t byte :
         {std::uint8_t{0x30}, std::uint8_t{0xB3}, std::uint8_t{0x00}, std::uint8_t{0x9D}, std::uint8_t{0x01},
          std::uint8_t{0x2A}, static_cast<std::uint8_t>(width), static_cast<std::uint8_t>(width >> 8),
          static_cast<std::uint8_t>(height), static_cast<std::uint8_t>(height >> 8)})
      packet[at++] = byte;
  } else {
    for (std::uint8_t byte : {std::uint8_t{0x11}, std::uint8_t{0x25}, std::uint8_t{0x00}}) packet[at++] = byte;
  }
  for (std::size_t i = 0; i < filler; ++i) packet[at++] = static_cast<std::uint8_t>(i);
  packet.resize(at);
  return packet;
}

// One H.264 RTP packet holding a single NAL unit (RFC 6184 §5.6): an IDR slice (type 5) when
// `keyframe`, else a non-IDR slice (type 1), with `filler` bytes of slice data.
inline std::vector<std::uint8_t> h264_packet(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
                                             bool keyframe, std::size_t filler = 100) {
  std::vector<std::uint8_t> packet(1500);
  media::RtpHeaderFields fields;
  fields.payload_type = kH264;
  fields.sequence_number = sequence;
  fields.timestamp = timestamp;
  fields.ssrc = ssrc;
  fields.marker = true;
  auto header = media::write_rtp_header(packet, fields);
  EXPECT_TRUE(header.has_value());
  std::size_t at = *header;
  packet[at++] = keyframe ? 0x65 : 0x41;  // F=0, NRI=3 or 2, type 5 (IDR) or 1
  for (std::size_t i = 0; i < filler; ++i) packet[at++] = static_cast<std::uint8_t>(0x80 | i);
  packet.resize(at);
  return packet;
}

// What a receiver's phone got: media packets and RTCP, kept as bytes.
struct Received {
  std::vector<std::vector<std::uint8_t>> rtp;
  std::vector<std::vector<std::uint8_t>> rtcp;
};

// The RTCP PLIs in what a phone received.
inline int plis_in(const Received& received) {
  int count = 0;
  for (const auto& datagram : received.rtcp) {
    auto view = media::rtcp::CompoundView::parse(datagram);
    if (!view) continue;
    for (const auto& packet : *view)
      if (media::rtcp::Pli::parse(packet)) ++count;
  }
  return count;
}

inline bool is_rtcp(std::span<const std::uint8_t> datagram) {
  return datagram.size() >= 2 && datagram[1] >= 192 && datagram[1] <= 223;
}

class RouterTest : public ::testing::Test {
 protected:
  struct Peer {
    std::unique_ptr<Phone> phone = std::make_unique<Phone>();
    std::unique_ptr<media::PortLease> lease;
    std::uint64_t session = 0;
  };

  RouterTest() : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 19)) {
    router_ = std::make_shared<Router>("room", config_, listener_, counters_);
  }
  ~RouterTest() override {
    // The router and its sessions go on the worker, in that order of posting.
    for (auto& [id, peer] : peers_) worker_.remove_session(peer.session);
    worker_.post([router = std::move(router_)]() mutable { router.reset(); });
  }

  template <typename Work>
  void on_worker(Work work) {
    worker_.post([router = router_, work = std::move(work)]() mutable { work(*router); });
  }

  void join(ParticipantId id, std::string name) {
    on_worker([id, name](Router& router) { router.add_participant(id, name); });
  }

  static std::vector<CodecMapping> codecs(std::uint8_t vp8, std::uint8_t rtx) {
    return {CodecMapping{VideoCodec::kVp8, vp8, rtx, 90000}};
  }
  static std::vector<CodecMapping> h264_only() { return {CodecMapping{VideoCodec::kH264, kH264, std::nullopt, 90000}}; }

  // A participant's one video section: `produce` (we receive its camera), `slot` (we send it video).
  Peer& add_video(ParticipantId id, bool produce, bool slot, std::vector<std::string> rids = {},
                  FeedbackCaps feedback = {true, true, false, false, false}, bool h264 = false) {
    Peer& peer = peers_[id];
    peer.lease = pool_.allocate();
    media::MediaSessionSpec spec;
    spec.id = 100 + id;
    peer.session = spec.id;
    spec.label = "participant-" + std::to_string(id);
    spec.rtp_fd = ::dup(peer.lease->rtp_fd());
    spec.rtcp_fd = ::dup(peer.lease->rtcp_fd());
    spec.rtcp_mux = true;
    spec.remote_rtp = peer.phone->address();
    // The phone stands for an endpoint whose SIP came from this same loopback address: proven by
    // its signaling (issue 12's source latch would otherwise hold a receive-only phone's video back).
    spec.remote_proven = true;
    spec.local_ssrc = slot_ssrc(id);
    spec.clock_rate = 90000;
    spec.streams = {media::MediaStreamSpec{{slot_ssrc(id), slot_rtx_ssrc(id)}, 90000, slot}};
    std::optional<ProducerSpec> producer;
    if (produce) {
      producer = ProducerSpec{};
      producer->participant = id;
      producer->codecs = h264 ? h264_only() : codecs(kPublisherVp8, kPublisherRtx);
      producer->rids = std::move(rids);
      producer->extensions.rid = producer->rids.empty() ? 0 : kRidExtension;
      producer->feedback = feedback;
    }
    std::optional<SlotSpec> slot_spec;
    if (slot) {
      slot_spec = SlotSpec{};
      slot_spec->receiver = id;
      slot_spec->mid = "v" + std::to_string(id);
      slot_spec->ssrc = slot_ssrc(id);
      slot_spec->rtx_ssrc = slot_rtx_ssrc(id);
      slot_spec->codecs = h264 ? h264_only() : codecs(kReceiverVp8, kReceiverRtx);
      slot_spec->feedback = feedback;
    }
    worker_.add_session(std::move(spec), [router = router_, producer, slot_spec] {
      return std::make_unique<VideoSink>(router, producer, slot_spec);
    });
    return peer;
  }

  static std::uint32_t slot_ssrc(ParticipantId id) { return 0x5100 + id; }
  static std::uint32_t slot_rtx_ssrc(ParticipantId id) { return 0x5200 + id; }
  static std::uint32_t publisher_ssrc(ParticipantId id) { return 0xA000 + id; }

  [[nodiscard]] media::TransportAddress server_of(ParticipantId id) {
    return *media::parse_transport_address("127.0.0.1", peers_[id].lease->rtp_port());
  }

  void send(ParticipantId id, std::span<const std::uint8_t> packet) {
    peers_[id].phone->send_raw(server_of(id), packet);
  }

  // What the participant's phone receives: everything within `wait`, or — when `expected_rtp` is
  // set — until that many media packets came (then 100 ms more, to see any extra), at most 5 s.
  Received receive(ParticipantId id, std::chrono::milliseconds wait = 300ms,
                   std::optional<std::size_t> expected_rtp = std::nullopt) {
    Received out;
    const auto start = std::chrono::steady_clock::now();
    auto deadline = start + (expected_rtp ? std::chrono::milliseconds(5000) : wait);
    bool settled = false;
    while (std::chrono::steady_clock::now() < deadline) {
      auto datagram = peers_[id].phone->receive_raw(20ms);
      if (!datagram.empty()) (is_rtcp(datagram) ? out.rtcp : out.rtp).push_back(std::move(datagram));
      if (expected_rtp && !settled && out.rtp.size() >= *expected_rtp) {
        settled = true;
        deadline = std::chrono::steady_clock::now() + 100ms;
      }
    }
    return out;
  }

  // Speaker levels as the audio MCU gives them (the detector counts 20 ms rounds, not wall time):
  // first a second of everyone's room noise (-70 dBov, which sets each one's noise floor), then
  // `talker` speaking at -20 dBov, voiced, for `frames` rounds while the others stay at the noise.
  void speak(ParticipantId talker, std::vector<ParticipantId> everyone, int frames = 60) {
    on_worker([talker, everyone, frames](Router& router) {
      constexpr std::uint8_t kNoise = 70;
      constexpr std::uint8_t kSpeech = 20;
      std::vector<SpeakerLevel> levels;
      for (int i = 0; i < 50 + frames; ++i) {
        levels.clear();
        for (auto id : everyone) {
          const bool speaking = id == talker && i >= 50;
          levels.push_back(SpeakerLevel{id, speaking ? kSpeech : kNoise, speaking});
        }
        router.on_audio_levels(levels);
      }
    });
  }

  RouterConfig config_{};
  std::shared_ptr<RecordingListener> listener_ = std::make_shared<RecordingListener>();
  std::shared_ptr<SfuCounters> counters_ = std::make_shared<SfuCounters>();
  std::uint16_t first_port_ = chorus::test::free_udp_range(20);
  media::UdpPortPool pool_;
  media::MediaWorker worker_{0, nullptr};
  std::shared_ptr<Router> router_;
  std::map<ParticipantId, Peer> peers_;
};

// The VP8 PictureID of a forwarded packet (15-bit form).
inline std::optional<std::uint16_t> picture_id_of(std::vector<std::uint8_t>& bytes) {
  auto packet = media::RtpPacket::parse(bytes);
  if (!packet) return std::nullopt;
  auto descriptor = Vp8Descriptor::parse(packet->payload());
  return descriptor ? descriptor->picture_id() : std::nullopt;
}

}  // namespace chorus::sfu::test
