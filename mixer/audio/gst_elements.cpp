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

GstCaps* new_mixing_caps() {
  return gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                             static_cast<int>(kSampleRateHz), "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING,
                             "interleaved", nullptr);
}

}  // namespace chorus::mixer
