#include "server/share_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/config_settings.hpp"

namespace chorus::server {
namespace share_dir_test {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A fake install tree and build tree under the system temp directory, removed at the end.
class ShareDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device seed;
    root_ =
        fs::temp_directory_path() / ("chorus-share-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
    fs::create_directories(root_ / "prefix" / "bin");
    fs::create_directories(root_ / "build" / "prompts");
    fs::create_directories(root_ / "src" / "web");
    build_tree_ = BuildTreeLocations{.prompts_dir = root_ / "build" / "prompts", .web_root = root_ / "src" / "web"};
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path installed_binary() const { return root_ / "prefix" / "bin" / "chorusd"; }
  void install_share() { fs::create_directories(root_ / "prefix" / "share" / "chorus" / "prompts"); }

  fs::path root_;
  BuildTreeLocations build_tree_;
};

TEST_F(ShareDirTest, InstalledBinaryUsesTheShareDirBesideItEvenWithTheBuildTreePresent) {
  install_share();
  auto found = locate_share_files("", installed_binary(), build_tree_);
  ASSERT_TRUE(found.has_value()) << found.error();
  EXPECT_EQ(found->origin, ShareOrigin::kExecutable);
  // Normalised: the log shows <prefix>/share/chorus, not <prefix>/bin/../share/chorus.
  EXPECT_EQ(found->share_dir, root_ / "prefix" / "share" / "chorus");
  EXPECT_EQ(found->prompts_dir, root_ / "prefix" / "share" / "chorus" / "prompts");
  EXPECT_EQ(found->web_root, root_ / "prefix" / "share" / "chorus" / "web");
}

TEST_F(ShareDirTest, SettingWinsOverTheInstallTree) {
  install_share();
  fs::create_directories(root_ / "elsewhere");
  auto found = locate_share_files((root_ / "elsewhere").string(), installed_binary(), build_tree_);
  ASSERT_TRUE(found.has_value()) << found.error();
  EXPECT_EQ(found->origin, ShareOrigin::kSetting);
  EXPECT_EQ(found->prompts_dir, root_ / "elsewhere" / "prompts");
  EXPECT_EQ(found->web_root, root_ / "elsewhere" / "web");
}

TEST_F(ShareDirTest, BinaryInItsBuildTreeFallsBackToTheBuildTree) {
  auto found = locate_share_files("", root_ / "build" / "bin" / "chorusd", build_tree_);
  ASSERT_TRUE(found.has_value()) << found.error();
  EXPECT_EQ(found->origin, ShareOrigin::kBuildTree);
  EXPECT_EQ(found->prompts_dir, build_tree_.prompts_dir);
  EXPECT_EQ(found->web_root, build_tree_.web_root);
  EXPECT_TRUE(found->share_dir.empty());
}

TEST_F(ShareDirTest, NoShareDirAndNoBuildTreeIsAnErrorNamingWhereItLooked) {
  fs::remove_all(root_ / "build");
  auto found = locate_share_files("", installed_binary(), build_tree_);
  ASSERT_FALSE(found.has_value());
  EXPECT_THAT(found.error(), HasSubstr((root_ / "prefix" / "share" / "chorus").string()));
  EXPECT_THAT(found.error(), HasSubstr(build_tree_.prompts_dir.string()));
  EXPECT_THAT(found.error(), HasSubstr("--share-dir"));
  EXPECT_FALSE(locate_share_files("", installed_binary(), std::nullopt).has_value());
}

TEST_F(ShareDirTest, ASettingThatVanishedIsAnError) {
  auto found = locate_share_files((root_ / "gone").string(), installed_binary(), build_tree_);
  ASSERT_FALSE(found.has_value());
  EXPECT_THAT(found.error(), HasSubstr("gone"));
}

TEST_F(ShareDirTest, ShareDirSettingMustBeAnExistingFolder) {
  const SettingSpec* spec = find_setting("share_dir");
  ASSERT_NE(spec, nullptr);
  Config config;
  EXPECT_FALSE(spec->apply(config, (root_ / "missing").string()).has_value());
  ASSERT_TRUE(spec->apply(config, root_.string()).has_value());
  EXPECT_EQ(config.share_dir, root_.string());
  ASSERT_TRUE(spec->apply(config, "").has_value());  // empty: look next to the executable
  EXPECT_TRUE(config.share_dir.empty());
}

TEST(ShareDir, RunningExecutableIsThisTestBinary) {
  const fs::path self = running_executable();
  ASSERT_FALSE(self.empty());
  EXPECT_TRUE(fs::is_regular_file(self));
  EXPECT_EQ(self.filename(), "unit_server");
}

// The example the package installs into share/doc/chorus loads as it is: an operator who copies it
// to /etc/chorus/chorus.yaml gets a server that starts.
TEST(ShareDir, PackagedExampleConfigLoads) {
  const std::string example = std::string(CHORUS_SOURCE_DIR) + "/packaging/chorus.example.yaml";
  ASSERT_TRUE(fs::is_regular_file(example)) << example;
  std::vector<const char*> argv{"chorusd", "--config", example.c_str()};
  auto loaded = load_config(argv, {});
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(loaded->config_file, example);
  EXPECT_EQ(loaded->sources.at("sip_port"), Source::kFile);
  EXPECT_EQ(loaded->sources.at("audio_codecs"), Source::kFile);
  EXPECT_EQ(loaded->config.http_port, 8080);
  EXPECT_EQ(loaded->config.audio_codecs.size(), 4u);
}

}  // namespace share_dir_test
}  // namespace chorus::server
