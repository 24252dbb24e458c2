// Small helpers for building the mixer's GStreamer pipelines (the video MCU, the recorder): make a
// stock element or fail with the plugin's name (a control-path error: the operator has a plugin
// missing), link a chain in a bin, push into one from a pad of ours, the mixing domain's caps. (The audio MCU's codecs
// use no GStreamer: mixer/audio/frame_encoder.hpp, participant_decoder.hpp.) Threading: any thread.
#pragma once

#include <gst/gst.h>

#include <string>

namespace chorus::mixer {

// gst_element_factory_make, or std::runtime_error naming the factory.
GstElement* make_element(const char* factory, const std::string& name = {});
// Links `elements` in order inside `bin` (which takes them); std::runtime_error on failure.
void add_and_link(GstBin* bin, std::initializer_list<GstElement*> elements);
// A new active src pad of ours linked to `element`'s "sink" pad (floating ref sunk: caller owns it);
// what fuzz/video_decode_fuzz pushes RTP into the video MCU's decode chain through.
GstPad* link_src_pad(GstElement* element, const char* name);
// audio/x-raw S16LE, 48 kHz, mono, interleaved: the mixing domain (mixer/audio_frame.hpp), what the
// recorder takes the mix as. Caller owns the caps.
GstCaps* new_mixing_caps();
// stream-start, caps and a TIME segment: what a stream must carry before its first buffer.
void start_stream(GstPad* src, const std::string& stream_id, GstCaps* caps);

}  // namespace chorus::mixer
