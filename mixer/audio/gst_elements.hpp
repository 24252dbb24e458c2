// Small helpers for building the mixer's GStreamer branches: make a stock element or fail with
// the plugin's name (a control-path error: the operator has a plugin missing), and push the
// sticky events a stream must start with from one of our own src pads.
// Threading: any thread; the pads belong to whoever pushes on them.
#pragma once

#include <gst/gst.h>

#include <string>

namespace chorus::mixer {

// gst_element_factory_make, or std::runtime_error naming the factory.
GstElement* make_element(const char* factory, const std::string& name = {});
// Links `elements` in order inside `bin` (which takes them); std::runtime_error on failure.
void add_and_link(GstBin* bin, std::initializer_list<GstElement*> elements);
// A new active src pad of ours linked to `element`'s "sink" pad (floating ref sunk: caller owns it).
GstPad* link_src_pad(GstElement* element, const char* name);
// A new active sink pad of ours that `element`'s "src" pad is linked to, with `chain` as its chain function;
// `user_data` is the pad's element-private pointer (GST_PAD_ELEMENT_PRIVATE in `chain`).
GstPad* link_sink_pad(GstElement* element, const char* name, GstPadChainFunction chain, gpointer user_data);
// audio/x-raw S16LE, 48 kHz, mono, interleaved: the mixing domain (mixer/audio_frame.hpp), what every
// decoder delivers and every encoder takes. Caller owns the caps.
GstCaps* new_mixing_caps();
// stream-start, caps and a TIME segment: what a stream must carry before its first buffer.
void start_stream(GstPad* src, const std::string& stream_id, GstCaps* caps);

}  // namespace chorus::mixer
