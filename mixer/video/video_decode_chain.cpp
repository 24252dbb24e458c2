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
  // A frame it cannot decode (corrupt, truncated, its reference lost) makes the decoder drop input
  // until the next key frame (the tile keeps its last good picture) and ask upstream for one,
  // instead of showing garbage until the sender's next periodic key frame. The request travels
  // up to the appsrc, where the compositor turns it into a PLI/FIR (rate-limited by the room).
  g_object_set(chain.decoder, "automatic-request-sync-points", TRUE, nullptr);
  return chain;
}

}  // namespace chorus::mixer
