// The tile scaler: a GStreamer element of our own ("chorustilescale") that fits an I420 picture of
// any size into an I420 frame of exactly the tile's size, letterboxed with black.
//
// How it scales (tile_scaler.cpp's ScalePlan): while the picture stays at least 1.5 times its fit
// after halving, it is halved by a [1 3 3 1] binomial kernel; then one bicubic step by swscale,
// whose kernel widens with the shrink, so detail finer than the tile can show is filtered out
// instead of folded back as moiré. 720p into a 3x3 grid's tile: 0.49 ms; into a 4x4 grid's: 0.38 ms.
//
// Why not the compositor's own scaling: GStreamer's video converter scales in generic C in the
// compositor's shared thread pool (about 0.9 ms a 720p frame into a 3x3 tile, bench/video_mcu's
// baseline). Why not libyuv's box filter (the scaler before, 0.02–0.3 ms): whole-pixel boxes let a
// quarter of the too-fine detail through as false stripes, which viewers see and the class encoder
// paid for in CPU (tile_scaler_test's gratings; bench/RESULTS.md, bench/video_mcu). With every source
// already at its tile's size, the compositor only copies it onto the canvas.
//
// Caps: sink and src are video/x-raw I420 of any size; the output size comes from downstream (a
// capsfilter the compositor sets to the tile). Input pixel aspect ratio is honoured, output's is
// 1:1. Same size in and out: passthrough (no copy).
//
// Threading: runs on its branch's streaming thread like any element; make_tile_scaler from any
// thread (the element type is registered once, thread-safely).
#pragma once

#include <gst/gst.h>

#include <string>

namespace chorus::mixer {

inline constexpr const char* kTileScalerFactory = "chorustilescale";

// A new tile scaler (floating reference, like gst_element_factory_make).
GstElement* make_tile_scaler(const std::string& name);

// Where a picture of in_width × in_height (pixel aspect par_n:par_d) goes inside a tile of
// out_width × out_height: the largest centred rectangle of its display aspect ratio, with even
// position and size (I420's chroma is half size), at least 2×2.
struct FitRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};
FitRect fit_into(int in_width, int in_height, int par_n, int par_d, int out_width, int out_height);

}  // namespace chorus::mixer
