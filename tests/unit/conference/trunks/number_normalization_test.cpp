#include "conference/trunks/number_normalization.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::conference {
namespace number_normalization_test {

TrunkNumbering germany() {
  return TrunkNumbering{.country_code = "49", .national_prefix = "0", .international_prefix = "00"};
}

std::string normalized(std::string_view input, const TrunkNumbering& numbering = germany()) {
  auto number = normalize_number(input, numbering);
  return number ? *number : "error: " + std::string(to_string(number.error()));
}

TEST(NormalizeNumber, PlusFormIsKeptWithoutSeparators) {
  EXPECT_EQ(normalized("+4930123456"), "+4930123456");
  EXPECT_EQ(normalized("+49 (30) 123-456"), "+4930123456");
  EXPECT_EQ(normalized("+1.212.555.0100"), "+12125550100");
}

TEST(NormalizeNumber, InternationalPrefixBecomesPlus) {
  EXPECT_EQ(normalized("004930123456"), "+4930123456");
  EXPECT_EQ(normalized("0033 1 23 45 67 89"), "+33123456789");
  // North America's exit code on a US trunk.
  EXPECT_EQ(normalized("011442071234567", {.country_code = "1", .national_prefix = "1", .international_prefix = "011"}),
            "+442071234567");
}

TEST(NormalizeNumber, NationalPrefixTakesTheCountryCode) {
  EXPECT_EQ(normalized("030123456"), "+4930123456");
  EXPECT_EQ(normalized("030 / 123456").starts_with("error"), true);  // '/' is no separator here
  EXPECT_EQ(normalized("0 30 12 34 56"), "+4930123456");
}

TEST(NormalizeNumber, NationalNumberWithoutCountryCodeIsAnError) {
  EXPECT_EQ(
      normalize_number("030123456", {.country_code = "", .national_prefix = "0", .international_prefix = "00"}).error(),
      NumberError::kNoCountryCode);
}

TEST(NormalizeNumber, ShortCodesAndExtensionsStayDigits) {
  EXPECT_EQ(normalized("112"), "112");
  EXPECT_EQ(normalized("1000"), "1000");
  EXPECT_EQ(normalized("9196"), "9196");
  // A bare national prefix is a short code, not an empty national number.
  EXPECT_EQ(normalized("0"), "0");
}

TEST(NormalizeNumber, NoPrefixesConfigured) {
  const TrunkNumbering none{.country_code = "44", .national_prefix = "", .international_prefix = ""};
  EXPECT_EQ(normalized("02071234567", none), "02071234567");
  EXPECT_EQ(normalized("+442071234567", none), "+442071234567");
}

TEST(NormalizeNumber, JunkIsRefused) {
  EXPECT_EQ(normalize_number("", germany()).error(), NumberError::kEmpty);
  EXPECT_EQ(normalize_number("+", germany()).error(), NumberError::kEmpty);
  EXPECT_EQ(normalize_number(" - ", germany()).error(), NumberError::kEmpty);
  EXPECT_EQ(normalize_number("00", germany()).error(), NumberError::kEmpty);
  EXPECT_EQ(normalize_number("alice", germany()).error(), NumberError::kInvalidCharacter);
  EXPECT_EQ(normalize_number("12a4", germany()).error(), NumberError::kInvalidCharacter);
  EXPECT_EQ(normalize_number("++49", germany()).error(), NumberError::kInvalidCharacter);
  EXPECT_EQ(normalize_number("*21#", germany()).error(), NumberError::kInvalidCharacter);
  EXPECT_EQ(normalize_number("49%00", germany()).error(), NumberError::kInvalidCharacter);
}

TEST(NormalizeNumber, LengthIsBounded) {
  EXPECT_EQ(normalized("+123456789012345"), "+123456789012345");  // 15 digits: E.164's most
  EXPECT_EQ(normalize_number("+1234567890123456", germany()).error(), NumberError::kTooLong);
  EXPECT_EQ(normalize_number("001234567890123456", germany()).error(), NumberError::kTooLong);
  EXPECT_EQ(normalize_number(std::string(65, '1'), germany()).error(), NumberError::kTooLong);
  EXPECT_EQ(normalize_number("1234567890123456", germany()).error(), NumberError::kTooLong);
}

TEST(LooksLikeNumber, TellsNumbersFromNames) {
  EXPECT_TRUE(looks_like_number("+4930123456"));
  EXPECT_TRUE(looks_like_number("030 123456"));
  EXPECT_TRUE(looks_like_number("1000"));
  EXPECT_FALSE(looks_like_number("chorus"));
  EXPECT_FALSE(looks_like_number(""));
  EXPECT_FALSE(looks_like_number(" 123"));
  EXPECT_FALSE(looks_like_number("12ab"));
}

}  // namespace number_normalization_test
}  // namespace chorus::conference
