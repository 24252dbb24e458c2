// VideoCodec: the video codecs the video MCU decodes and encodes, and the stock GStreamer elements
// for each (DESIGN §5: compose stock elements). RTP video always runs on a 90 kHz clock (RFC 7741
// §6.1 for VP8, RFC 6184 §8.1 for H.264).
// Threading: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chorus::mixer {

enum class VideoCodec { kVp8, kH264 };

inline constexpr std::uint32_t kVideoRtpClockRate = 90'000;

struct VideoCodecInfo {
  VideoCodec codec;
  std::string_view encoding_name;  // as in a=rtpmap and the RTP caps (RFC 4855 §3: case-insensitive)
  const char* depayloader;
  const char* decoder;
  const char* encoder;
  const char* payloader;
};

[[nodiscard]] const VideoCodecInfo& codec_info(VideoCodec codec);
// From an SDP encoding name ("VP8", "H264"); nullopt for codecs the video MCU does not carry.
[[nodiscard]] std::optional<VideoCodec> video_codec_from_name(std::string_view encoding_name);
[[nodiscard]] std::string_view to_string(VideoCodec codec);

}  // namespace chorus::mixer
