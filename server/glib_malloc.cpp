#include "server/glib_malloc.hpp"

#include <unistd.h>

#include <cstdlib>

namespace chorus::server {

void reexec_with_glib_slices_off(char** argv) {
  if (std::getenv("G_SLICE") != nullptr) return;
  if (::setenv("G_SLICE", "always-malloc", 0) != 0) return;
  ::execv("/proc/self/exe", argv);  // only returns on failure; G_SLICE set then does no harm
}

}  // namespace chorus::server
