#include "mixer/video/tile_scaler.hpp"

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include <algorithm>
#include <cstdint>

#include "mixer/audio/gst_elements.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer {

FitRect fit_into(int in_width, int in_height, int par_n, int par_d, int out_width, int out_height) {
  const int even_width = std::max(out_width & ~1, std::min(out_width, 2));
  const int even_height = std::max(out_height & ~1, std::min(out_height, 2));
  if (in_width <= 0 || in_height <= 0 || par_n <= 0 || par_d <= 0) return FitRect{0, 0, even_width, even_height};
  // The picture's display size is in_width·par_n : in_height·par_d.
  const std::int64_t display_width = std::int64_t{in_width} * par_n;
  const std::int64_t display_height = std::int64_t{in_height} * par_d;
  std::int64_t width = out_width;
  std::int64_t height = (out_width * display_height + display_width / 2) / display_width;
  if (height > out_height) {
    height = out_height;
    width = (out_height * display_width + display_height / 2) / display_height;
  }
  FitRect fit;
  fit.width = std::clamp(static_cast<int>(width) & ~1, std::min(2, even_width), even_width);
  fit.height = std::clamp(static_cast<int>(height) & ~1, std::min(2, even_height), even_height);
  fit.x = ((out_width - fit.width) / 2) & ~1;
  fit.y = ((out_height - fit.height) / 2) & ~1;
  return fit;
}

namespace {

// The GObject type (GstVideoFilter subclass). GStreamer's type macros are C: casts stay C casts.
struct ChorusTileScale {
  GstVideoFilter parent;
  FitRect fit;  // where the picture goes in the output, from the negotiated sizes (set_info)
};
struct ChorusTileScaleClass {
  GstVideoFilterClass parent_class;
};

// NOLINTBEGIN: GObject's type boilerplate
G_DEFINE_TYPE(ChorusTileScale, chorus_tile_scale, GST_TYPE_VIDEO_FILTER)
// NOLINTEND

constexpr const char* kI420AnySize =
    "video/x-raw, format=(string)I420, width=(int)[1, 16384], height=(int)[1, 16384], "
    "framerate=(fraction)[0/1, 2147483647/1]";

// Either side may have any size (and any pixel aspect ratio): the scaler changes only those.
GstCaps* transform_caps(GstBaseTransform* /*transform*/, GstPadDirection /*direction*/, GstCaps* caps,
                        GstCaps* filter) {
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstStructure* structure = gst_structure_copy(gst_caps_get_structure(caps, i));
    gst_structure_set(structure, "width", GST_TYPE_INT_RANGE, 1, 16384, "height", GST_TYPE_INT_RANGE, 1, 16384,
                      nullptr);
    gst_structure_remove_field(structure, "pixel-aspect-ratio");
    result = gst_caps_merge_structure(result, structure);
  }
  if (filter != nullptr) {
    GstCaps* both = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = both;
  }
  return result;
}

// Unconstrained by downstream, the output keeps the input's size.
GstCaps* fixate_caps(GstBaseTransform* /*transform*/, GstPadDirection /*direction*/, GstCaps* caps,
                     GstCaps* othercaps) {
  othercaps = gst_caps_make_writable(gst_caps_truncate(othercaps));
  GstStructure* other = gst_caps_get_structure(othercaps, 0);
  const GstStructure* given = gst_caps_get_structure(caps, 0);
  int value = 0;
  if (gst_structure_get_int(given, "width", &value)) gst_structure_fixate_field_nearest_int(other, "width", value);
  if (gst_structure_get_int(given, "height", &value)) gst_structure_fixate_field_nearest_int(other, "height", value);
  if (gst_structure_has_field(other, "pixel-aspect-ratio"))
    gst_structure_fixate_field_nearest_fraction(other, "pixel-aspect-ratio", 1, 1);
  return gst_caps_fixate(othercaps);
}

gboolean set_info(GstVideoFilter* filter, GstCaps* /*incaps*/, GstVideoInfo* in_info, GstCaps* /*outcaps*/,
                  GstVideoInfo* out_info) {
  auto* self = reinterpret_cast<ChorusTileScale*>(filter);
  self->fit = fit_into(GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info), GST_VIDEO_INFO_PAR_N(in_info),
                       GST_VIDEO_INFO_PAR_D(in_info), GST_VIDEO_INFO_WIDTH(out_info), GST_VIDEO_INFO_HEIGHT(out_info));
  return TRUE;
}

struct I420Planes {
  std::uint8_t* y;
  int y_stride;
  std::uint8_t* u;
  int u_stride;
  std::uint8_t* v;
  int v_stride;
};

I420Planes planes_of(GstVideoFrame* frame) {
  return I420Planes{
      static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, 0)), GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0),
      static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, 1)), GST_VIDEO_FRAME_PLANE_STRIDE(frame, 1),
      static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, 2)), GST_VIDEO_FRAME_PLANE_STRIDE(frame, 2)};
}

// Black (BT.601 limited range: Y 16, U and V 128), for the bars beside or above the picture.
void fill_black(const I420Planes& out, int x, int y, int width, int height) {
  if (width <= 0 || height <= 0) return;
  libyuv::I420Rect(out.y, out.y_stride, out.u, out.u_stride, out.v, out.v_stride, x, y, width, height, 16, 128, 128);
}

GstFlowReturn transform_frame(GstVideoFilter* filter, GstVideoFrame* in_frame, GstVideoFrame* out_frame) {
  const FitRect fit = reinterpret_cast<ChorusTileScale*>(filter)->fit;
  const int out_width = GST_VIDEO_FRAME_WIDTH(out_frame);
  const int out_height = GST_VIDEO_FRAME_HEIGHT(out_frame);
  const I420Planes in = planes_of(in_frame);
  const I420Planes out = planes_of(out_frame);
  fill_black(out, 0, 0, out_width, fit.y);
  fill_black(out, 0, fit.y + fit.height, out_width, out_height - fit.y - fit.height);
  fill_black(out, 0, fit.y, fit.x, fit.height);
  fill_black(out, fit.x + fit.width, fit.y, out_width - fit.x - fit.width, fit.height);
  // The box filter averages every source pixel a destination pixel covers: no aliasing when a
  // 720p camera shrinks to a 4x4 grid's tile, and bilinear when it grows.
  const int result = libyuv::I420Scale(
      in.y, in.y_stride, in.u, in.u_stride, in.v, in.v_stride, GST_VIDEO_FRAME_WIDTH(in_frame),
      GST_VIDEO_FRAME_HEIGHT(in_frame), out.y + (fit.y * out.y_stride) + fit.x, out.y_stride,
      out.u + (fit.y / 2 * out.u_stride) + (fit.x / 2), out.u_stride, out.v + (fit.y / 2 * out.v_stride) + (fit.x / 2),
      out.v_stride, fit.width, fit.height, libyuv::kFilterBox);
  if (result != 0) {
    GST_ELEMENT_ERROR(filter, STREAM, FAILED, ("libyuv could not scale the frame"), (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

void chorus_tile_scale_class_init(ChorusTileScaleClass* klass) {
  auto* element_class = GST_ELEMENT_CLASS(klass);
  GstCaps* caps = gst_caps_from_string(kI420AnySize);
  gst_element_class_add_pad_template(element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template(element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref(caps);
  gst_element_class_set_static_metadata(element_class, "Chorus tile scaler", "Filter/Converter/Video/Scaler",
                                        "Fits I420 video into a tile of a given size, letterboxed, with libyuv",
                                        "Chorus");
  auto* transform_class = GST_BASE_TRANSFORM_CLASS(klass);
  transform_class->transform_caps = transform_caps;
  transform_class->fixate_caps = fixate_caps;
  transform_class->passthrough_on_same_caps = TRUE;
  auto* filter_class = GST_VIDEO_FILTER_CLASS(klass);
  filter_class->set_info = set_info;
  filter_class->transform_frame = transform_frame;
}

void chorus_tile_scale_init(ChorusTileScale* self) {
  self->fit = FitRect{};
}

}  // namespace

GstElement* make_tile_scaler(const std::string& name) {
  gst::ensure_gst_initialized();
  // Registered in the process's registry as a static element, once (C++ magic statics are
  // thread-safe); the factory then makes it like any plugin's element.
  static const bool registered =
      gst_element_register(nullptr, kTileScalerFactory, GST_RANK_NONE, chorus_tile_scale_get_type()) != FALSE;
  (void)registered;
  return make_element(kTileScalerFactory, name);
}

}  // namespace chorus::mixer
