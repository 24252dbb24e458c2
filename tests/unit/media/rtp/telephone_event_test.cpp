// RFC 4733 telephone-events: the §2.3 payload layout, the §3.2 DTMF table, and the detector's
// one-report-per-press rule over the packet sequences senders really produce (§2.5.1).
#include "media/rtp/telephone_event.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace chorus::media {
namespace telephone_event_test {

// RFC 4733 §2.3: key '5' starting, 10 dB below full power, 160 timestamp units (20 ms at 8 kHz).
constexpr std::array<std::uint8_t, 4> kFiveStart = {
    0x05,        // event 5: DTMF '5' (§3.2)
    0x0A,        // E=0 R=0 volume=10
    0x00, 0xA0,  // duration 160
};

// RFC 4733 §2.3: the same press's final packet (one of the three identical copies, §2.5.1.4).
constexpr std::array<std::uint8_t, 4> kFiveEnd = {
    0x05,        // event 5
    0x8A,        // E=1 R=0 volume=10
    0x03, 0x20,  // duration 800 (100 ms at 8 kHz)
};

// RFC 4733 §2.3: '#' final packet with the reserved R bit set, which the receiver ignores (§2.3.3).
constexpr std::array<std::uint8_t, 4> kHashEndReservedBit = {
    0x0B,        // event 11: '#'
    0xFF,        // E=1 R=1 volume=63 (the quietest level)
    0xFF, 0xFF,  // duration 65535, the maximum
};

// RFC 4733 §2.5.1.5: two blocks packed in one packet; only the first is read.
constexpr std::array<std::uint8_t, 8> kTwoBlocks = {
    0x01, 0x8A, 0x03, 0x20,  // event 1 '1', E=1, volume 10, duration 800
    0x02, 0x0A, 0x00, 0xA0,  // event 2 '2', E=0, volume 10, duration 160
};

// RFC 4733 §3.2 / §2.3: event 16 (hook flash), not a DTMF key.
constexpr std::array<std::uint8_t, 4> kFlash = {
    0x10,        // event 16: flash
    0x0A,        // E=0 volume 10
    0x00, 0xA0,  // duration 160
};

// RFC 4733 §2.5.1.3: a long press of '0' reaching the maximum duration without ending.
constexpr std::array<std::uint8_t, 4> kZeroAtMaximum = {
    0x00,        // event 0: '0'
    0x0A,        // E=0 volume 10
    0xFF, 0xFF,  // duration 65535
};
constexpr std::array<std::uint8_t, 4> kZeroNextSegment = {
    0x00,        // event 0
    0x0A,        // E=0 volume 10
    0x00, 0xA0,  // duration 160 into the new segment
};
constexpr std::array<std::uint8_t, 4> kZeroStart = {
    0x00,        // event 0
    0x0A,        // E=0 volume 10
    0x00, 0xA0,  // duration 160
};

std::array<std::uint8_t, 4> event_block(std::uint8_t event, bool end, std::uint16_t duration) {
  return {event, static_cast<std::uint8_t>((end ? 0x80 : 0x00) | 10), static_cast<std::uint8_t>(duration >> 8),
          static_cast<std::uint8_t>(duration & 0xFF)};
}

TEST(ParseTelephoneEvent, ReadsEveryField) {
  const auto event = parse_telephone_event(kFiveStart);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, 5);
  EXPECT_FALSE(event->end);
  EXPECT_EQ(event->volume, 10);
  EXPECT_EQ(event->duration, 160);

  const auto end = parse_telephone_event(kFiveEnd);
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->end);
  EXPECT_EQ(end->duration, 800);
}

TEST(ParseTelephoneEvent, IgnoresReservedBitAndKeepsSixBitVolume) {
  const auto event = parse_telephone_event(kHashEndReservedBit);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, 11);
  EXPECT_TRUE(event->end);
  EXPECT_EQ(event->volume, 63);
  EXPECT_EQ(event->duration, 0xFFFF);
}

TEST(ParseTelephoneEvent, ShorterThanFourBytesIsRejected) {
  const std::span<const std::uint8_t> whole{kFiveStart};
  for (std::size_t size = 0; size < kTelephoneEventSize; ++size) {
    EXPECT_FALSE(parse_telephone_event(whole.first(size)).has_value()) << size;
  }
}

TEST(ParseTelephoneEvent, ReadsOnlyTheFirstOfSeveralBlocks) {
  const auto event = parse_telephone_event(kTwoBlocks);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, 1);
  EXPECT_TRUE(event->end);
  EXPECT_EQ(event->duration, 800);
}

TEST(DtmfDigit, MapsTheSixteenKeysOfRfc4733Table) {
  constexpr std::array<char, 16> kKeys = {'0', '1', '2', '3', '4', '5', '6', '7',
                                          '8', '9', '*', '#', 'A', 'B', 'C', 'D'};
  for (std::uint8_t event = 0; event < kKeys.size(); ++event) {
    EXPECT_EQ(dtmf_digit(event), kKeys[event]) << int{event};
  }
}

TEST(DtmfDigit, OtherEventsAreNotKeys) {
  for (int event = 16; event <= 255; ++event) {
    EXPECT_EQ(dtmf_digit(static_cast<std::uint8_t>(event)), std::nullopt) << event;
  }
}

TEST(TelephoneEventDetector, ReportsAPressOnceAcrossUpdatesAndRepeatedEnds) {
  TelephoneEventDetector detector;
  // §2.5.1: start, two updates, then the end packet three times, all with timestamp 8000.
  EXPECT_EQ(detector.on_packet(8000, kFiveStart), '5');
  EXPECT_EQ(detector.on_packet(8000, event_block(5, false, 320)), std::nullopt);
  EXPECT_EQ(detector.on_packet(8000, event_block(5, false, 480)), std::nullopt);
  for (int copy = 0; copy < 3; ++copy) EXPECT_EQ(detector.on_packet(8000, kFiveEnd), std::nullopt) << copy;
}

TEST(TelephoneEventDetector, ReportsAPressWhoseStartWasLost) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(16000, kFiveEnd), '5');
  EXPECT_EQ(detector.on_packet(16000, kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(16000, kFiveEnd), std::nullopt);
}

TEST(TelephoneEventDetector, ReportsTheSameDigitPressedAgain) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(1000, kFiveStart), '5');
  EXPECT_EQ(detector.on_packet(1000, kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(3000, kFiveStart), '5');
  EXPECT_EQ(detector.on_packet(3000, kFiveEnd), std::nullopt);
}

TEST(TelephoneEventDetector, IgnoresALateEndPacketOfTheEarlierPress) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(1000, kFiveStart), '5');
  EXPECT_EQ(detector.on_packet(1000, kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(2000, event_block(1, false, 160)), '1');
  // The third copy of '5''s end packet, reordered behind the next press.
  EXPECT_EQ(detector.on_packet(1000, kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(2000, event_block(1, true, 800)), std::nullopt);
}

TEST(TelephoneEventDetector, ForgetsPressesOlderThanItsMemory) {
  TelephoneEventDetector detector;
  for (std::uint32_t i = 0; i <= TelephoneEventDetector::kRememberedEvents; ++i) {
    EXPECT_EQ(detector.on_packet(1000 * (i + 1), kFiveStart), '5') << i;
  }
  // The first press (timestamp 1000) has been pushed out; the most recent ones are still known.
  EXPECT_EQ(detector.on_packet(1000 * (TelephoneEventDetector::kRememberedEvents + 1), kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(2000, kFiveEnd), std::nullopt);
  EXPECT_EQ(detector.on_packet(1000, kFiveEnd), '5');
}

TEST(TelephoneEventDetector, HandlesTimestampWrap) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(0xFFFFFF00u, kFiveStart), '5');
  EXPECT_EQ(detector.on_packet(0x00000100u, event_block(9, false, 160)), '9');
  EXPECT_EQ(detector.on_packet(0xFFFFFF00u, kFiveEnd), std::nullopt);
}

TEST(TelephoneEventDetector, LongPressSegmentsAreOnePress) {
  TelephoneEventDetector detector;
  // §2.5.1.3: the second segment starts 0xFFFF after the first, across the 32-bit wrap here.
  const std::uint32_t start = 0xFFFF8000u;
  EXPECT_EQ(detector.on_packet(start, kZeroStart), '0');
  EXPECT_EQ(detector.on_packet(start, kZeroAtMaximum), std::nullopt);
  EXPECT_EQ(detector.on_packet(start + 0xFFFFu, kZeroNextSegment), std::nullopt);
  EXPECT_EQ(detector.on_packet(start + 0xFFFFu, kZeroAtMaximum), std::nullopt);
  EXPECT_EQ(detector.on_packet(start + 2 * 0xFFFFu, event_block(0, true, 800)), std::nullopt);
  // A later press of the same key is a new press.
  EXPECT_EQ(detector.on_packet(start + 2 * 0xFFFFu + 4000, kZeroStart), '0');
}

TEST(TelephoneEventDetector, EndedPressFollowedAtSegmentDistanceIsANewPress) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(5000, kZeroStart), '0');
  EXPECT_EQ(detector.on_packet(5000, event_block(0, true, 800)), std::nullopt);
  EXPECT_EQ(detector.on_packet(5000 + 0xFFFF, kZeroStart), '0');
}

TEST(TelephoneEventDetector, NonDtmfEventsAreNotReported) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(1000, kFlash), std::nullopt);
  EXPECT_EQ(detector.on_packet(1000, kFlash), std::nullopt);
  // A tone event (§4, e.g. 32 answer tone) neither.
  EXPECT_EQ(detector.on_packet(2000, event_block(32, false, 160)), std::nullopt);
  EXPECT_EQ(detector.on_packet(3000, kFiveStart), '5');
}

TEST(TelephoneEventDetector, ShortPayloadChangesNothing) {
  TelephoneEventDetector detector;
  const std::array<std::uint8_t, 3> truncated = {0x05, 0x0A, 0x00};
  EXPECT_EQ(detector.on_packet(1000, truncated), std::nullopt);
  EXPECT_EQ(detector.on_packet(1000, std::span<const std::uint8_t>{}), std::nullopt);
  EXPECT_EQ(detector.on_packet(1000, kFiveStart), '5');
}

TEST(TelephoneEventDetector, ResetForgetsEverything) {
  TelephoneEventDetector detector;
  EXPECT_EQ(detector.on_packet(1000, kFiveStart), '5');
  detector.reset();
  EXPECT_EQ(detector.on_packet(1000, kFiveEnd), '5');
}

TEST(TelephoneEventDetector, DialledSequenceComesOutInOrder) {
  TelephoneEventDetector detector;
  // "1234#" at 8 kHz: each key 100 ms with 20 ms updates, three end packets, 100 ms apart.
  const std::array<std::uint8_t, 5> keys = {1, 2, 3, 4, 11};
  std::vector<char> digits;
  std::uint32_t timestamp = 480000;
  for (std::uint8_t key : keys) {
    for (std::uint16_t duration = 160; duration < 800; duration += 160) {
      if (auto digit = detector.on_packet(timestamp, event_block(key, false, duration))) digits.push_back(*digit);
    }
    for (int copy = 0; copy < 3; ++copy) {
      if (auto digit = detector.on_packet(timestamp, event_block(key, true, 800))) digits.push_back(*digit);
    }
    timestamp += 1600;
  }
  EXPECT_EQ(digits, (std::vector<char>{'1', '2', '3', '4', '#'}));
}

}  // namespace telephone_event_test
}  // namespace chorus::media
