// receiver_max_size: how big a picture the video MCU sends a receiver, from what its offer says it
// decodes (RFC 6184 §8.1 profile-level-id and max-fs, RFC 7741 §6.1 max-fs; H.264 Table A-1).
#include "conference/engines/video_mcu_engine.hpp"

#include <gtest/gtest.h>

namespace chorus::conference {
namespace {

sdp::VideoFormat format(std::string name, std::string offered_fmtp) {
  sdp::VideoFormat f;
  f.codec = sdp::Codec{std::move(name), 90000, 1};
  f.payload_type = 96;
  f.offered_fmtp = std::move(offered_fmtp);
  return f;
}

TEST(VideoMcuReceiverSize, Vp8WithoutMaxFsTakesAnySize) {
  EXPECT_EQ(receiver_max_size(format("VP8", "")), (std::pair{0, 0}));
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fr=30")), (std::pair{0, 0}));
}

TEST(VideoMcuReceiverSize, MaxFsGivesTheWidest16By9PictureOfWholeMacroblocks) {
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fs=3600")), (std::pair{1280, 720}));
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fs=396")), (std::pair{416, 224}));  // CIF's budget
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fs=1620")), (std::pair{848, 464}));
  const auto [width, height] = receiver_max_size(format("VP8", "max-fs=8160"));
  EXPECT_LE((width / 16) * (height / 16), 8160);
  EXPECT_EQ(width % 16, 0);
}

TEST(VideoMcuReceiverSize, H264TakesItsLevelsLimitAndTheTighterMaxFs) {
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e01f;packetization-mode=1")),
            (std::pair{1280, 720}));  // level 3.1: MaxFS 3600
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e00d;packetization-mode=1")),
            (std::pair{416, 224}));  // level 1.3: MaxFS 396
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e01f;packetization-mode=1;max-fs=396")),
            (std::pair{416, 224}));
  // RFC 6184 §8.1: no profile-level-id means Baseline level 1 (MaxFS 99).
  EXPECT_EQ(receiver_max_size(format("H264", "packetization-mode=1")), (std::pair{208, 112}));
}

TEST(VideoMcuReceiverSize, MalformedParametersLimitNothing) {
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fs=lots")), (std::pair{0, 0}));
  EXPECT_EQ(receiver_max_size(format("VP8", "=;;=")), (std::pair{0, 0}));
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=zz;packetization-mode=1")), (std::pair{0, 0}));
}

}  // namespace
}  // namespace chorus::conference
