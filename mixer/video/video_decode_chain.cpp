#include "mixer/video/video_decode_chain.hpp"

#include "mixer/audio/gst_elements.hpp"

namespace chorus::mixer {

VideoDecodeChain make_video_decode_chain(VideoCodec codec, const std::string& name_prefix) {
  const auto& info = codec_info(codec);
  VideoDecodeChain chain;
  chain.depayloader = make_element(info.depayloader, name_prefix + "-depay");
  g_object_set(chain.depayloader, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
  try {
    chain.decoder = make_element(info.decoder, name_prefix + "-dec");
  } catch (...) {
    gst_object_unref(gst_object_ref_sink(chain.depayloader));
    throw;
  }
  g_object_set(chain.decoder, "max-errors", -1, nullptr);
  return chain;
}

}  // namespace chorus::mixer
