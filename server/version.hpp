// chorusd's version, for `chorusd --version` and the start-up log: the CMake project() version and,
// when the source was a git checkout at configure time, `git describe` (packaging/packaging.cmake
// defines it for version.cpp alone, so a new commit recompiles one file).
#pragma once

#include <string_view>

namespace chorus::server {

// "0.1.0" or "0.1.0 (3c93bca-dirty)".
[[nodiscard]] std::string_view version_text();

}  // namespace chorus::server
