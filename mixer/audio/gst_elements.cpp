#include "mixer/audio/gst_elements.hpp"

#include <stdexcept>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

GstElement* make_element(const char* factory, const std::string& name) {
  GstElement* element = gst_element_factory_make(factory, name.empty() ? nullptr : name.c_str());
  if (element == nullptr)
    throw std::runtime_error(std::string("GStreamer element '") + factory +
                             "' is missing (install the GStreamer plugin that provides it)");
  return element;
}

void add_and_link(GstBin* bin, std::initializer_list<GstElement*> elements) {
  GstElement* previous = nullptr;
  for (GstElement* element : elements) {
    gst_bin_add(bin, element);
    if (previous != nullptr && !gst_element_link(previous, element))
      throw std::runtime_error(std::string("cannot link GStreamer elements ") + GST_ELEMENT_NAME(previous) + " → " +
                               GST_ELEMENT_NAME(element));
    previous = element;
  }
}

GstPad* link_src_pad(GstElement* element, const char* name) {
  GstPad* pad = gst_pad_new(name, GST_PAD_SRC);
  gst_object_ref_sink(pad);
  GstPad* peer = gst_element_get_static_pad(element, "sink");
  const bool linked = peer != nullptr && GST_PAD_LINK_SUCCESSFUL(gst_pad_link(pad, peer));
  if (peer != nullptr) gst_object_unref(peer);
  gst_pad_set_active(pad, TRUE);
  if (!linked) {
    gst_object_unref(pad);
    throw std::runtime_error(std::string("cannot link our src pad to ") + GST_ELEMENT_NAME(element));
  }
  return pad;
}

GstCaps* new_mixing_caps() {
  return gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                             static_cast<int>(kSampleRateHz), "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING,
                             "interleaved", nullptr);
}

void start_stream(GstPad* src, const std::string& stream_id, GstCaps* caps) {
  gst_pad_push_event(src, gst_event_new_stream_start(stream_id.c_str()));
  gst_pad_push_event(src, gst_event_new_caps(caps));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(src, gst_event_new_segment(&segment));
}

}  // namespace chorus::mixer
