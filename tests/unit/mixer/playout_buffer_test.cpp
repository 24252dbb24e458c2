// PlayoutBuffer: the receive side's jitter buffer, tick by tick (no clock, no GStreamer).
#include "mixer/playout_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace chorus::mixer {
namespace playout_buffer_test {

constexpr std::uint32_t kSsrc = 0xA1B2C3D4;
constexpr std::uint32_t kUnitsPer20Ms = 160;  // 8 kHz

// Packet n carries its own number in its first two bytes, so the test sees which one it got.
std::vector<std::uint8_t> packet_bytes(std::uint16_t sequence, std::size_t size = 172) {
  std::vector<std::uint8_t> bytes(size, 0);
  bytes[0] = static_cast<std::uint8_t>(sequence >> 8);
  bytes[1] = static_cast<std::uint8_t>(sequence);
  return bytes;
}

class PlayoutBufferTest : public ::testing::Test {
 protected:
  void push(std::uint16_t sequence, std::optional<std::uint32_t> timestamp = std::nullopt, std::uint32_t ssrc = kSsrc) {
    const std::uint32_t ts = timestamp.value_or(1000 + static_cast<std::uint32_t>(sequence) * kUnitsPer20Ms);
    buffer_.push(sequence, ts, ssrc, packet_bytes(sequence));
  }

  // One tick that needs one packet's worth of audio: what it decoded (its number), "lost" or nothing.
  struct Step {
    PlayoutStep kind;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
  };
  Step tick() {
    buffer_.start_tick();
    const PlayoutStep kind = buffer_.next();
    Step step{kind, 0, buffer_.timestamp()};
    if (kind == PlayoutStep::kDecode)
      step.sequence = static_cast<std::uint16_t>((buffer_.packet()[0] << 8) | buffer_.packet()[1]);
    return step;
  }
  std::vector<std::uint16_t> decoded_in(int ticks) {
    std::vector<std::uint16_t> sequences;
    for (int i = 0; i < ticks; ++i) {
      const Step step = tick();
      if (step.kind == PlayoutStep::kDecode) sequences.push_back(step.sequence);
    }
    return sequences;
  }

  PlayoutBuffer buffer_{PlayoutConfig{}};
};

TEST_F(PlayoutBufferTest, ATalkspurtWaitsItsPrimingThenPlaysOnePacketATick) {
  push(10);
  EXPECT_EQ(tick().kind, PlayoutStep::kNothing) << "first tick: priming";
  push(11);
  const Step first = tick();
  ASSERT_EQ(first.kind, PlayoutStep::kDecode) << "prime_ticks (2) later it plays";
  EXPECT_EQ(first.sequence, 10);
  push(12);
  EXPECT_EQ(tick().sequence, 11);
  push(13);
  EXPECT_EQ(tick().sequence, 12);
  EXPECT_EQ(buffer_.queued(), 1u) << "one packet (20 ms) of jitter margin stays queued";
}

TEST_F(PlayoutBufferTest, ReorderedPacketsPlayInSequenceOrder) {
  for (std::uint16_t sequence : {1, 3, 2, 5, 4, 6}) push(sequence);
  EXPECT_EQ(decoded_in(8), (std::vector<std::uint16_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(buffer_.counters().lost, 0u);
}

TEST_F(PlayoutBufferTest, TheFirstPacketArrivingSecondStillPlaysFirst) {
  push(11);
  push(10);
  EXPECT_EQ(decoded_in(4), (std::vector<std::uint16_t>{10, 11}));
}

TEST_F(PlayoutBufferTest, ADuplicateIsCountedAndPlayedOnce) {
  push(1);
  push(2);
  push(2);
  EXPECT_EQ(decoded_in(4), (std::vector<std::uint16_t>{1, 2}));
  EXPECT_EQ(buffer_.counters().duplicates, 1u);
}

TEST_F(PlayoutBufferTest, AMissingPacketIsConcealedWhenLaterOnesWaitAndIsLateWhenItComes) {
  push(1);
  push(3);
  tick();  // priming
  EXPECT_EQ(tick().sequence, 1);
  const Step lost = tick();
  ASSERT_EQ(lost.kind, PlayoutStep::kConceal);
  EXPECT_EQ(lost.timestamp, 1000u + 2 * kUnitsPer20Ms) << "the lost packet's own timestamp";
  EXPECT_EQ(buffer_.concealed_duration(), kUnitsPer20Ms);
  push(2);  // too late
  EXPECT_EQ(tick().sequence, 3);
  EXPECT_EQ(buffer_.counters().lost, 1u);
  EXPECT_EQ(buffer_.counters().late, 1u);
}

TEST_F(PlayoutBufferTest, AfterALossTheNextPacketIsOfferedForItsFecAndStillPlaysInItsTurn) {
  push(1);
  push(3);
  push(4);
  tick();  // priming
  EXPECT_EQ(tick().sequence, 1);
  EXPECT_TRUE(buffer_.upcoming().empty()) << "2 has not come: nothing to rebuild it from";
  ASSERT_EQ(tick().kind, PlayoutStep::kConceal);
  const auto next = buffer_.upcoming();
  ASSERT_EQ(next.size(), 172u);
  EXPECT_EQ((next[0] << 8) | next[1], 3) << "the packet after the lost one";
  EXPECT_EQ(tick().sequence, 3) << "offering it did not take it";
  EXPECT_EQ(tick().sequence, 4);
  EXPECT_TRUE(buffer_.upcoming().empty());
}

TEST_F(PlayoutBufferTest, TheConcealedDurationIsLearntFromThePackets) {
  constexpr std::uint32_t k30Ms = 240;
  buffer_.push(1, 5000, kSsrc, packet_bytes(1));
  buffer_.push(2, 5000 + k30Ms, kSsrc, packet_bytes(2));
  buffer_.push(4, 5000 + 3 * k30Ms, kSsrc, packet_bytes(4));
  EXPECT_EQ(decoded_in(3), (std::vector<std::uint16_t>{1, 2}));
  const Step lost = tick();
  ASSERT_EQ(lost.kind, PlayoutStep::kConceal);
  EXPECT_EQ(buffer_.concealed_duration(), k30Ms);
  EXPECT_EQ(lost.timestamp, 5000u + 2 * k30Ms);
}

TEST_F(PlayoutBufferTest, AnEmptyBufferEndsTheTalkspurtAndTheNextOnePrimesAgain) {
  push(1);
  EXPECT_EQ(decoded_in(2), (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(tick().kind, PlayoutStep::kNothing);
  EXPECT_EQ(buffer_.counters().underruns, 1u);
  EXPECT_FALSE(buffer_.playing());
  push(2, 90'000);  // DTX: the sequence goes on, the timestamp jumps
  EXPECT_EQ(tick().kind, PlayoutStep::kNothing) << "priming again";
  EXPECT_EQ(tick().sequence, 2);
  EXPECT_EQ(buffer_.counters().lost, 0u);
}

TEST_F(PlayoutBufferTest, SequenceNumbersWrapAround) {
  for (std::uint16_t sequence : {65534, 65535, 0, 1}) push(sequence);
  EXPECT_EQ(decoded_in(6), (std::vector<std::uint16_t>{65534, 65535, 0, 1}));
  EXPECT_EQ(buffer_.counters().restarts, 0u);
}

TEST_F(PlayoutBufferTest, ANewSsrcStartsAfresh) {
  push(100);
  push(101);
  push(7, std::nullopt, kSsrc + 1);
  EXPECT_EQ(decoded_in(4), (std::vector<std::uint16_t>{7}));
  EXPECT_EQ(buffer_.counters().restarts, 1u);
}

TEST_F(PlayoutBufferTest, ASequenceJumpPastTheDropoutStartsAfresh) {
  push(100);
  push(101);
  push(100 + PlayoutBuffer::kMaxDropout + 1000);
  EXPECT_EQ(decoded_in(4),
            (std::vector<std::uint16_t>{static_cast<std::uint16_t>(100 + PlayoutBuffer::kMaxDropout + 1000)}));
  EXPECT_EQ(buffer_.counters().restarts, 1u);
}

TEST_F(PlayoutBufferTest, ABurstIsSkippedDownToTheMaxDelay) {
  push(0);
  EXPECT_EQ(decoded_in(2), (std::vector<std::uint16_t>{0}));
  for (std::uint16_t sequence = 1; sequence <= 30; ++sequence) push(sequence);  // 600 ms after a stall
  const Step next = tick();
  ASSERT_EQ(next.kind, PlayoutStep::kDecode);
  EXPECT_EQ(next.sequence, 20) << "200 ms (10 packets) before the newest is the most kept";
  EXPECT_EQ(buffer_.counters().skipped, 19u);
}

TEST_F(PlayoutBufferTest, NeverHoldsMoreThanMaxPacketsAndRefusesOversizedOnes) {
  PlayoutConfig config;
  config.max_packets = 8;
  config.max_delay = std::chrono::milliseconds(10'000);
  PlayoutBuffer buffer(config);
  for (std::uint16_t sequence = 0; sequence < 100; ++sequence) {
    buffer.push(sequence, sequence * kUnitsPer20Ms, kSsrc, packet_bytes(sequence));
    EXPECT_LE(buffer.queued(), 8u);
  }
  EXPECT_EQ(buffer.counters().skipped, 92u);
  buffer.push(100, 100 * kUnitsPer20Ms, kSsrc, packet_bytes(100, PlayoutBuffer::kMaxPacketBytes + 1));
  EXPECT_EQ(buffer.counters().refused, 1u);
  buffer.start_tick();
  buffer.start_tick();
  ASSERT_EQ(buffer.next(), PlayoutStep::kDecode);
  EXPECT_EQ(buffer.packet()[1], 92) << "the newest eight were kept";
}

TEST_F(PlayoutBufferTest, APacketFarBehindIsASenderRestartNotALatePacket) {
  push(5000);
  push(5001);
  EXPECT_EQ(decoded_in(3), (std::vector<std::uint16_t>{5000, 5001}));
  push(10);  // 4,991 behind: the sender started its numbers again
  EXPECT_EQ(buffer_.counters().restarts, 1u);
  EXPECT_EQ(decoded_in(3), (std::vector<std::uint16_t>{10}));
}

}  // namespace playout_buffer_test
}  // namespace chorus::mixer
