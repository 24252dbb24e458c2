// ascii_lowercase: protocol tokens fold A-Z only, whatever the C locale says (RFC 3261 §7.3.1).
#include "common/ascii.hpp"

#include <gtest/gtest.h>

namespace chorus {
namespace ascii_test {

TEST(AsciiLowercase, FoldsOnlyTheAsciiCapitals) {
  EXPECT_EQ(ascii_lowercase("MaX-fOrWaRdS"), "max-forwards");
  EXPECT_EQ(ascii_lowercase("SIP:Alice@EXAMPLE.com;Transport=TCP"), "sip:alice@example.com;transport=tcp");
  EXPECT_EQ(ascii_lowercase(""), "");
  // Bytes of UTF-8 (here "Ä" and "É", 0xC3 0x84 and 0xC3 0x89) and everything outside A-Z stay as they were.
  EXPECT_EQ(ascii_lowercase("\xC3\x84Z@[\\]^_`{\xC3\x89"), "\xC3\x84z@[\\]^_`{\xC3\x89");
}

}  // namespace ascii_test
}  // namespace chorus
