// The depayloader and decoder of one video source, configured the way the video MCU runs them:
// the depayloader waits for a key frame after loss and asks for one upstream (a GstForceKeyUnit
// event, which VideoCompositor turns into a PLI to the sender), and the decoder never gives up on
// corrupt input (max-errors -1: a bad frame is skipped, with a warning on the bus). Shared by the
// compositor's source branches and the decode fuzz target (fuzz/video_decode_fuzz.cpp), so what is
// fuzzed is what runs.
// Threading: any thread; the elements belong to whoever adds them to a bin.
#pragma once

#include <gst/gst.h>

#include <string>

#include "mixer/video/video_codec.hpp"

namespace chorus::mixer {

struct VideoDecodeChain {
  GstElement* depayloader = nullptr;  // floating until added to a bin
  GstElement* decoder = nullptr;
};

// std::runtime_error naming the plugin when one is missing.
VideoDecodeChain make_video_decode_chain(VideoCodec codec, const std::string& name_prefix);

}  // namespace chorus::mixer
