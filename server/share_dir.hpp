// Where chorusd's read-only files are (DESIGN §7 "one binary with its share files found relative
// to itself"): the IVR prompts and the web page (with JsSIP). Installed, they are
// <prefix>/share/chorus/{prompts,web} (packaging/packaging.cmake); chorusd looks, in order:
//   1. the `share_dir` setting (--share-dir DIR), when given;
//   2. <directory of /proc/self/exe>/../share/chorus, when that folder exists: the install tree,
//      wherever it was installed or extracted (`cmake --install --prefix P`, the .deb, dpkg -x);
//   3. the build tree the binary was built in (<build>/prompts and the source tree's web/, baked in
//      at compile time), so `make run` and the tests work without installing anything.
// Step 3 is reached only when 1 and 2 found nothing, so an installed binary never reads the
// build tree, even if it is still there; a binary with neither fails with an error naming every
// place it looked. The `prompts_dir` setting still overrides the prompts alone.
//
// Threading: plain functions; called once by ChorusServer::start() before any loop runs.
#pragma once

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::server {

// How the share files were found (logged at start, so an operator sees which copy is served).
enum class ShareOrigin { kSetting, kExecutable, kBuildTree };

std::string_view share_origin_name(ShareOrigin origin);  // "share_dir setting", "next to the executable", "build tree"

struct ShareLocations {
  std::filesystem::path prompts_dir;  // IVR prompt recordings
  std::filesystem::path web_root;     // the page's files, and node_modules/jssip/dist/jssip.min.js
  ShareOrigin origin = ShareOrigin::kBuildTree;
  std::filesystem::path share_dir;  // the folder that held both; empty for the build tree
};

// The build tree's own folders (step 3).
struct BuildTreeLocations {
  std::filesystem::path prompts_dir;
  std::filesystem::path web_root;
};

// <share>/prompts and <share>/web.
[[nodiscard]] ShareLocations share_locations_in(const std::filesystem::path& share_dir, ShareOrigin origin);

// The rules above. `share_dir_setting` is Config::share_dir (empty: not given); `executable` is
// the running binary's path (empty when unknown: step 2 is skipped); `build_tree` is step 3
// (std::nullopt: none).
[[nodiscard]] std::expected<ShareLocations, std::string> locate_share_files(
    const std::string& share_dir_setting, const std::filesystem::path& executable,
    const std::optional<BuildTreeLocations>& build_tree);

// /proc/self/exe resolved (Linux proc(5)); empty when it cannot be read.
[[nodiscard]] std::filesystem::path running_executable();

// The folders this binary was built with (CHORUS_PROMPTS_DIR, CHORUS_WEB_ROOT).
[[nodiscard]] BuildTreeLocations build_tree_locations();

}  // namespace chorus::server
