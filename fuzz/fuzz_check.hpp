// check() for the stateful fuzz targets: a broken invariant aborts (libFuzzer keeps the input) and
// names its file and line first, so an artifact says which check failed.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <source_location>

namespace chorus::fuzz {

inline void check(bool condition, std::source_location where = std::source_location::current()) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed at %s:%u\n", where.file_name(), static_cast<unsigned>(where.line()));
  std::abort();
}

}  // namespace chorus::fuzz
