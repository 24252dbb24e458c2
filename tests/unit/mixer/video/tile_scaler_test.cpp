// The tile scaler (chorustilescale): where a picture goes in its tile (fit_into), and the element in
// a real pipeline: appsrc (I420 frames made here) → chorustilescale → capsfilter (the tile) → appsink,
// read back pixel by pixel.
#include "mixer/video/tile_scaler.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numbers>
#include <string>

#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer {
namespace tile_scaler_test {

TEST(TileScalerFit, TheSameAspectRatioFillsTheTile) {
  const FitRect fit = fit_into(1280, 720, 1, 1, 320, 180);
  EXPECT_EQ(fit.x, 0);
  EXPECT_EQ(fit.y, 0);
  EXPECT_EQ(fit.width, 320);
  EXPECT_EQ(fit.height, 180);
}

TEST(TileScalerFit, AFourByThreePictureIsPillarboxedInAWideTile) {
  const FitRect fit = fit_into(640, 480, 1, 1, 320, 180);
  EXPECT_EQ(fit.width, 240);
  EXPECT_EQ(fit.height, 180);
  EXPECT_EQ(fit.x, 40);
  EXPECT_EQ(fit.y, 0);
}

TEST(TileScalerFit, APortraitPictureIsCentredAndEven) {
  const FitRect fit = fit_into(720, 1280, 1, 1, 426, 240);  // a 3x3 grid's tile of a 1280x720 canvas
  EXPECT_EQ(fit.height, 240);
  EXPECT_EQ(fit.width, 134);  // 135 rounded down to even: I420's chroma is half size
  EXPECT_EQ(fit.x % 2, 0);
  EXPECT_EQ(fit.x, 146);
}

TEST(TileScalerFit, PixelAspectRatioCountsAndALetterboxIsCentred) {
  // 720x576 with 64:45 pixels is 16:9 on screen: it fills a 16:9 tile...
  const FitRect wide = fit_into(720, 576, 64, 45, 320, 180);
  EXPECT_EQ(wide.width, 320);
  EXPECT_EQ(wide.height, 180);
  // ...and is letterboxed in a 4:3 one.
  const FitRect boxed = fit_into(720, 576, 64, 45, 320, 240);
  EXPECT_EQ(boxed.width, 320);
  EXPECT_EQ(boxed.height, 180);
  EXPECT_EQ(boxed.y, 30);
}

TEST(TileScalerFit, NonsenseInputFillsTheTileAndATinyTileStaysInside) {
  const FitRect none = fit_into(0, 0, 1, 1, 320, 180);
  EXPECT_EQ(none.width, 320);
  EXPECT_EQ(none.height, 180);
  const FitRect tiny = fit_into(4000, 10, 1, 1, 3, 3);  // a 4K-wide sliver into 3x3
  EXPECT_LE(tiny.x + tiny.width, 3);
  EXPECT_LE(tiny.y + tiny.height, 3);
  EXPECT_GE(tiny.width, 1);
  EXPECT_GE(tiny.height, 1);
}

struct Yuv {
  int y, u, v;
};
constexpr Yuv kRed{81, 90, 240};  // BT.601 limited range
constexpr Yuv kBlue{41, 240, 110};
constexpr Yuv kBlack{16, 128, 128};

GstCaps* i420_caps(int width, int height) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width, "height",
                             G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 30, 1, "pixel-aspect-ratio",
                             GST_TYPE_FRACTION, 1, 1, nullptr);
}

// An I420 frame whose left half is `left` and right half `right`.
GstBuffer* two_colour_frame(int width, int height, Yuv left, Yuv right) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, width, height);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE));
  for (int plane = 0; plane < 3; ++plane) {
    auto* data = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
    const int plane_width = GST_VIDEO_FRAME_COMP_WIDTH(&frame, plane);
    for (int row = 0; row < GST_VIDEO_FRAME_COMP_HEIGHT(&frame, plane); ++row)
      for (int column = 0; column < plane_width; ++column) {
        const Yuv& colour = column < plane_width / 2 ? left : right;
        data[(row * stride) + column] = static_cast<std::uint8_t>(plane == 0   ? colour.y
                                                                  : plane == 1 ? colour.u
                                                                               : colour.v);
      }
  }
  gst_video_frame_unmap(&frame);
  return buffer;
}

class ScalerPipeline {
 public:
  explicit ScalerPipeline(int tile_width, int tile_height) {
    gst::ensure_gst_initialized();
    pipeline_ = gst::gst_adopt_floating(gst_pipeline_new(nullptr));
    source_ = gst_element_factory_make("appsrc", nullptr);
    g_object_set(source_, "format", GST_FORMAT_TIME, nullptr);
    scaler_ = make_tile_scaler("scaler");
    filter_ = gst_element_factory_make("capsfilter", nullptr);
    set_tile(tile_width, tile_height);
    sink_ = gst_element_factory_make("appsink", nullptr);
    g_object_set(sink_, "sync", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(pipeline_.get()), source_, scaler_, filter_, sink_, nullptr);
    EXPECT_TRUE(gst_element_link_many(source_, scaler_, filter_, sink_, nullptr));
    EXPECT_NE(gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  }
  ~ScalerPipeline() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }
  ScalerPipeline(const ScalerPipeline&) = delete;
  ScalerPipeline& operator=(const ScalerPipeline&) = delete;

  void set_tile(int width, int height) {
    GstCaps* caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
                                        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    g_object_set(filter_, "caps", caps, nullptr);
    gst_caps_unref(caps);
  }

  // Pushes one frame of the given size (caps set for it) and returns what came out.
  gst::GstPtr<GstSample> scale(GstBuffer* frame, int width, int height) {
    GstCaps* caps = i420_caps(width, height);
    g_object_set(source_, "caps", caps, nullptr);
    gst_caps_unref(caps);
    GST_BUFFER_PTS(frame) = pts_;
    GST_BUFFER_DURATION(frame) = GST_SECOND / 30;
    pts_ += GST_SECOND / 30;
    EXPECT_EQ(gst_app_src_push_buffer(GST_APP_SRC(source_), frame), GST_FLOW_OK);
    return gst::gst_adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink_), 5 * GST_SECOND));
  }

  [[nodiscard]] bool passthrough() const { return gst_base_transform_is_passthrough(GST_BASE_TRANSFORM(scaler_)) != 0; }

 private:
  gst::GstPtr<GstElement> pipeline_;
  GstElement* source_ = nullptr;
  GstElement* scaler_ = nullptr;
  GstElement* filter_ = nullptr;
  GstElement* sink_ = nullptr;
  GstClockTime pts_ = 0;
};

struct Picture {
  int width = 0;
  int height = 0;
  std::vector<Yuv> pixels;  // row by row
  [[nodiscard]] Yuv at(int x, int y) const { return pixels.at((static_cast<std::size_t>(y) * width) + x); }
};

Picture read(GstSample* sample) {
  Picture picture;
  GstVideoInfo info;
  if (sample == nullptr || !gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) return picture;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) return picture;
  picture.width = GST_VIDEO_FRAME_WIDTH(&frame);
  picture.height = GST_VIDEO_FRAME_HEIGHT(&frame);
  const auto plane = [&](int index) {
    return static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, index));
  };
  const auto stride = [&](int index) { return GST_VIDEO_FRAME_PLANE_STRIDE(&frame, index); };
  for (int y = 0; y < picture.height; ++y)
    for (int x = 0; x < picture.width; ++x)
      picture.pixels.push_back(Yuv{plane(0)[(y * stride(0)) + x], plane(1)[(y / 2 * stride(1)) + (x / 2)],
                                   plane(2)[(y / 2 * stride(2)) + (x / 2)]});
  gst_video_frame_unmap(&frame);
  return picture;
}

void expect_colour(const Picture& picture, int x, int y, Yuv want, const char* what) {
  const Yuv got = picture.at(x, y);
  EXPECT_LT(std::abs(got.y - want.y) + std::abs(got.u - want.u) + std::abs(got.v - want.v), 12)
      << what << " at (" << x << ", " << y << "): Y " << got.y << " U " << got.u << " V " << got.v;
}

// `frame` (width × height) through the pipeline and read back; 0x0 when nothing came out.
Picture scale_and_read(ScalerPipeline& pipeline, GstBuffer* frame, int width, int height) {
  auto sample = pipeline.scale(frame, width, height);
  return sample ? read(sample.get()) : Picture{};
}

TEST(TileScalerElement, FitsAFourByThreePictureIntoItsTileBetweenBlackBars) {
  ScalerPipeline pipeline(320, 180);
  const Picture picture = scale_and_read(pipeline, two_colour_frame(640, 480, kRed, kBlue), 640, 480);
  ASSERT_EQ(picture.width, 320);
  ASSERT_EQ(picture.height, 180);
  expect_colour(picture, 10, 90, kBlack, "left bar");
  expect_colour(picture, 310, 90, kBlack, "right bar");
  expect_colour(picture, 100, 90, kRed, "left half");
  expect_colour(picture, 220, 90, kBlue, "right half");
}

TEST(TileScalerElement, ASenderThatChangesResolutionKeepsItsTileSize) {
  ScalerPipeline pipeline(320, 180);
  ASSERT_TRUE(pipeline.scale(two_colour_frame(640, 480, kRed, kBlue), 640, 480));
  auto sample = pipeline.scale(two_colour_frame(1280, 720, kBlue, kRed), 1280, 720);
  ASSERT_TRUE(sample);
  const Picture picture = read(sample.get());
  ASSERT_EQ(picture.width, 320);
  ASSERT_EQ(picture.height, 180);
  expect_colour(picture, 10, 90, kBlue, "16:9 now fills the tile");
  expect_colour(picture, 310, 90, kRed, "its right half");
}

TEST(TileScalerElement, ALayoutChangeResizesTheNextFrame) {
  ScalerPipeline pipeline(320, 180);
  ASSERT_TRUE(pipeline.scale(two_colour_frame(1280, 720, kRed, kBlue), 1280, 720));
  pipeline.set_tile(640, 360);
  auto sample = pipeline.scale(two_colour_frame(1280, 720, kRed, kBlue), 1280, 720);
  ASSERT_TRUE(sample);
  const Picture picture = read(sample.get());
  EXPECT_EQ(picture.width, 640);
  EXPECT_EQ(picture.height, 360);
  expect_colour(picture, 100, 180, kRed, "left half");
  expect_colour(picture, 540, 180, kBlue, "right half");
}

TEST(TileScalerElement, APictureAlreadyAtItsTileSizePassesUntouched) {
  ScalerPipeline pipeline(320, 180);
  auto sample = pipeline.scale(two_colour_frame(320, 180, kRed, kBlue), 320, 180);
  ASSERT_TRUE(sample);
  EXPECT_TRUE(pipeline.passthrough());  // the buffer goes on as it is: no copy, no scale
  const Picture picture = read(sample.get());
  expect_colour(picture, 0, 90, kRed, "the first column");
  expect_colour(picture, 319, 90, kBlue, "the last column");
  auto scaled = pipeline.scale(two_colour_frame(640, 360, kRed, kBlue), 640, 360);
  ASSERT_TRUE(scaled);
  EXPECT_FALSE(pipeline.passthrough());
}

// Vertical bars whose luma swings ±kGratingSwing around mid-grey, `cycles` per source pixel; chroma grey.
constexpr double kGratingSwing = 96.0;
GstBuffer* grating_frame(int width, int height, double cycles) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, width, height);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE));
  auto* luma = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
  for (int column = 0; column < width; ++column) {
    const double phase = 2.0 * std::numbers::pi * cycles * (column + 0.5);
    luma[column] = static_cast<std::uint8_t>(std::lround(128.0 + (kGratingSwing * std::cos(phase))));
  }
  for (int row = 1; row < height; ++row)
    std::copy_n(luma, width, luma + (static_cast<std::ptrdiff_t>(row) * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0)));
  for (int plane = 1; plane < 3; ++plane)
    for (int row = 0; row < GST_VIDEO_FRAME_COMP_HEIGHT(&frame, plane); ++row)
      std::fill_n(static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane)) +
                      (static_cast<std::ptrdiff_t>(row) * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane)),
                  GST_VIDEO_FRAME_COMP_WIDTH(&frame, plane), 128);
  gst_video_frame_unmap(&frame);
  return buffer;
}

// The amplitude of the luma's swing along the middle row, edges (the filter's margins) left out, as
// a share of the grating's: 1 is the bars kept whole, 0 a flat grey. From the row's RMS (√2·σ for a
// sinusoid), so neither where the samples fall on the bars nor the frequency an alias takes matters.
double luma_swing_share(const Picture& picture) {
  const int first = 8;
  const int count = picture.width - 16;
  double sum = 0.0;
  double squares = 0.0;
  for (int x = first; x < first + count; ++x) {
    const double luma = picture.at(x, picture.height / 2).y;
    sum += luma;
    squares += luma * luma;
  }
  const double mean = sum / count;
  const double variance = std::max(0.0, (squares / count) - (mean * mean));
  return std::sqrt(2.0 * variance) / kGratingSwing;
}

// Odd sizes take the halving path too (1279x719 into a 4x4 grid's tile): each plane is halved
// within its own bounds (the sanitizer run checks the reads), and the colours land where they belong.
TEST(TileScalerElement, AnOddSizedPictureIsHalvedWithinItsPlanes) {
  ScalerPipeline pipeline(320, 180);
  const Picture picture = scale_and_read(pipeline, two_colour_frame(1279, 719, kRed, kBlue), 1279, 719);
  ASSERT_EQ(picture.width, 320);
  ASSERT_EQ(picture.height, 180);
  expect_colour(picture, 60, 90, kRed, "left half");
  expect_colour(picture, 260, 90, kBlue, "right half");
  expect_colour(picture, 60, 2, kRed, "the top row");
  expect_colour(picture, 260, 177, kBlue, "the bottom row");
}

// A grating of `cycles_per_tile_pixel` in a 1280x720 picture fitted into a tile of `tile_width`
// (16:9), as the share of its swing the tile shows.
double swing_left_in_tile(int tile_width, double cycles_per_tile_pixel) {
  const int tile_height = tile_width * 9 / 16 / 2 * 2;
  ScalerPipeline pipeline(tile_width, tile_height);
  const double cycles = cycles_per_tile_pixel * tile_width / 1280.0;
  auto sample = pipeline.scale(grating_frame(1280, 720, cycles), 1280, 720);
  EXPECT_TRUE(sample);
  return sample ? luma_swing_share(read(sample.get())) : -1.0;
}

// A 720p camera into a 3x3 grid's tile (426 wide: a shrink of 3.005) and a 4x4 grid's (320): each
// halved once, then the bicubic step. Bars finer than the tile's pixels can show (above its Nyquist
// frequency, half a cycle per pixel) must go to grey: a filter that lets them through folds them
// into coarse false stripes (aliasing, moiré), which viewers see and the class encoder spends bits
// and CPU on. At 0.8 and 0.9 cycles per tile pixel, libyuv's box filter (the scaler before) left
// 0.26 and 0.13 of the swing in the 3x3 tile, 0.25 and 0.12 in the 4x4; now at most 0.057 anywhere
// from 0.8 to 1.4 (the top of the camera's own band, which the halving passes at cos³).
TEST(TileScalerElement, DetailFinerThanTheTileIsFilteredOutNotAliased) {
  for (const int tile_width : {426, 320})
    for (const double cycles_per_tile_pixel : {0.8, 0.9, 1.05, 1.2, 1.4}) {
      const double left = swing_left_in_tile(tile_width, cycles_per_tile_pixel);
      EXPECT_LT(left, 0.08) << cycles_per_tile_pixel << " cycles per pixel of a " << tile_width
                            << "-wide tile: " << left << " of the swing is left";
    }
}

// Filtering out what the tile cannot show must not blur what it can: bars of 0.05, 0.1 and 0.2
// cycles per tile pixel keep 1.00, 0.99 and 0.92 of their swing in the 3x3 tile, 1.00, 1.00 and
// 0.96 in the 4x4 (the box filter: 1.00, 0.98, 0.94).
TEST(TileScalerElement, DetailTheTileCanShowIsKept) {
  for (const int tile_width : {426, 320})
    for (const double cycles_per_tile_pixel : {0.05, 0.1, 0.2}) {
      const double kept = swing_left_in_tile(tile_width, cycles_per_tile_pixel);
      EXPECT_GT(kept, 0.85) << cycles_per_tile_pixel << " cycles per pixel of a " << tile_width << "-wide tile: only "
                            << kept << " of the swing kept";
    }
}

}  // namespace tile_scaler_test
}  // namespace chorus::mixer
