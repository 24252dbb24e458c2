// Caller-controlled text in events and logs (issue 12): bounded in bytes, cut only between UTF-8
// characters, ill-formed sequences and control characters replaced, a cut marked with "…".
#include "conference/events/bounded_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::conference {
namespace bounded_text_test {

// RFC 3629 §3: é is C3 A9 (2 bytes), € is E2 82 AC (3), 😀 is F0 9F 98 80 (4).
constexpr std::string_view kEAcute = "\xC3\xA9";
constexpr std::string_view kEuro = "\xE2\x82\xAC";
constexpr std::string_view kGrin = "\xF0\x9F\x98\x80";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool valid_utf8(std::string_view text) {
  return bounded_text(text, text.size() + 3) == text;  // valid text within the bound comes back as is
}

TEST(BoundedText, ShortValidTextIsKeptAsIs) {
  EXPECT_EQ(bounded_text("Alice"), "Alice");
  EXPECT_EQ(bounded_text(""), "");
  const std::string mixed = "Ren" + std::string(kEAcute) + " " + std::string(kEuro) + std::string(kGrin);
  EXPECT_EQ(bounded_text(mixed), mixed);
  const std::string exactly(kMaxCallerTextBytes, 'a');
  EXPECT_EQ(bounded_text(exactly), exactly);  // at the bound: nothing cut, no ellipsis
}

TEST(BoundedText, LongTextIsCutToTheBoundAndMarked) {
  const std::string long_name(10'000, 'x');
  const std::string bounded = bounded_text(long_name);
  EXPECT_EQ(bounded.size(), kMaxCallerTextBytes);
  EXPECT_EQ(bounded, std::string(kMaxCallerTextBytes - 3, 'x') + std::string(kEllipsis));
  EXPECT_EQ(bounded_text(std::string(kMaxCallerTextBytes + 1, 'y')).size(), kMaxCallerTextBytes);
}

TEST(BoundedText, NeverCutsInsideACharacter) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += kGrin;  // 400 bytes of 4-byte characters
  for (std::size_t bound : {10U, 11U, 12U, 13U, 128U}) {
    const std::string bounded = bounded_text(text, bound);
    EXPECT_LE(bounded.size(), bound) << bound;
    EXPECT_TRUE(bounded.ends_with(kEllipsis)) << bound;
    EXPECT_TRUE(valid_utf8(bounded)) << bound;
    EXPECT_EQ((bounded.size() - kEllipsis.size()) % kGrin.size(), 0U) << bound;  // whole characters only
  }
}

TEST(BoundedText, IllFormedSequencesAndControlsAreReplaced) {
  const std::string r(kReplacement);
  EXPECT_EQ(bounded_text("a\xFF"
                         "b"),
            "a" + r + "b");                                                        // never valid in UTF-8
  EXPECT_EQ(bounded_text("\xC0\xAF"), r + r);                                      // overlong '/'
  EXPECT_EQ(bounded_text("\xED\xA0\x80"), r + r + r);                              // a UTF-16 surrogate
  EXPECT_EQ(bounded_text("\xF4\x90\x80\x80"), r + r + r + r);                      // above U+10FFFF
  EXPECT_EQ(bounded_text("\xE2\x82"), r + r);                                      // truncated sequence
  EXPECT_EQ(bounded_text("\x80"), r);                                              // stray continuation byte
  EXPECT_EQ(bounded_text("evil\r\nlevel=error"), "evil" + r + r + "level=error");  // no log-line injection
  EXPECT_EQ(bounded_text(std::string_view("a\0b", 3)), "a" + r + "b");
  EXPECT_EQ(bounded_text("\x7F"), r);
}

TEST(BoundedText, TinyBoundsStillGiveAMarkedResult) {
  EXPECT_EQ(bounded_text("abcdef", 0), kEllipsis);
  EXPECT_EQ(bounded_text("abcdef", 4), "a" + std::string(kEllipsis));
  EXPECT_EQ(bounded_text("abc", 3), "abc");
}

}  // namespace bounded_text_test
}  // namespace chorus::conference
