// Serial arithmetic (RFC 3550 §5.1, A.1): is_newer across the wrap, and unwrapping to 64 bits
// through wraparound and reordering.
#include "media/rtp/sequence.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace chorus::media {
namespace sequence_test {

using U16 = std::uint16_t;
using U32 = std::uint32_t;

TEST(IsNewer, ComparesAcrossTheWrap) {
  EXPECT_TRUE(is_newer(U16{1}, U16{0}));
  EXPECT_TRUE(is_newer(U16{0}, U16{65535}));
  EXPECT_FALSE(is_newer(U16{65535}, U16{0}));
  EXPECT_TRUE(is_newer(U16{100}, U16{65000}));
  EXPECT_FALSE(is_newer(U16{7}, U16{7}));
  EXPECT_TRUE(is_newer(U32{5}, U32{0xFFFFFFF0}));
  EXPECT_FALSE(is_newer(U32{0xFFFFFFF0}, U32{5}));
}

TEST(IsNewer, HalfwayIsDecidedOneWayOnly) {
  EXPECT_NE(is_newer(U16{0x8000}, U16{0}), is_newer(U16{0}, U16{0x8000}));
  EXPECT_NE(is_newer(U16{0x9000}, U16{0x1000}), is_newer(U16{0x1000}, U16{0x9000}));
  EXPECT_NE(is_newer(U32{0x80000000}, U32{0}), is_newer(U32{0}, U32{0x80000000}));
}

TEST(IsNewer, LatestPicksTheNewerAcrossTheWrap) {
  EXPECT_EQ(latest(U16{65535}, U16{2}), U16{2});
  EXPECT_EQ(latest(U16{2}, U16{65535}), U16{2});
}

TEST(SequenceUnwrapper, CountsACycleAt65535To0) {
  SequenceUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(65534), 65534);
  EXPECT_EQ(unwrapper.unwrap(65535), 65535);
  EXPECT_EQ(unwrapper.unwrap(0), 65536);
  EXPECT_EQ(unwrapper.unwrap(1), 65537);
}

TEST(SequenceUnwrapper, PlacesAReorderedPacketFromBeforeTheWrap) {
  SequenceUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(65535), 65535);
  EXPECT_EQ(unwrapper.unwrap(1), 65537);
  EXPECT_EQ(unwrapper.unwrap(0), 65536);
  EXPECT_EQ(unwrapper.unwrap(65534), 65534);
  EXPECT_EQ(unwrapper.unwrap(2), 65538);
}

TEST(SequenceUnwrapper, PacketOlderThanTheFirstAcrossTheWrapIsNegative) {
  SequenceUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(1), 1);
  EXPECT_EQ(unwrapper.unwrap(65535), -1);
  EXPECT_EQ(unwrapper.unwrap(2), 2);
}

TEST(SequenceUnwrapper, StaysLinearOverManyCycles) {
  SequenceUnwrapper unwrapper;
  std::int64_t expected = 40000;
  for (int i = 0; i < 300000; ++i) {
    ASSERT_EQ(unwrapper.unwrap(static_cast<U16>(expected)), expected);
    expected += 7;
  }
}

TEST(SequenceUnwrapper, PeekDoesNotMoveTheReference) {
  SequenceUnwrapper unwrapper;
  (void)unwrapper.unwrap(65535);
  EXPECT_EQ(unwrapper.peek(3), 65539);
  EXPECT_EQ(unwrapper.last(), 65535);
  unwrapper.reset();
  EXPECT_FALSE(unwrapper.last().has_value());
  EXPECT_EQ(unwrapper.unwrap(3), 3);
}

TEST(TimestampUnwrapper, CountsACycleAtTheThirtyTwoBitWrap) {
  TimestampUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(0xFFFFFC40), 0xFFFFFC40);
  EXPECT_EQ(unwrapper.unwrap(0x00000000), 0x100000000);
  EXPECT_EQ(unwrapper.unwrap(0x000003C0), 0x1000003C0);
  EXPECT_EQ(unwrapper.unwrap(0xFFFFFC40), 0xFFFFFC40);  // a late packet from before the wrap
}

}  // namespace sequence_test
}  // namespace chorus::media
