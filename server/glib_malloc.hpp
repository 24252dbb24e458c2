// GLib's slice allocator off, for a server that gives its memory back (issue 12: after a load, RSS
// returns to near where it started).
//
// GLib before 2.76 (Debian 12 ships 2.74) serves GStreamer's buffers, events and caps from its slice
// allocator, which keeps every freed block in per-thread magazines and never returns them: each
// participant's decoder bin (mixer/audio/participant_decoder.cpp) left its share behind, ~13 MB after
// 300 calls and ~100 MB after 1,000. `G_SLICE=always-malloc` routes them through malloc, whose free
// pages IdleMemoryReturn hands back. GLib reads G_SLICE in its library constructor, before main(),
// so neither setenv() nor g_slice_set_config() can change it afterwards: chorusd re-executes itself
// once with the variable set. An operator's own G_SLICE is left alone.
#pragma once

namespace chorus::server {

// Returns when G_SLICE is already set (or the re-exec failed: the server then runs as it is);
// otherwise replaces the process (same PID) with itself under G_SLICE=always-malloc.
void reexec_with_glib_slices_off(char** argv);

}  // namespace chorus::server
