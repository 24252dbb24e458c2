// GstPtr<T>: a unique_ptr that gives back one GStreamer/GLib reference when it goes, so every
// GStreamer object the mixer holds is released on every path, errors included (DESIGN §2: "GStreamer
// objects are held by RAII wrappers").
//
// Which release call a type needs is a property of the type, so it lives in GstTraits<T>:
// - GstObject and its subclasses (elements, bins, pipelines, pads, buses, clocks, app sinks/srcs,
//   factories): gst_object_unref;
// - mini objects (GstBuffer, GstSample, GstCaps, GstMessage, GstEvent, GstQuery, GstBufferList,
//   GstMemory, GstMiniObject): their own unref, which is gst_mini_object_unref;
// - plain GLib allocations (GError, gchar strings, GstStructure, GstIterator): their free call.
// A type without traits does not compile, rather than being released the wrong way. To add one:
// CHORUS_GST_OBJECT_TRAITS(GstFoo) for a GstObject subclass, or a GstTraits specialisation.
//
// Ownership in GStreamer's terms:
// - gst_adopt(p): take a reference the caller already owns ("transfer full"), e.g. from
//   gst_bin_get_by_name, gst_element_get_bus, gst_app_sink_try_pull_sample, gst_bus_pop.
// - gst_share(p): add a reference to a borrowed pointer ("transfer none") and own that one.
// - gst_adopt_floating(p): an object that was just made and is still floating (gst_element_factory_make,
//   gst_parse_launch): sink the floating reference, so the GstPtr owns it even after a bin adds it.
//
// Threading: a GstPtr is a plain owner, like unique_ptr. GStreamer's reference counts are atomic,
// so two GstPtrs to the same object may be dropped on different threads.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <memory>
#include <type_traits>

namespace chorus::mixer::gst {

template <typename T>
struct GstTraits;  // no default: an unknown type must be taught how it is released

#define CHORUS_GST_OBJECT_TRAITS(Type)                   \
  template <>                                            \
  struct GstTraits<Type> {                               \
    static void unref(Type* p) noexcept {                \
      gst_object_unref(p);                               \
    }                                                    \
    static Type* ref(Type* p) noexcept {                 \
      return static_cast<Type*>(gst_object_ref(p));      \
    }                                                    \
    static Type* ref_sink(Type* p) noexcept {            \
      return static_cast<Type*>(gst_object_ref_sink(p)); \
    }                                                    \
  }

CHORUS_GST_OBJECT_TRAITS(GstObject);
CHORUS_GST_OBJECT_TRAITS(GstElement);
CHORUS_GST_OBJECT_TRAITS(GstBin);
CHORUS_GST_OBJECT_TRAITS(GstPipeline);
CHORUS_GST_OBJECT_TRAITS(GstPad);
CHORUS_GST_OBJECT_TRAITS(GstBus);
CHORUS_GST_OBJECT_TRAITS(GstClock);
CHORUS_GST_OBJECT_TRAITS(GstElementFactory);
CHORUS_GST_OBJECT_TRAITS(GstPluginFeature);
CHORUS_GST_OBJECT_TRAITS(GstPlugin);
CHORUS_GST_OBJECT_TRAITS(GstBufferPool);
CHORUS_GST_OBJECT_TRAITS(GstAppSink);
CHORUS_GST_OBJECT_TRAITS(GstAppSrc);

// Mini objects: reference counted, never floating.
#define CHORUS_GST_MINI_OBJECT_TRAITS(Type)                                         \
  template <>                                                                       \
  struct GstTraits<Type> {                                                          \
    static void unref(Type* p) noexcept {                                           \
      gst_mini_object_unref(GST_MINI_OBJECT_CAST(p));                               \
    }                                                                               \
    static Type* ref(Type* p) noexcept {                                            \
      return reinterpret_cast<Type*>(gst_mini_object_ref(GST_MINI_OBJECT_CAST(p))); \
    }                                                                               \
  }

CHORUS_GST_MINI_OBJECT_TRAITS(GstMiniObject);
CHORUS_GST_MINI_OBJECT_TRAITS(GstBuffer);
CHORUS_GST_MINI_OBJECT_TRAITS(GstBufferList);
CHORUS_GST_MINI_OBJECT_TRAITS(GstSample);
CHORUS_GST_MINI_OBJECT_TRAITS(GstCaps);
CHORUS_GST_MINI_OBJECT_TRAITS(GstMessage);
CHORUS_GST_MINI_OBJECT_TRAITS(GstEvent);
CHORUS_GST_MINI_OBJECT_TRAITS(GstQuery);
CHORUS_GST_MINI_OBJECT_TRAITS(GstMemory);

#undef CHORUS_GST_MINI_OBJECT_TRAITS

// Single-owner GLib allocations: no reference count, so no gst_share for them.
template <>
struct GstTraits<GError> {
  static void unref(GError* p) noexcept { g_error_free(p); }
};
template <>
struct GstTraits<gchar> {
  static void unref(gchar* p) noexcept { g_free(p); }
};
template <>
struct GstTraits<GstStructure> {
  static void unref(GstStructure* p) noexcept { gst_structure_free(p); }
};
template <>
struct GstTraits<GstIterator> {
  static void unref(GstIterator* p) noexcept { gst_iterator_free(p); }
};

template <typename T>
struct GstUnref {
  void operator()(T* p) const noexcept {
    if (p != nullptr) GstTraits<T>::unref(p);
  }
};

template <typename T>
using GstPtr = std::unique_ptr<T, GstUnref<T>>;

// Takes over a reference the caller owns (transfer full). Null stays null.
template <typename T>
[[nodiscard]] GstPtr<T> gst_adopt(T* p) noexcept {
  return GstPtr<T>(p);
}

// Adds a reference to a borrowed pointer (transfer none) and owns it. Null stays null.
template <typename T>
  requires requires(T* p) { GstTraits<T>::ref(p); }
[[nodiscard]] GstPtr<T> gst_share(T* p) noexcept {
  return GstPtr<T>(p == nullptr ? nullptr : GstTraits<T>::ref(p));
}

// Owns a newly made GstObject whether or not its reference is still floating.
template <typename T>
  requires requires(T* p) { GstTraits<T>::ref_sink(p); }
[[nodiscard]] GstPtr<T> gst_adopt_floating(T* p) noexcept {
  if (p == nullptr) return GstPtr<T>();
  // ref_sink on a floating object only clears the flag (the count stays 1); on a non-floating one
  // it adds a reference, which the unref below gives back, so either way one reference is ours.
  const bool floating = g_object_is_floating(p);
  GstTraits<T>::ref_sink(p);
  if (!floating) GstTraits<T>::unref(p);
  return GstPtr<T>(p);
}

}  // namespace chorus::mixer::gst
