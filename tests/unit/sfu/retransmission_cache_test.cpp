// RetransmissionCache: stored packets come back byte for byte by sequence number until a newer
// packet takes their slot or max_age passes; never-seen numbers, stragglers, duplicates and
// oversized packets are refused and counted; the wrap from 65535 to 0 is one step.
#include "sfu/retransmission_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace chorus::sfu {
namespace retransmission_cache_test {

using namespace std::chrono_literals;
using TimePoint = RetransmissionCache::TimePoint;

const TimePoint kStart = TimePoint{} + 100s;

// A 16-byte RTP packet whose payload names its sequence number, so a mix-up would show.
std::array<std::uint8_t, 16> packet_bytes(std::uint16_t sequence) {
  return {0x80,
          0x60,
          static_cast<std::uint8_t>(sequence >> 8),
          static_cast<std::uint8_t>(sequence),
          0,
          0,
          0x0B,
          0xB8,  // timestamp
          0,
          0,
          0x12,
          0x34,  // SSRC
          0x90,
          0x80,
          static_cast<std::uint8_t>(sequence >> 8),
          static_cast<std::uint8_t>(sequence)};
}

std::expected<void, CacheStoreError> store(RetransmissionCache& cache, std::uint16_t sequence, TimePoint arrival) {
  auto bytes = packet_bytes(sequence);
  auto packet = media::RtpPacket::parse(bytes);
  EXPECT_TRUE(packet);
  return cache.store(*packet, arrival);  // the cache copies: `bytes` may go away
}

bool holds(const RetransmissionCache& cache, std::uint16_t sequence, TimePoint now) {
  const auto entry = cache.find(sequence, now);
  return entry && std::ranges::equal(entry->bytes, packet_bytes(sequence));
}

TEST(RetransmissionCache, ReturnsStoredPacketsByteForByte) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 8}};
  ASSERT_TRUE(store(cache, 100, kStart));
  ASSERT_TRUE(store(cache, 101, kStart + 5ms));
  EXPECT_TRUE(holds(cache, 100, kStart + 10ms));
  EXPECT_TRUE(holds(cache, 101, kStart + 10ms));
  EXPECT_EQ(cache.find(101, kStart + 10ms)->arrival, kStart + 5ms);
  EXPECT_FALSE(cache.find(102, kStart + 10ms));  // never seen
  EXPECT_FALSE(cache.find(108, kStart + 10ms));  // 108's slot holds 100
  EXPECT_EQ(cache.counters().stored, 2u);
}

TEST(RetransmissionCache, NewerPacketEvictsTheOneInItsSlot) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 8}};
  for (std::uint16_t sequence = 0; sequence < 12; ++sequence) ASSERT_TRUE(store(cache, sequence, kStart));
  for (std::uint16_t sequence = 0; sequence < 4; ++sequence) EXPECT_FALSE(cache.find(sequence, kStart)) << sequence;
  for (std::uint16_t sequence = 4; sequence < 12; ++sequence) EXPECT_TRUE(holds(cache, sequence, kStart)) << sequence;
}

TEST(RetransmissionCache, ForgetsPacketsOlderThanMaxAge) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 8, .max_age = 1000ms}};
  ASSERT_TRUE(store(cache, 7, kStart));
  EXPECT_TRUE(holds(cache, 7, kStart + 1000ms));
  EXPECT_FALSE(cache.find(7, kStart + 1001ms));
}

TEST(RetransmissionCache, RefusesStragglersDuplicatesAndOversizedPackets) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 8, .max_packet_size = 16}};
  ASSERT_TRUE(store(cache, 20, kStart));
  EXPECT_EQ(store(cache, 12, kStart).error(), CacheStoreError::kOlderThanSlot);  // slot 4 holds newer 20
  EXPECT_EQ(store(cache, 20, kStart).error(), CacheStoreError::kDuplicate);
  EXPECT_TRUE(holds(cache, 20, kStart));

  std::array<std::uint8_t, 17> too_large{0x80, 0x60, 0, 21};
  ASSERT_TRUE(media::RtpPacket::parse(too_large));
  EXPECT_EQ(cache.store(*media::RtpPacket::parse(too_large), kStart).error(), CacheStoreError::kTooLarge);
  EXPECT_FALSE(cache.find(21, kStart));
  EXPECT_EQ(cache.counters().rejected_older, 1u);
  EXPECT_EQ(cache.counters().duplicates, 1u);
  EXPECT_EQ(cache.counters().rejected_too_large, 1u);
}

TEST(RetransmissionCache, StaleSlotTakesAnyPacket) {
  // After a sender restart its numbers may look older than what the slots hold; stale slots
  // must not lock them out.
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 8, .max_age = 1000ms}};
  ASSERT_TRUE(store(cache, 20, kStart));
  ASSERT_TRUE(store(cache, 12, kStart + 2s));
  EXPECT_TRUE(holds(cache, 12, kStart + 2s));
}

TEST(RetransmissionCache, SequenceWrapIsOneStep) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 512}};
  for (std::uint32_t i = 0; i < 600; ++i) {
    ASSERT_TRUE(store(cache, static_cast<std::uint16_t>(65300 + i), kStart));
  }
  // The newest 512: 65388 .. 65535 and 0 .. 363.
  EXPECT_FALSE(cache.find(65387, kStart));
  EXPECT_TRUE(holds(cache, 65388, kStart));
  EXPECT_TRUE(holds(cache, 65535, kStart));
  EXPECT_TRUE(holds(cache, 0, kStart));
  EXPECT_TRUE(holds(cache, 363, kStart));
  // A straggler from before the wrap whose slot now holds a number after it.
  EXPECT_EQ(store(cache, 65300, kStart).error(), CacheStoreError::kOlderThanSlot);
}

TEST(RetransmissionCache, ClearForgetsEverythingAndClampsItsConfiguration) {
  RetransmissionCache cache{RetransmissionCacheConfig{.capacity = 0, .max_packet_size = 0}};
  EXPECT_EQ(cache.capacity(), 1u);
  EXPECT_EQ(cache.max_packet_size(), media::RtpPacket::kFixedHeaderSize);
  RetransmissionCache big{RetransmissionCacheConfig{.capacity = 1'000'000, .max_packet_size = 16}};
  EXPECT_EQ(big.capacity(), RetransmissionCache::kMaxCapacity);
  ASSERT_TRUE(store(big, 5, kStart));
  big.clear();
  EXPECT_FALSE(big.find(5, kStart));
}

}  // namespace retransmission_cache_test
}  // namespace chorus::sfu
