#include "server/version.hpp"

#ifndef CHORUS_VERSION
#error "CHORUS_VERSION is defined for this file by packaging/packaging.cmake"
#endif

namespace chorus::server {

std::string_view version_text() {
  return CHORUS_VERSION;
}

}  // namespace chorus::server
