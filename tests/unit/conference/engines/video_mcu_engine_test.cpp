// receiver_max_size: how big a picture the video MCU sends a receiver, from what its offer says it
// decodes (RFC 6184 §8.1 profile-level-id and max-fs, RFC 7741 §6.1 max-fs; H.264 Table A-1).
#include "conference/engines/video_mcu_engine.hpp"

#include <gtest/gtest.h>

namespace chorus::conference {
namespace video_mcu_engine_test {

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

TEST(VideoMcuReceiverSize, H264TakesItsLevelsLimitsRaisedByMaxFsAndMaxMbps) {
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e01f;packetization-mode=1")),
            (std::pair{1280, 720}));  // level 3.1: MaxFS 3600, MaxMBPS 108000 = 3600 at 30 fps
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e00d;packetization-mode=1")),
            (std::pair{416, 224}));  // level 1.3: MaxFS 396, MaxMBPS 11880 = 396 at 30 fps
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e00c;packetization-mode=1")),
            (std::pair{288, 160}));  // level 1.2: MaxFS 396, but MaxMBPS 6000 is 200 a frame at 30 fps
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e00c;packetization-mode=1"), 15),
            (std::pair{416, 224}));  // at 15 fps the level's frame limit is what binds
  // RFC 6184 §8.1: max-fs and max-mbps only raise the level's limits; a room system of level 1.3
  // that offers both for 720p30 gets 720p, and a max-fs under the level's is not taken.
  EXPECT_EQ(
      receiver_max_size(format("H264", "profile-level-id=42e00d;packetization-mode=1;max-fs=3600;max-mbps=108000")),
      (std::pair{1280, 720}));
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e01f;packetization-mode=1;max-fs=396")),
            (std::pair{1280, 720}));
  // Level 3: MaxFS 1620 but MaxMBPS 40500, 1350 a frame at 30 fps.
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=42e01e;packetization-mode=1")), (std::pair{768, 432}));
  // RFC 6184 §8.1: no profile-level-id means Baseline level 1 (MaxFS 99, MaxMBPS 1485: 49 at 30 fps).
  EXPECT_EQ(receiver_max_size(format("H264", "packetization-mode=1")), (std::pair{144, 80}));
}

TEST(VideoMcuReceiverSize, MalformedParametersLimitNothing) {
  EXPECT_EQ(receiver_max_size(format("VP8", "max-fs=lots")), (std::pair{0, 0}));
  EXPECT_EQ(receiver_max_size(format("VP8", "=;;=")), (std::pair{0, 0}));
  EXPECT_EQ(receiver_max_size(format("H264", "profile-level-id=zz;packetization-mode=1")), (std::pair{0, 0}));
}

}  // namespace video_mcu_engine_test
}  // namespace chorus::conference
