// The largest picture the video MCU decodes from a sender (issue 11, "a 4K sender"): 1080p. A
// composite tile is at most the 1280×720 canvas, so more pixels only cost decode time; a stream
// beyond it is not decoded (its tile keeps its placeholder) and the MCU counts the packets.
// Checked from what the payload says without decoding: a VP8 key frame's header (RFC 6386 §9.1),
// an H.264 SPS (H.264 §7.3.2.1.1). 1088: 1080 coded as whole 16-pixel macroblocks.
#pragma once

#include <cstdint>

namespace chorus::sfu {

inline constexpr std::uint32_t kMaxCameraWidth = 1920;
inline constexpr std::uint32_t kMaxCameraHeight = 1088;

}  // namespace chorus::sfu
