// parse_byte_range against RFC 9110 §14.1.2's examples (a 10000-byte representation) and the edge
// cases of §14.1.2 / §14.2 / §15.5.17; the Content-Range values of §14.4.
#include "rest-api/byte_range.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace chorus::rest {
namespace byte_range_test {

constexpr std::uint64_t kSize = 10'000;  // RFC 9110 §14.1.2's examples assume this length

TEST(ByteRange, ParsesRfc9110FirstAndSecondFiveHundredBytes) {
  EXPECT_EQ(parse_byte_range("bytes=0-499", kSize), RangeSelection::of(0, 499));
  EXPECT_EQ(parse_byte_range("bytes=500-999", kSize), RangeSelection::of(500, 999));
}

TEST(ByteRange, ParsesRfc9110FinalFiveHundredBytesBothWays) {
  EXPECT_EQ(parse_byte_range("bytes=-500", kSize), RangeSelection::of(9500, 9999));
  EXPECT_EQ(parse_byte_range("bytes=9500-", kSize), RangeSelection::of(9500, 9999));
}

TEST(ByteRange, ServesRfc9110MultipleRangeExamplesWhole) {
  // No multipart/byteranges: the server MAY ignore Range (§14.2).
  EXPECT_EQ(parse_byte_range("bytes=0-0,-1", kSize), RangeSelection::whole());
  EXPECT_EQ(parse_byte_range("bytes= 0-999, 4500-5499, -1000", kSize), RangeSelection::whole());
  EXPECT_EQ(parse_byte_range("bytes=500-600,601-999", kSize), RangeSelection::whole());
  EXPECT_EQ(parse_byte_range("bytes=500-700,601-999", kSize), RangeSelection::whole());
}

TEST(ByteRange, NoHeaderIsWhole) {
  EXPECT_EQ(parse_byte_range("", kSize), RangeSelection::whole());
}

TEST(ByteRange, ClipsLastPositionToTheEnd) {
  EXPECT_EQ(parse_byte_range("bytes=9000-20000", kSize), RangeSelection::of(9000, 9999));
  EXPECT_EQ(parse_byte_range("bytes=9999-9999", kSize), RangeSelection::of(9999, 9999));
  EXPECT_EQ(parse_byte_range("bytes=0-", 1), RangeSelection::of(0, 0));
}

TEST(ByteRange, SuffixLongerThanTheFileIsAllOfIt) {
  EXPECT_EQ(parse_byte_range("bytes=-20000", kSize), RangeSelection::of(0, 9999));
  EXPECT_EQ(parse_byte_range("bytes=-10000", kSize), RangeSelection::of(0, 9999));
}

TEST(ByteRange, FirstPositionAtOrPastTheEndIsUnsatisfiable) {
  EXPECT_EQ(parse_byte_range("bytes=10000-", kSize), RangeSelection::unsatisfiable());
  EXPECT_EQ(parse_byte_range("bytes=10000-10005", kSize), RangeSelection::unsatisfiable());
  EXPECT_EQ(parse_byte_range("bytes=5000000-", kSize), RangeSelection::unsatisfiable());
}

TEST(ByteRange, ZeroSuffixIsUnsatisfiable) {
  EXPECT_EQ(parse_byte_range("bytes=-0", kSize), RangeSelection::unsatisfiable());
}

TEST(ByteRange, EmptyFileWithAnIntRangeIsUnsatisfiable) {
  EXPECT_EQ(parse_byte_range("bytes=0-", 0), RangeSelection::unsatisfiable());
  EXPECT_EQ(parse_byte_range("bytes=0-0", 0), RangeSelection::unsatisfiable());
  EXPECT_EQ(parse_byte_range("bytes=-0", 0), RangeSelection::unsatisfiable());
}

TEST(ByteRange, EmptyFileWithANonZeroSuffixIsWhole) {
  // §14.1.2: the only satisfiable range-spec of an empty representation, yet no 206 can carry zero
  // bytes; the whole (empty) representation answers it.
  EXPECT_EQ(parse_byte_range("bytes=-5", 0), RangeSelection::whole());
}

TEST(ByteRange, UnitIsCaseInsensitive) {
  EXPECT_EQ(parse_byte_range("Bytes=0-1", kSize), RangeSelection::of(0, 1));
  EXPECT_EQ(parse_byte_range("BYTES=0-1", kSize), RangeSelection::of(0, 1));
}

TEST(ByteRange, OtherUnitIsIgnored) {
  EXPECT_EQ(parse_byte_range("items=0-1", kSize), RangeSelection::whole());
  EXPECT_EQ(parse_byte_range("bytesx=0-1", kSize), RangeSelection::whole());
}

TEST(ByteRange, LastBelowFirstIsInvalidAndIgnored) {
  EXPECT_EQ(parse_byte_range("bytes=500-499", kSize), RangeSelection::whole());
}

TEST(ByteRange, SyntaxErrorsAreIgnored) {
  for (const char* header : {"bytes", "bytes=", "bytes=-", "bytes=abc", "bytes=1", "bytes=1-2-3", "bytes=+1-2",
                             "bytes=0 -1", "bytes=0- 1", "bytes =0-1", "bytes=0x10-", "bytes=,", "bytes=-1a", "=0-1"}) {
    EXPECT_EQ(parse_byte_range(header, kSize), RangeSelection::whole()) << header;
  }
}

TEST(ByteRange, EmptyListElementsAndOwsAreAccepted) {
  // RFC 9110 §5.6.1: empty list elements are ignored, OWS around elements allowed.
  EXPECT_EQ(parse_byte_range("bytes=0-99,", kSize), RangeSelection::of(0, 99));
  EXPECT_EQ(parse_byte_range("bytes=, 0-99 ,", kSize), RangeSelection::of(0, 99));
  EXPECT_EQ(parse_byte_range(" bytes=0-99\t", kSize), RangeSelection::of(0, 99));
}

TEST(ByteRange, HugeNumbersSaturateInsteadOfOverflowing) {
  // 2^64 and far beyond: §14.1.2 asks recipients to expect large numerals.
  EXPECT_EQ(parse_byte_range("bytes=18446744073709551616-", kSize), RangeSelection::unsatisfiable());
  EXPECT_EQ(parse_byte_range("bytes=0-99999999999999999999999999", kSize), RangeSelection::of(0, 9999));
  EXPECT_EQ(parse_byte_range("bytes=-99999999999999999999999999", kSize), RangeSelection::of(0, 9999));
  // 2^64 + 10 wraps to 10 without saturation.
  EXPECT_EQ(parse_byte_range("bytes=18446744073709551626-", kSize), RangeSelection::unsatisfiable());
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(parse_byte_range("bytes=18446744073709551614-", kMax), RangeSelection::of(kMax - 1, kMax - 1));
}

TEST(ByteRange, LengthCountsBothEnds) {
  EXPECT_EQ((ByteRange{1000, 1999}).length(), 1000U);
  EXPECT_EQ((ByteRange{7, 7}).length(), 1U);
}

TEST(ByteRange, FormatsRfc9110ContentRangeExamples) {
  EXPECT_EQ(content_range({42, 1233}, 1234), "bytes 42-1233/1234");
  EXPECT_EQ(unsatisfied_content_range(1234), "bytes */1234");
}

}  // namespace byte_range_test
}  // namespace chorus::rest
