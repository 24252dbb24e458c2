// a=fmtp parameter lists, rtx apt= (RFC 4588 §8.1) and H.264 profile-level-id (RFC 6184 §8.1).
#include "signaling/sdp/format_parameters.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace chorus::sdp {
namespace format_parameters_test {

std::vector<std::string> names_and_values(std::string_view text) {
  std::vector<std::string> out;
  auto parameters = parse_format_parameters(text);
  if (!parameters) {
    ADD_FAILURE() << parameters.error();
    return out;
  }
  for (const auto& p : *parameters) out.push_back(std::string(p.name) + "=" + std::string(p.value));
  return out;
}

TEST(FormatParameters, ReadsBrowserAndRoomSystemLists) {
  EXPECT_EQ(names_and_values("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            (std::vector<std::string>{"level-asymmetry-allowed=1", "packetization-mode=1", "profile-level-id=42e01f"}));
  EXPECT_EQ(names_and_values("profile-level-id=428020; max-mbps=245000; max-fs=8192"),
            (std::vector<std::string>{"profile-level-id=428020", "max-mbps=245000", "max-fs=8192"}));
  EXPECT_EQ(names_and_values("CIF4=1;CIF=1;"), (std::vector<std::string>{"CIF4=1", "CIF=1"}));
  EXPECT_EQ(names_and_values("annexb"), std::vector<std::string>{"annexb="});
  EXPECT_TRUE(names_and_values("").empty());
}

TEST(FormatParameters, FindsNamesCaseInsensitively) {
  auto parameters = parse_format_parameters("Packetization-Mode=1;apt=96");
  ASSERT_TRUE(parameters);
  EXPECT_EQ(format_parameter(*parameters, "packetization-mode"), "1");
  EXPECT_FALSE(format_parameter(*parameters, "profile-level-id"));
}

TEST(FormatParameters, RefusesMalformedLists) {
  EXPECT_EQ(parse_format_parameters("a=1;;b=2").error(), "fmtp has an empty parameter");
  EXPECT_EQ(parse_format_parameters("=1").error(), "fmtp parameter name is not a token");
  EXPECT_EQ(parse_format_parameters("a b=1").error(), "fmtp parameter name is not a token");
  std::string many;
  for (std::size_t i = 0; i <= kMaxFormatParameters; ++i) many.append("p").append(std::to_string(i)).append("=1;");
  EXPECT_EQ(parse_format_parameters(many).error(), "fmtp has too many parameters");
}

TEST(RtxApt, ReadsTheAssociatedPayloadType) {
  EXPECT_EQ(rtx_associated_payload_type("apt=96"), 96);
  EXPECT_EQ(rtx_associated_payload_type("apt=100;rtx-time=3000"), 100);
  EXPECT_FALSE(rtx_associated_payload_type("rtx-time=3000"));
  EXPECT_FALSE(rtx_associated_payload_type("apt=128"));
  EXPECT_FALSE(rtx_associated_payload_type("apt=x"));
  EXPECT_FALSE(rtx_associated_payload_type(";;"));
}

struct ProfileCase {
  std::string_view text;
  H264Profile profile;
};

class H264ProfileOf : public ::testing::TestWithParam<ProfileCase> {};

TEST_P(H264ProfileOf, FollowsRfc6184Table5) {
  auto id = parse_h264_profile_level_id(GetParam().text);
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(h264_profile(*id), GetParam().profile);
}

INSTANTIATE_TEST_SUITE_P(
    Table5, H264ProfileOf,
    ::testing::Values(ProfileCase{"42e01f", H264Profile::kConstrainedBaseline},  // browsers
                      ProfileCase{"42c01f", H264Profile::kConstrainedBaseline},
                      ProfileCase{"42f00b", H264Profile::kConstrainedBaseline},  // level 1b
                      ProfileCase{"4de01f", H264Profile::kConstrainedBaseline},
                      ProfileCase{"58f01f", H264Profile::kConstrainedBaseline},
                      ProfileCase{"42001f", H264Profile::kBaseline},  // Chrome's "Baseline"
                      ProfileCase{"428020", H264Profile::kBaseline},  // room systems: constraint_set0
                      ProfileCase{"42a01f", H264Profile::kBaseline}, ProfileCase{"58a01f", H264Profile::kBaseline},
                      ProfileCase{"4d001f", H264Profile::kMain}, ProfileCase{"4d401f", H264Profile::kMain},
                      ProfileCase{"58001f", H264Profile::kExtended}, ProfileCase{"64001f", H264Profile::kHigh},
                      ProfileCase{"640c1f", H264Profile::kOther},  // constrained High
                      ProfileCase{"f4001f", H264Profile::kOther},
                      ProfileCase{"42e81f", H264Profile::kOther}));  // constraint_set4 set

TEST(H264ProfileLevelId, ParsesEitherCaseAndWritesLowerCase) {
  auto id = parse_h264_profile_level_id("42C02A");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, (H264ProfileLevelId{0x42, 0xc0, 0x2a}));
  EXPECT_EQ(to_string(*id), "42c02a");
  EXPECT_EQ(parse_h264_profile_level_id("42e01").error(), "profile-level-id is not six hex digits");
  EXPECT_EQ(parse_h264_profile_level_id("42e01g").error(), "profile-level-id is not six hex digits");
  EXPECT_EQ(parse_h264_profile_level_id("42e01f0").error(), "profile-level-id is not six hex digits");
}

TEST(H264ProfileLevelId, OrdersLevelsWithLevel1bBetween1And11) {
  auto rank = [](std::string_view text) { return h264_level_rank(*parse_h264_profile_level_id(text)); };
  EXPECT_LT(rank("42e00a"), rank("42f00b"));  // 1 < 1b
  EXPECT_LT(rank("42f00b"), rank("42e00b"));  // 1b < 1.1
  EXPECT_EQ(rank("640009"), rank("42f00b"));  // High writes 1b as level_idc 9
  EXPECT_LT(rank("42e01f"), rank("42e020"));  // 3.1 < 3.2
  EXPECT_EQ(rank("42e01f"), 9);
  EXPECT_FALSE(rank("42e01b"));  // 27 is no level
  EXPECT_FALSE(rank("42e0ff"));
}

TEST(H264ProfileLevelId, ChangesLevelKeepingTheProfile) {
  const auto cb31 = *parse_h264_profile_level_id("42e01f");
  EXPECT_EQ(to_string(*with_h264_level_rank(*parse_h264_profile_level_id("428020"), *h264_level_rank(cb31))), "42801f");
  // Level 1b in each profile's form, and back out of it (constraint_set3 cleared).
  EXPECT_EQ(to_string(*with_h264_level_rank(cb31, 1)), "42f00b");
  EXPECT_EQ(to_string(*with_h264_level_rank(*parse_h264_profile_level_id("64001f"), 1)), "640009");
  EXPECT_EQ(to_string(*with_h264_level_rank(*parse_h264_profile_level_id("42f00b"), 9)), "42e01f");
  EXPECT_FALSE(with_h264_level_rank(cb31, 20));
  EXPECT_FALSE(with_h264_level_rank(cb31, -1));
}

}  // namespace format_parameters_test
}  // namespace chorus::sdp
