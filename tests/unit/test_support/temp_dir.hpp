// A fresh directory under the system temp dir (mkdtemp), removed with everything in it when the
// test ends. Throws when none can be made: a test without its directory cannot run.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace chorus::test {

class TempDir {
 public:
  TempDir() {
    // mkdtemp replaces the six X's of the template with a unique suffix.
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` inside the directory; returns its path.
  [[nodiscard]] std::string file(const std::string& name, const std::string& content) const {
    const auto path = path_ / name;
    std::ofstream(path) << content;
    return path.string();
  }
  // A path inside the directory where nothing exists.
  [[nodiscard]] std::string missing(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace chorus::test
