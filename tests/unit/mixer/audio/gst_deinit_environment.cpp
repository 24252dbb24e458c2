// Shuts GStreamer down after the last mixer test, so a run under the leaks tracer
// (GST_TRACERS=leaks, see tests/CMakeLists.txt: mixer_gst_leaks) reports every GStreamer object the
// engine left alive: the tracer lists them when gst_deinit() runs.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "mixer/gst/chain_thread.hpp"

namespace gst_deinit_environment {

class GstDeinitEnvironment final : public ::testing::Environment {
 public:
  void TearDown() override {
    // Rooms tear their chains down on the chain thread: wait for it before GStreamer goes.
    chorus::mixer::gst::ChainThread::shared().wait_idle();
    if (gst_is_initialized()) gst_deinit();
  }
};

[[maybe_unused]] const auto* const kRegistered = ::testing::AddGlobalTestEnvironment(new GstDeinitEnvironment);

}  // namespace gst_deinit_environment
