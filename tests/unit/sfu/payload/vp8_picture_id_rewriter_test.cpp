// Vp8PictureIdRewriter: within a source the outgoing PictureID/TL0PICIDX keep the source's deltas
// (reordering included); across a switch they continue at last + 1; 7-bit fields wrap mod 128
// and 15-bit ones mod 32768, each field keeping its width on the wire.
#include "sfu/payload/vp8_picture_id_rewriter.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>

namespace chorus::sfu {
namespace vp8_picture_id_rewriter_test {

// A frame-start descriptor with a 15-bit PictureID and a TL0PICIDX, then one byte of VP8 data.
std::array<std::uint8_t, 6> fifteen_bit(std::uint16_t picture_id, std::uint8_t tl0) {
  return {0x90,                                                 // X=1 S=1 PID=0
          0xC0,                                                 // I=1 L=1
          static_cast<std::uint8_t>(0x80 | (picture_id >> 8)),  // M=1, PictureID high bits
          static_cast<std::uint8_t>(picture_id),
          tl0,    // PictureID low bits, TL0PICIDX
          0x01};  // frame tag byte: P=1
}

// The same with a 7-bit PictureID and no TL0PICIDX.
std::array<std::uint8_t, 4> seven_bit(std::uint8_t picture_id) {
  return {0x90, 0x80, static_cast<std::uint8_t>(picture_id & 0x7F), 0x01};
}

struct Ids {
  std::optional<std::uint16_t> picture_id;
  std::optional<std::uint8_t> tl0;
  bool operator==(const Ids&) const = default;
};

template <std::size_t N>
Ids rewrite(Vp8PictureIdRewriter& rewriter, std::array<std::uint8_t, N> bytes, bool switched = false) {
  EXPECT_TRUE(rewriter.rewrite(bytes, switched));
  const auto descriptor = Vp8Descriptor::parse(bytes);
  return {descriptor->picture_id(), descriptor->tl0_pic_idx()};
}

TEST(Vp8PictureIdRewriter, FirstSourceKeepsItsIds) {
  Vp8PictureIdRewriter rewriter;
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(1000, 17), true), (Ids{1000, 17}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(1001, 17)), (Ids{1001, 17}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(1002, 18)), (Ids{1002, 18}));
  EXPECT_EQ(rewriter.last_picture_id(), 1002);
  EXPECT_EQ(rewriter.last_tl0_pic_idx(), 18);
}

TEST(Vp8PictureIdRewriter, ContinuesAtLastPlusOneAcrossASwitch) {
  Vp8PictureIdRewriter rewriter;
  (void)rewrite(rewriter, fifteen_bit(1000, 17), true);
  (void)rewrite(rewriter, fifteen_bit(1001, 18));
  // Source B's ids are unrelated; its keyframe continues the stream, its deltas are kept.
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(20000, 200), true), (Ids{1002, 19}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(20001, 200)), (Ids{1003, 19}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(20003, 201)), (Ids{1005, 20}));  // a lost picture stays a gap
  // Reordered and repeated packets of B map to the same outgoing ids.
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(20001, 200)), (Ids{1003, 19}));
  EXPECT_EQ(rewriter.last_picture_id(), 1005);
  EXPECT_EQ(rewriter.last_tl0_pic_idx(), 20);
}

TEST(Vp8PictureIdRewriter, RewritesFifteenBitPictureIdAcrossWrap) {
  Vp8PictureIdRewriter rewriter;
  (void)rewrite(rewriter, fifteen_bit(0x7FFE, 255), true);
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0x7FFF, 255)), (Ids{0x7FFF, 255}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0, 0)), (Ids{0, 0}));
  // Switch to a source whose ids wrap on their own: outgoing 1, 2, then across its wrap 3.
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0x7FFE, 9), true), (Ids{1, 1}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0x7FFF, 9)), (Ids{2, 1}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0, 10)), (Ids{3, 2}));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(0x7FFF, 9)), (Ids{2, 1}));  // late, from before the wrap
}

TEST(Vp8PictureIdRewriter, SevenBitSourceWrapsModulo128) {
  Vp8PictureIdRewriter rewriter;
  (void)rewrite(rewriter, seven_bit(126), true);
  EXPECT_EQ(rewrite(rewriter, seven_bit(127)).picture_id, 127);
  EXPECT_EQ(rewrite(rewriter, seven_bit(0)).picture_id, 0);
  EXPECT_EQ(rewrite(rewriter, seven_bit(1)).picture_id, 1);
  EXPECT_EQ(rewriter.last_picture_id(), 128 + 1);  // the outgoing stream's 15-bit id kept growing
}

TEST(Vp8PictureIdRewriter, SevenBitSourceAfterFifteenBitSourceWritesLowBits) {
  Vp8PictureIdRewriter rewriter;
  (void)rewrite(rewriter, fifteen_bit(5000, 1), true);  // outgoing 5000
  // A 7-bit source: outgoing 5001, 5002, ... written mod 128 into its one-byte field.
  EXPECT_EQ(rewrite(rewriter, seven_bit(120), true).picture_id, 5001 % 128);
  EXPECT_EQ(rewrite(rewriter, seven_bit(127)).picture_id, 5008 % 128);
  EXPECT_EQ(rewrite(rewriter, seven_bit(3)).picture_id, 5012 % 128);  // across the 7-bit wrap
  EXPECT_EQ(rewriter.last_picture_id(), 5012);
  // Back to a 15-bit source: it continues from the full id.
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(77, 40), true), (Ids{5013, 2}));
}

TEST(Vp8PictureIdRewriter, ManySwitchesNeverRepeatAnId) {
  Vp8PictureIdRewriter rewriter;
  std::uint16_t expected = 300;
  (void)rewrite(rewriter, fifteen_bit(300, 0), true);
  for (int round = 0; round < 50; ++round) {
    const auto source_base = static_cast<std::uint16_t>((round * 7919) & 0x7FFF);
    for (int picture = 0; picture < 5; ++picture) {
      const auto ids =
          rewrite(rewriter, fifteen_bit(static_cast<std::uint16_t>(source_base + picture), 0), picture == 0);
      expected = static_cast<std::uint16_t>((expected + 1) & 0x7FFF);
      ASSERT_EQ(ids.picture_id, expected) << round << " " << picture;
    }
  }
}

TEST(Vp8PictureIdRewriter, PassesPacketsWithoutIdsAndRefusesBrokenOnes) {
  Vp8PictureIdRewriter rewriter;
  std::array<std::uint8_t, 2> no_ids = {0x10, 0x01};
  EXPECT_TRUE(rewriter.rewrite(no_ids, true));
  EXPECT_EQ(no_ids, (std::array<std::uint8_t, 2>{0x10, 0x01}));
  std::array<std::uint8_t, 2> broken = {0x90, 0x80};
  EXPECT_EQ(rewriter.rewrite(broken, false).error(), Vp8Error::kTruncated);
  EXPECT_FALSE(rewriter.last_picture_id());
  // The switch flagged on an id-less packet still applies to the source's first id.
  (void)rewrite(rewriter, fifteen_bit(10, 1));
  std::array<std::uint8_t, 2> switch_without_id = {0x10, 0x01};
  EXPECT_TRUE(rewriter.rewrite(switch_without_id, true));
  EXPECT_EQ(rewrite(rewriter, fifteen_bit(9000, 50)), (Ids{11, 2}));
}

}  // namespace vp8_picture_id_rewriter_test
}  // namespace chorus::sfu
