#include "mixer/gst/gst_runtime.hpp"

#include <gst/gst.h>

#include <mutex>

namespace chorus::mixer::gst {

void ensure_gst_initialized() {
  static std::once_flag once;
  // chorusd runs with G_SLICE=always-malloc (server/glib_malloc.hpp): too late to set it here.
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

}  // namespace chorus::mixer::gst
