#include "mixer/video/video_codec.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace chorus::mixer {
namespace {

// avdec_h264 (libav) decodes every profile a SIP endpoint sends; x264enc encodes constrained
// baseline with zero latency (video_compositor.cpp sets it up).
constexpr std::array<VideoCodecInfo, 2> kCodecs{{
    {VideoCodec::kVp8, "VP8", "rtpvp8depay", "vp8dec", "vp8enc", "rtpvp8pay"},
    {VideoCodec::kH264, "H264", "rtph264depay", "avdec_h264", "x264enc", "rtph264pay"},
}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

const VideoCodecInfo& codec_info(VideoCodec codec) {
  return kCodecs[static_cast<std::size_t>(codec)];
}

std::optional<VideoCodec> video_codec_from_name(std::string_view encoding_name) {
  for (const auto& info : kCodecs)
    if (equal_ignoring_case(info.encoding_name, encoding_name)) return info.codec;
  return std::nullopt;
}

std::string_view to_string(VideoCodec codec) {
  return codec_info(codec).encoding_name;
}

}  // namespace chorus::mixer
