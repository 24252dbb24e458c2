// ensure_gst_initialized(): GStreamer's one-time set-up (gst_init), done once per process by
// whichever part of the mixer needs GStreamer first.
//
// gst_init is itself safe to call again, but its first call loads the plugin registry and must
// not race another first call, so it runs under std::call_once. Nothing here reads argv: Chorus
// does not take GStreamer's command-line options (GST_DEBUG and friends still work as env vars).
//
// Threading: any thread, any number of times; the first call blocks the others until it is done.
#pragma once

namespace chorus::mixer::gst {

void ensure_gst_initialized();

}  // namespace chorus::mixer::gst
