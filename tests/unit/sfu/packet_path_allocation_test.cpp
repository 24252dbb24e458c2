// The per-packet functions of this folder never allocate (DESIGN §5): each runs thousands of
// times, switches, losses, retransmissions and refusals included, while a counting global
// operator new watches. The replacement only counts (on this thread, while armed) and forwards
// to malloc, so the other tests in unit_sfu run exactly as they would without it.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "media/rtp/rtp_packet.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/payload/h264_payload.hpp"
#include "sfu/payload/h264_sps.hpp"
#include "sfu/payload/vp8_descriptor.hpp"
#include "sfu/payload/vp8_picture_id_rewriter.hpp"
#include "sfu/retransmission_cache.hpp"
#include "sfu/rtx.hpp"
#include "sfu/stream_rewriter.hpp"

namespace {

thread_local bool armed = false;
thread_local std::size_t allocations = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (armed) ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc{};
}
// The nothrow form too (std::stable_sort's temporary buffer uses it): every operator new in this
// binary must be malloc, since every operator delete below is free (ASan checks the pairing).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (armed) ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
// GCC inlines these into new-expressions it saw paired with the library's operator new and warns
// of a mismatch; the replacement new above is malloc, so free is its match.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
void operator delete(void* memory, const std::nothrow_t&) noexcept {
  std::free(memory);
}
#pragma GCC diagnostic pop

namespace chorus::sfu {
namespace packet_path_allocation_test {

using namespace std::chrono_literals;

// Counts the allocations made while it is alive.
class AllocationWatch {
 public:
  AllocationWatch() {
    allocations = 0;
    armed = true;
  }
  ~AllocationWatch() { armed = false; }
  std::size_t count() const { return allocations; }
};

// A VP8 key frame's first packet: RTP header, 15-bit PictureID and TL0PICIDX, frame header.
std::array<std::uint8_t, 30> vp8_packet(std::uint16_t sequence, std::uint32_t timestamp, std::uint16_t picture_id) {
  return {0x80,
          0x60,
          static_cast<std::uint8_t>(sequence >> 8),
          static_cast<std::uint8_t>(sequence),
          static_cast<std::uint8_t>(timestamp >> 24),
          static_cast<std::uint8_t>(timestamp >> 16),
          static_cast<std::uint8_t>(timestamp >> 8),
          static_cast<std::uint8_t>(timestamp),
          0x00,
          0x00,
          0x00,
          0x01,  // SSRC
          0x90,
          0xC0,
          static_cast<std::uint8_t>(0x80 | (picture_id >> 8)),  // X S, I L, M
          static_cast<std::uint8_t>(picture_id),
          0x07,  // PictureID, TL0PICIDX
          0x30,
          0xB3,
          0x00,
          0x9D,
          0x01,
          0x2A,
          0x80,
          0x02,
          0x68,
          0x01,
          0x00,
          0x47,
          0x08};  // key frame header
}

TEST(PacketPath, ForwardingAndRepairAllocateNothing) {
  // Construction may allocate (control path); the packet path after it may not.
  StreamRewriter rewriter{StreamRewriterConfig{.initial_sequence_number = 100}};
  Vp8PictureIdRewriter picture_ids;
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 64}};
  NackGenerator nacks{NackGeneratorConfig{.max_missing = 64}};
  std::array<std::uint16_t, 32> due{};
  std::array<media::rtcp::NackItem, 16> items{};
  std::array<std::uint8_t, 1500> rtx_out{};
  std::array<std::uint8_t, 200> rtcp_out{};
  const auto start = std::chrono::steady_clock::time_point{} + 10s;

  AllocationWatch watch;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const auto now = start + std::chrono::milliseconds{i};
    if (i % 17 == 3) continue;  // a loss now and then
    const auto sequence = static_cast<std::uint16_t>(60000 + i);
    auto bytes = vp8_packet(sequence, 90 * i, static_cast<std::uint16_t>(i / 3));
    auto packet = media::RtpPacket::parse(bytes);
    ASSERT_TRUE(packet);
    const auto descriptor = Vp8Descriptor::parse(packet->payload());
    ASSERT_TRUE(descriptor);
    (void)nacks.on_packet(sequence, descriptor->is_keyframe(), now);
    (void)cache.store(*packet, now);
    const auto source = SourceKey{.producer = (i / 500) % 2};  // a switch every 500 packets
    const auto out = rewriter.rewrite(StreamRewriter::Input{
        .source = source, .sequence_number = sequence, .timestamp = 90 * i, .arrival = now, .switch_point = true});
    ASSERT_TRUE(out);
    packet->set_sequence_number(out->sequence_number);
    packet->set_timestamp(out->timestamp);
    ASSERT_TRUE(picture_ids.rewrite(packet->mutable_payload(), out->switched));

    const auto count = nacks.collect(now, 30ms, due);
    const auto packing = pack_nack_items(std::span{due}.first(count), items);
    (void)write_generic_nack(rtcp_out, {.sender_ssrc = 1, .media_ssrc = 2}, std::span{items}.first(packing.items));
    if (const auto origin = rewriter.source_of(static_cast<std::uint16_t>(out->sequence_number - 5))) {
      if (const auto cached = cache.find(origin->sequence_number, now)) {
        std::array<std::uint8_t, 64> copy{};
        std::copy(cached->bytes.begin(), cached->bytes.end(), copy.begin());
        auto original = media::RtpPacket::parse(std::span{copy}.first(cached->bytes.size()));
        ASSERT_TRUE(original);
        auto rtx = build_rtx_packet(*original, RtxSendParams{.ssrc = 9, .payload_type = 97}, rtx_out);
        ASSERT_TRUE(rtx);
        ASSERT_TRUE(unwrap_rtx_in_place(std::span{rtx_out}.first(rtx->size()), RtxRepairParams{.media_ssrc = 1}));
      }
    }
  }
  EXPECT_EQ(watch.count(), 0u);
  EXPECT_GT(nacks.counters().nacks_sent, 0u);
  EXPECT_EQ(rewriter.counters().switches, 10u);
}

TEST(PacketPath, ParsersAllocateNothingOnGoodOrBadInput) {
  constexpr std::array<std::uint8_t, 13> kStapA = {0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1E,
                                                   0x00, 0x04, 0x65, 0x88, 0x84, 0x00};
  constexpr std::array<std::uint8_t, 3> kBroken = {0x78, 0x00, 0x09};
  AllocationWatch watch;
  for (int i = 0; i < 1000; ++i) {
    const auto payload = H264Payload::parse(kStapA);
    ASSERT_TRUE(payload && payload->is_keyframe());
    for (const auto unit : payload->nal_units()) (void)unit;
    (void)parse_h264_sps(*payload->find_sps());
    ASSERT_FALSE(H264Payload::parse(kBroken));
    ASSERT_FALSE(Vp8Descriptor::parse(std::span{kBroken}.first(1)));
  }
  EXPECT_EQ(watch.count(), 0u);
}

TEST(PacketPath, TheWatchSeesAnAllocation) {
  AllocationWatch watch;
  void* memory = ::operator new(16);  // a direct call: a new-expression could be elided
  ::operator delete(memory);
  EXPECT_EQ(watch.count(), 1u);  // so the checks above would notice one
}

}  // namespace packet_path_allocation_test
}  // namespace chorus::sfu
