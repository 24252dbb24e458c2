#include "server/share_dir.hpp"

#include <system_error>

#include "mixer/prompt_library.hpp"

namespace chorus::server {

namespace {

bool is_existing_dir(const std::filesystem::path& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

}  // namespace

std::string_view share_origin_name(ShareOrigin origin) {
  switch (origin) {
    case ShareOrigin::kSetting:
      return "share_dir setting";
    case ShareOrigin::kExecutable:
      return "next to the executable";
    case ShareOrigin::kBuildTree:
      return "build tree";
  }
  return "build tree";
}

ShareLocations share_locations_in(const std::filesystem::path& share_dir, ShareOrigin origin) {
  return {
      .prompts_dir = share_dir / "prompts", .web_root = share_dir / "web", .origin = origin, .share_dir = share_dir};
}

std::expected<ShareLocations, std::string> locate_share_files(const std::string& share_dir_setting,
                                                              const std::filesystem::path& executable,
                                                              const std::optional<BuildTreeLocations>& build_tree) {
  if (!share_dir_setting.empty()) {
    // load_config checked that it exists; it may have gone since (a SIGHUP reload keeps the old one).
    if (!is_existing_dir(share_dir_setting))
      return std::unexpected("share_dir " + share_dir_setting + " is not a directory");
    return share_locations_in(share_dir_setting, ShareOrigin::kSetting);
  }
  std::string looked;
  if (!executable.empty()) {
    // lexically_normal: the log shows /usr/share/chorus, not /usr/bin/../share/chorus.
    const auto beside = (executable.parent_path() / ".." / "share" / "chorus").lexically_normal();
    if (is_existing_dir(beside)) return share_locations_in(beside, ShareOrigin::kExecutable);
    looked = beside.string();
  } else {
    looked = "(the executable's own path could not be read)";
  }
  if (build_tree && is_existing_dir(build_tree->prompts_dir) && is_existing_dir(build_tree->web_root))
    return ShareLocations{.prompts_dir = build_tree->prompts_dir,
                          .web_root = build_tree->web_root,
                          .origin = ShareOrigin::kBuildTree,
                          .share_dir = {}};
  std::string message = "no share dir (prompts and web page): --share-dir not given, " + looked + " does not exist";
  if (build_tree)
    message += ", and the build tree's " + build_tree->prompts_dir.string() + " and " + build_tree->web_root.string() +
               " are not both there";
  return std::unexpected(message + " (install with `cmake --install` or the .deb, or give --share-dir DIR)");
}

std::filesystem::path running_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : path;
}

BuildTreeLocations build_tree_locations() {
#ifdef CHORUS_WEB_ROOT
  const std::filesystem::path web = CHORUS_WEB_ROOT;
#else
  const std::filesystem::path web;  // built outside CMake: no build tree to fall back on
#endif
  return {.prompts_dir = mixer::default_prompts_dir(), .web_root = web};
}

}  // namespace chorus::server
