#include "mixer/video/video_compositor.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <algorithm>
#include <stdexcept>

#include "common/log.hpp"
#include "mixer/audio/gst_elements.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "mixer/video/tile_scaler.hpp"
#include "mixer/video/video_decode_chain.hpp"

namespace chorus::mixer {
namespace {

constexpr GstClockTime kJitterBufferLatency = 50 * GST_MSECOND;
// How long the compositor waits for a source's frame before it composes without it: the jitter
// buffer (its frames carry their arrival time and leave it kJitterBufferLatency later), a decode
// and a margin. Set up front because sources join a playing pipeline. It is the MCU's added delay.
constexpr GstClockTime kUpstreamLatency = 80 * GST_MSECOND;
constexpr unsigned kRtpMtu = 1200;  // leaves room for SRTP, extensions and tunnels under 1500
constexpr int kSpeakerFrame = 4;    // pixels of the speaker's frame around its tile's picture
constexpr std::uint32_t kPlaceholderRgb = 0x303030;
constexpr std::uint32_t kSpeakerFrameRgb = 0xf0b000;
// The size of our own pictures (a member's plain tile, the speaker's frame) and of a hidden source
// before they are tiled; once tiled each is made at its tile's size, so the compositor never scales
// (bench/video_mcu: its converter scales in generic C).
constexpr int kUntiledSize = 16;
constexpr int kLabelWidth = 240, kLabelHeight = 24;
constexpr double kLabelAlpha = 0.75;
constexpr int kKeyframeIntervalS = 10;  // periodic key frames for endpoints without feedback
constexpr guint kQueuedFramesPerClass = 2;

// Zorder: the background, then the speaker's frame, placeholders and pictures (content above all).
constexpr int kZBackground = 0, kZSpeakerFrame = 1, kZPlaceholder = 2, kZPicture = 3, kZLabel = 5;

GstCaps* rtp_caps(VideoCodec codec, std::uint8_t payload_type) {
  return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate", G_TYPE_INT,
                             static_cast<int>(kVideoRtpClockRate), "encoding-name", G_TYPE_STRING,
                             std::string(codec_info(codec).encoding_name).c_str(), "payload", G_TYPE_INT,
                             static_cast<int>(payload_type), nullptr);
}

GstCaps* raw_caps(int width, int height, int fps) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width, "height",
                             G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps, 1, "pixel-aspect-ratio",
                             GST_TYPE_FRACTION, 1, 1, nullptr);
}

// A size only (decoders set no frame rate: RTP carries none): what a tile scaler fits into.
GstCaps* size_caps(int width, int height) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width, "height",
                             G_TYPE_INT, height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
}

// Takes `caps` (the property holds its own reference).
void set_filter_caps(GstElement* filter, GstCaps* caps) {
  g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
}

// Delayed caps change: a layout change sets a running filter's caps (a placeholder's or a tile's
// size), and a buffer already on its way with the old size would otherwise meet the new caps and
// fail not-negotiated, stopping that source for good (seen under load: a speaker frame's source
// died, "Internal data stream error"). Delayed, the filter takes the old caps until upstream has
// renegotiated.
GstElement* capsfilter(GstCaps* caps, const std::string& name) {
  GstElement* filter = make_element("capsfilter", name);
  gst_util_set_object_arg(G_OBJECT(filter), "caps-change-mode", "delayed");
  set_filter_caps(filter, caps);
  return filter;
}

void configure_encoder(GstElement* encoder, VideoCodec codec, std::uint32_t bitrate_bps, int fps) {
  switch (codec) {
    case VideoCodec::kVp8:
      // Realtime (deadline 1), fast (cpu-used 8), constant bit rate, no look-ahead: an MCU's encode
      // is live. Not error-resilient: it doubled the encoder's CPU per frame (bench/video_mcu), and
      // a receiver that lost a packet asks for a key frame (PLI) instead, as WebRTC's VP8 does.
      // One thread: libvpx's VP8 encoder syncs its row threads by spinning (a `pause` loop), which
      // took 31% of the encoder's CPU beside the room's decoders (perf, bench/video_mcu); a server
      // runs many encoders and decoders at once, so threads spinning for one frame are stolen from
      // the others. A 720p frame still takes about 10 ms of the 33 ms a frame has.
      gst_util_set_object_arg(G_OBJECT(encoder), "end-usage", "cbr");
      g_object_set(encoder, "deadline", static_cast<gint64>(1), "cpu-used", 8, "target-bitrate",
                   static_cast<int>(bitrate_bps), "lag-in-frames", 0, "keyframe-max-dist", kKeyframeIntervalS * fps,
                   "threads", 1, nullptr);
      break;
    case VideoCodec::kH264:
      gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
      gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "veryfast");
      g_object_set(encoder, "bitrate", static_cast<guint>(bitrate_bps / 1000), "key-int-max",
                   static_cast<guint>(kKeyframeIntervalS * fps), "threads", 2U, nullptr);
      break;
  }
}

void set_bitrate(GstElement* encoder, VideoCodec codec, std::uint32_t bitrate_bps) {
  if (codec == VideoCodec::kVp8)
    g_object_set(encoder, "target-bitrate", static_cast<int>(bitrate_bps), nullptr);
  else
    g_object_set(encoder, "bitrate", static_cast<guint>(bitrate_bps / 1000), nullptr);
}

}  // namespace

// Errors and warnings from any element, where they happen (no main loop on the chain thread).
// A decoder's warning (a corrupt frame) is expected from the network: the listener counts it and
// the room logs it; an error is ours to see at once.
GstBusSyncReply VideoCompositor::on_bus_message(GstBus* /*bus*/, GstMessage* message, gpointer user_data) {
  const auto type = GST_MESSAGE_TYPE(message);
  if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error(message, &error, &debug);
    else
      gst_message_parse_warning(message, &error, &debug);
    const std::string element = GST_MESSAGE_SRC_NAME(message) != nullptr ? GST_MESSAGE_SRC_NAME(message) : "";
    const std::string text = error != nullptr ? error->message : "";
    if (type == GST_MESSAGE_ERROR)
      CHORUS_LOG(kWarn, "video-mcu", "pipeline error", {"element", element}, {"error", text});
    static_cast<VideoCompositor*>(user_data)->listener_->on_decode_error(element, text);
    if (error) g_error_free(error);
    g_free(debug);
  }
  gst_message_unref(message);
  return GST_BUS_DROP;
}

bool InputFeed::push(std::span<const std::uint8_t> rtp) const {
  GstBuffer* buffer = gst_buffer_new_memdup(rtp.data(), rtp.size());
  return gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer) == GST_FLOW_OK;
}

struct VideoCompositor::SourceBranch {
  VideoCompositor* owner = nullptr;
  VideoSource source;
  std::vector<GstElement*> elements;                // appsrc first, in stream order; owned by the pipeline
  GstElement* tile_size = nullptr;                  // the capsfilter after the tile scaler: the tile's size
  Rect shown_at{0, 0, kUntiledSize, kUntiledSize};  // where it was last placed (tile_size's size)
  int decoded_width = 0;                            // the decoder's picture size (its streaming thread only)
  int decoded_height = 0;
  GstPad* pad = nullptr;  // compositor request pad (our reference)
  gulong probe = 0;
};

struct VideoCompositor::ClassBranch {
  VideoCompositor* owner = nullptr;
  std::uint32_t id = 0;
  VideoClassKey key;
  std::vector<GstElement*> elements;  // queue first; owned by the pipeline
  GstElement* encoder = nullptr;
  GstPad* tee_pad = nullptr;              // our reference
  std::atomic<bool> frame_is_key{false};  // set by the encoder's src probe, read in the appsink callback
};

VideoCompositor::VideoCompositor(VideoCanvas canvas, std::shared_ptr<VideoCompositorListener> listener)
    : canvas_(canvas), listener_(std::move(listener)) {
  gst::ensure_gst_initialized();
  pipeline_ = gst::gst_adopt_floating(gst_pipeline_new(nullptr));
  compositor_ = make_in_pipeline("compositor", "compositor");
  gst_util_set_object_arg(G_OBJECT(compositor_), "background", "black");
  g_object_set(compositor_, "min-upstream-latency", kUpstreamLatency, nullptr);
  GstElement* canvas_filter = capsfilter(raw_caps(canvas_.width, canvas_.height, canvas_.fps), "canvas");
  tee_ = make_element("tee", "tee");
  g_object_set(tee_, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_.get()), canvas_filter, tee_, nullptr);
  if (!gst_element_link_many(compositor_, canvas_filter, tee_, nullptr))
    throw std::runtime_error("cannot link the video compositor to its tee");

  if (auto factory = gst::gst_adopt(gst_element_factory_find("textoverlay")); !factory) {
    labels_available_ = false;  // gstreamer1.0-x (Pango) missing: tiles go unlabelled
    CHORUS_LOG(kWarn, "video-mcu", "no name labels: the textoverlay element (gstreamer1.0-x) is missing");
  }
  // A live source the compositor always has, so it composes at the canvas rate with no sender. It
  // draws nothing (alpha 0: skipped); the compositor's own black background fills the canvas.
  background_ = add_placeholder("background", PlaceholderLook{0x000000, kUntiledSize, kUntiledSize, canvas_.fps});
  place(background_.pad, Rect{0, 0, kUntiledSize, kUntiledSize}, kZBackground, 0.0);
  speaker_frame_ = add_placeholder("speaker-frame", PlaceholderLook{kSpeakerFrameRgb});
  place(speaker_frame_.pad, Rect{0, 0, kUntiledSize, kUntiledSize}, kZSpeakerFrame, 0.0);

  auto bus = gst::gst_adopt(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), on_bus_message, this, nullptr);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw std::runtime_error("the video compositor's pipeline does not start");
}

VideoCompositor::~VideoCompositor() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  auto bus = gst::gst_adopt(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);  // nothing more reaches this object
  for (auto& [source, branch] : sources_)
    if (branch->pad) gst_object_unref(branch->pad);
  for (auto& [id, branch] : classes_)
    if (branch->tee_pad) gst_object_unref(branch->tee_pad);
  for (auto* held : {&placeholders_, &labels_})
    for (auto& [id, placeholder] : *held) gst_object_unref(placeholder.pad);
  for (Placeholder* fixed : {&background_, &speaker_frame_})
    if (fixed->pad) gst_object_unref(fixed->pad);
}

GstElement* VideoCompositor::make_in_pipeline(const char* factory, const std::string& name) {
  GstElement* element = make_element(factory, name + "-" + std::to_string(next_element_id_++));
  gst_bin_add(GST_BIN(pipeline_.get()), element);
  return element;
}

GstPad* VideoCompositor::request_compositor_pad() {
  GstPad* pad = gst_element_request_pad_simple(compositor_, "sink_%u");
  if (pad == nullptr) throw std::runtime_error("the compositor gave no sink pad");
  return pad;
}

void VideoCompositor::place(GstPad* pad, const Rect& rect, int zorder, double alpha) {
  g_object_set(pad, "xpos", rect.x, "ypos", rect.y, "width", rect.width, "height", rect.height, "zorder",
               static_cast<guint>(zorder), "alpha", alpha, nullptr);
}

VideoCompositor::Placeholder VideoCompositor::add_placeholder(const std::string& name, const PlaceholderLook& look) {
  Placeholder placeholder;
  GstElement* source = make_in_pipeline("videotestsrc", name);
  g_object_set(source, "is-live", TRUE, "foreground-color", static_cast<guint>(0xff000000U | look.rgb), nullptr);
  gst_util_set_object_arg(G_OBJECT(source), "pattern", "solid-color");
  placeholder.elements.push_back(source);
  placeholder.elements.push_back(capsfilter(raw_caps(look.width, look.height, look.fps), name + "-caps"));
  placeholder.width = look.width;
  placeholder.height = look.height;
  placeholder.fps = look.fps;
  gst_bin_add(GST_BIN(pipeline_.get()), placeholder.elements.back());
  if (!look.text.empty()) {
    GstElement* text = make_in_pipeline("textoverlay", name + "-text");
    // The name as plain text (no Pango markup: it is the caller's), white, left, in the strip's middle.
    g_object_set(text, "text", look.text.c_str(), "font-desc", "Sans 11", "shaded-background", FALSE, "auto-resize",
                 FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(text), "valignment", "center");
    gst_util_set_object_arg(G_OBJECT(text), "halignment", "left");
    placeholder.elements.push_back(text);
  }
  for (std::size_t i = 1; i < placeholder.elements.size(); ++i)
    if (!gst_element_link(placeholder.elements[i - 1], placeholder.elements[i]))
      throw std::runtime_error("cannot link a video placeholder");
  placeholder.pad = request_compositor_pad();
  GstPad* last_src = gst_element_get_static_pad(placeholder.elements.back(), "src");
  const bool linked = GST_PAD_LINK_SUCCESSFUL(gst_pad_link(last_src, placeholder.pad));
  gst_object_unref(last_src);
  if (!linked) throw std::runtime_error("cannot link a video placeholder to the compositor");
  for (auto it = placeholder.elements.rbegin(); it != placeholder.elements.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  return placeholder;
}

// A branch into the compositor goes upstream first: its elements stop (a push blocked in the
// compositor waits at most one output frame for it to take the buffer), then its pad is released.
// Releasing first would make the still-running source push into nothing: a not-linked error.
void VideoCompositor::drop_branch(std::vector<GstElement*>& elements, GstPad*& pad) {
  for (GstElement* element : elements) {
    gst_element_set_state(element, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_.get()), element);
  }
  elements.clear();
  if (pad != nullptr) {
    gst_element_release_request_pad(compositor_, pad);
    gst_object_unref(pad);
    pad = nullptr;
  }
}

void VideoCompositor::drop_placeholder(Placeholder& placeholder) {
  drop_branch(placeholder.elements, placeholder.pad);
}

std::shared_ptr<InputFeed> VideoCompositor::add_source(VideoSource source, VideoCodec codec,
                                                       std::uint8_t payload_type) {
  if (sources_.contains(source)) remove_source(source);
  const std::string base = "src-" + std::to_string(source.participant) + (source.content ? "-content" : "");
  auto branch = std::make_unique<SourceBranch>();
  branch->owner = this;
  branch->source = source;
  GstElement* appsrc = make_element("appsrc", base + "-in");
  GstCaps* caps = rtp_caps(codec, payload_type);
  g_object_set(appsrc, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp", TRUE, "max-buffers",
               static_cast<guint64>(kMaxQueuedInputPackets), "max-bytes", static_cast<guint64>(0), nullptr);
  gst_caps_unref(caps);
  gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
  GstElement* jitter = make_element("rtpjitterbuffer", base + "-jitter");
  g_object_set(jitter, "latency", static_cast<guint>(kJitterBufferLatency / GST_MSECOND), "do-lost", TRUE, nullptr);
  auto [depay, decoder] = make_video_decode_chain(codec, base);
  // The decoder's picture, made I420 (a no-op for VP8 and 8-bit 4:2:0 H.264) and fitted into its
  // tile on this branch's own thread (tile_scaler.hpp): the compositor only copies it.
  GstElement* convert = make_element("videoconvert", base + "-convert");
  GstElement* scaler = make_tile_scaler(base + "-scale");
  branch->tile_size = capsfilter(size_caps(kUntiledSize, kUntiledSize), base + "-size");
  branch->elements = {appsrc, jitter, depay, decoder, convert, scaler, branch->tile_size};
  add_and_link(GST_BIN(pipeline_.get()), {appsrc, jitter, depay, decoder, convert, scaler, branch->tile_size});

  branch->pad = request_compositor_pad();
  place(branch->pad, Rect{0, 0, kUntiledSize, kUntiledSize}, kZPicture, 0.0);  // hidden until tiled
  GstPad* tile_src = gst_element_get_static_pad(branch->tile_size, "src");
  const bool linked = GST_PAD_LINK_SUCCESSFUL(gst_pad_link(tile_src, branch->pad));
  gst_object_unref(tile_src);
  if (!linked) throw std::runtime_error("cannot link a video decoder to the compositor");

  // Key frame requests travel upstream from the depayloader and decoder and end at the appsrc.
  GstPad* appsrc_src = gst_element_get_static_pad(appsrc, "src");
  branch->probe =
      gst_pad_add_probe(appsrc_src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, branch.get(), nullptr);
  gst_object_unref(appsrc_src);
  GstPad* decoder_sink = gst_element_get_static_pad(decoder, "sink");
  gst_pad_add_probe(decoder_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_decoder_keyframe_request, branch.get(),
                    nullptr);
  gst_object_unref(decoder_sink);
  GstPad* scaler_sink = gst_element_get_static_pad(scaler, "sink");
  gst_pad_add_probe(scaler_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_decoded_caps, branch.get(), nullptr);
  gst_object_unref(scaler_sink);
  for (auto it = branch->elements.rbegin(); it != branch->elements.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  auto feed = std::make_shared<InputFeed>(gst::gst_share(appsrc));
  sources_.emplace(source, std::move(branch));
  return feed;
}

void VideoCompositor::remove_source(VideoSource source) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  drop_branch(it->second->elements, it->second->pad);
  sources_.erase(it);
}

GstPadProbeReturn VideoCompositor::on_upstream_event(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer user_data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (event != nullptr && gst_video_event_is_force_key_unit(event)) {
    auto* branch = static_cast<SourceBranch*>(user_data);
    branch->owner->listener_->on_keyframe_wanted(branch->source);
  }
  return GST_PAD_PROBE_OK;
}

// A key frame request the decoder itself sends upstream: it met a frame it could not decode.
GstPadProbeReturn VideoCompositor::on_decoder_keyframe_request(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (event != nullptr && gst_video_event_is_force_key_unit(event)) {
    auto* branch = static_cast<SourceBranch*>(user_data);
    GstElement* decoder = gst_pad_get_parent_element(pad);
    const std::string name = decoder != nullptr ? GST_ELEMENT_NAME(decoder) : "";
    if (decoder != nullptr) gst_object_unref(decoder);
    branch->owner->listener_->on_decode_error(name, "undecodable frame: waiting for a key frame");
  }
  return GST_PAD_PROBE_OK;
}

// The decoder's caps: a size other than the one before is a resolution change mid-stream.
GstPadProbeReturn VideoCompositor::on_decoded_caps(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer user_data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (event == nullptr || GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  int width = 0;
  int height = 0;
  const GstStructure* structure = caps != nullptr ? gst_caps_get_structure(caps, 0) : nullptr;
  if (structure == nullptr || !gst_structure_get_int(structure, "width", &width) ||
      !gst_structure_get_int(structure, "height", &height))
    return GST_PAD_PROBE_OK;
  auto* branch = static_cast<SourceBranch*>(user_data);
  const bool changed =
      branch->decoded_width != 0 && (width != branch->decoded_width || height != branch->decoded_height);
  branch->decoded_width = width;
  branch->decoded_height = height;
  if (changed) branch->owner->listener_->on_resolution_change(branch->source, width, height);
  return GST_PAD_PROBE_OK;
}

void VideoCompositor::set_tiles(const std::vector<Tile>& tiles) {
  std::map<ParticipantId, bool> placed;
  bool speaker_shown = false;
  for (const Tile& tile : tiles) {
    const bool framed = tile.speaker && tile.rect.width > 4 * kSpeakerFrame && tile.rect.height > 4 * kSpeakerFrame;
    Rect inner = tile.rect;
    if (framed) {
      place_placeholder(speaker_frame_, tile.rect, kZSpeakerFrame, 1.0);
      speaker_shown = true;
      inner = Rect{tile.rect.x + kSpeakerFrame, tile.rect.y + kSpeakerFrame, tile.rect.width - 2 * kSpeakerFrame,
                   tile.rect.height - 2 * kSpeakerFrame};
    }
    if (!tile.content) {
      auto [it, fresh] = placeholders_.try_emplace(tile.id);
      if (fresh)
        it->second = add_placeholder("tile-" + std::to_string(tile.id),
                                     PlaceholderLook{kPlaceholderRgb, kUntiledSize, kUntiledSize, canvas_.fps});
      // Under a picture the placeholder is not drawn (alpha 0 is skipped): the compositor scales
      // every visible pad on every frame, and a member's own picture hides it anyway (its side
      // bars show the black background).
      const bool shows_picture = sources_.contains(VideoSource{tile.id, false});
      place_placeholder(it->second, inner, kZPlaceholder, shows_picture ? 0.0 : 1.0);
      placed[tile.id] = true;
      place_label(tile, inner);
    }
    if (auto source = sources_.find(VideoSource{tile.id, tile.content}); source != sources_.end())
      show_source(*source->second, inner, kZPicture + (tile.content ? 1 : 0));
  }
  if (!speaker_shown) g_object_set(speaker_frame_.pad, "alpha", 0.0, nullptr);
  for (auto& [source, branch] : sources_) {
    const bool shown = std::ranges::any_of(
        tiles, [&](const Tile& tile) { return tile.id == source.participant && tile.content == source.content; });
    if (!shown) hide_source(*branch);
  }
  for (auto* dropped : {&placeholders_, &labels_})
    for (auto it = dropped->begin(); it != dropped->end();) {
      if (placed.contains(it->first)) {
        ++it;
        continue;
      }
      drop_placeholder(it->second);
      it = dropped->erase(it);
    }
}

// Placed and made at the rect's size: a plain colour (or a label) costs a fill and a copy, never a
// scale. The source renegotiates its size when the capsfilter changes (a layout change).
void VideoCompositor::place_placeholder(Placeholder& placeholder, const Rect& rect, int zorder, double alpha) {
  if (alpha > 0.0 && (rect.width != placeholder.width || rect.height != placeholder.height) && rect.width > 0 &&
      rect.height > 0) {
    set_filter_caps(placeholder.elements.at(1), raw_caps(rect.width, rect.height, placeholder.fps));
    placeholder.width = rect.width;
    placeholder.height = rect.height;
  }
  place(placeholder.pad, rect, zorder, alpha);
}

void VideoCompositor::show_source(SourceBranch& branch, const Rect& rect, int zorder) {
  if (rect.width != branch.shown_at.width || rect.height != branch.shown_at.height)
    set_filter_caps(branch.tile_size, size_caps(rect.width, rect.height));
  branch.shown_at = rect;
  place(branch.pad, rect, zorder, 1.0);
}

// Hidden (alpha 0: the compositor skips it) and fitted into a tiny frame, so its decoded pictures
// cost no scaling while nobody sees them.
void VideoCompositor::hide_source(SourceBranch& branch) {
  g_object_set(branch.pad, "alpha", 0.0, nullptr);
  if (branch.shown_at.width == kUntiledSize && branch.shown_at.height == kUntiledSize) return;
  set_filter_caps(branch.tile_size, size_caps(kUntiledSize, kUntiledSize));
  branch.shown_at = Rect{0, 0, kUntiledSize, kUntiledSize};
}

void VideoCompositor::set_name(ParticipantId member, std::string name) {
  if (names_[member] == name) return;
  names_[member] = std::move(name);
  if (auto label = labels_.find(member); label != labels_.end()) {  // redrawn with the new text
    drop_placeholder(label->second);
    labels_.erase(label);
  }
}

// The member's name in a dark strip at the bottom left of its tile, above its picture, drawn at its
// own size (never stretched) and cut to the tile's width.
void VideoCompositor::place_label(const Tile& tile, const Rect& inner) {
  auto name = names_.find(tile.id);
  if (!labels_available_ || name == names_.end() || name->second.empty()) return;
  auto [it, fresh] = labels_.try_emplace(tile.id);
  if (fresh) {
    try {
      it->second = add_placeholder("label-" + std::to_string(tile.id),
                                   PlaceholderLook{0x000000, kLabelWidth, kLabelHeight, canvas_.fps, name->second});
    } catch (const std::exception& error) {
      labels_available_ = false;  // textoverlay missing: tiles go unlabelled, said once
      labels_.erase(it);
      CHORUS_LOG(kWarn, "video-mcu", "no name labels", {"error", error.what()});
      return;
    }
  }
  const int width = std::min(kLabelWidth, inner.width) & ~1;
  const int height = std::min(kLabelHeight, inner.height) & ~1;
  place_placeholder(it->second, Rect{inner.x, inner.y + inner.height - height, width, height}, kZLabel, kLabelAlpha);
}

void VideoCompositor::add_class(std::uint32_t class_id, VideoClassKey key, std::uint32_t bitrate_bps) {
  remove_class(class_id);
  const auto& info = codec_info(key.codec);
  auto branch = std::make_unique<ClassBranch>();
  branch->owner = this;
  branch->id = class_id;
  branch->key = key;
  const std::string base = "class-" + std::to_string(branch->id);
  GstElement* queue = make_element("queue", base + "-queue");
  g_object_set(queue, "max-size-buffers", kQueuedFramesPerClass, "max-size-bytes", 0U, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  std::vector<GstElement*> chain{queue};
  if (key.width != canvas_.width || key.height != canvas_.height) {
    chain.push_back(make_tile_scaler(base + "-scale"));
    chain.push_back(capsfilter(raw_caps(key.width, key.height, canvas_.fps), base + "-size"));
  }
  branch->encoder = make_element(info.encoder, base + "-enc");
  configure_encoder(branch->encoder, key.codec, bitrate_bps, canvas_.fps);
  chain.push_back(branch->encoder);
  if (key.codec == VideoCodec::kH264)  // what every SIP endpoint decodes (RFC 6184 profile-level-id 42e0xx)
    chain.push_back(capsfilter(gst_caps_from_string("video/x-h264,profile=constrained-baseline"), base + "-profile"));
  GstElement* payloader = make_element(info.payloader, base + "-pay");
  g_object_set(payloader, "mtu", kRtpMtu, "pt", static_cast<guint>(kClassPayloadType), nullptr);
  if (key.codec == VideoCodec::kH264) g_object_set(payloader, "config-interval", -1, nullptr);  // SPS/PPS per IDR
  if (key.codec == VideoCodec::kVp8) gst_util_set_object_arg(G_OBJECT(payloader), "picture-id-mode", "15-bit");
  chain.push_back(payloader);
  GstElement* appsink = make_element("appsink", base + "-out");
  g_object_set(appsink, "sync", FALSE, "async", FALSE, "emit-signals", TRUE, "max-buffers", 64U, "drop", TRUE, nullptr);
  g_signal_connect(appsink, "new-sample", G_CALLBACK(on_new_sample), branch.get());
  chain.push_back(appsink);
  for (GstElement* element : chain) gst_bin_add(GST_BIN(pipeline_.get()), element);
  for (std::size_t i = 1; i < chain.size(); ++i)
    if (!gst_element_link(chain[i - 1], chain[i]))
      throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(chain[i - 1]) + " → " +
                               GST_ELEMENT_NAME(chain[i]));
  GstPad* encoder_src = gst_element_get_static_pad(branch->encoder, "src");
  gst_pad_add_probe(encoder_src, GST_PAD_PROBE_TYPE_BUFFER, on_encoded_frame, branch.get(), nullptr);
  gst_object_unref(encoder_src);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) gst_element_sync_state_with_parent(*it);
  branch->elements = std::move(chain);
  branch->tee_pad = gst_element_request_pad_simple(tee_, "src_%u");
  GstPad* queue_sink = gst_element_get_static_pad(queue, "sink");
  const bool linked = GST_PAD_LINK_SUCCESSFUL(gst_pad_link(branch->tee_pad, queue_sink));
  gst_object_unref(queue_sink);
  if (!linked) throw std::runtime_error("cannot link a video class to the compositor's tee");
  classes_.emplace(class_id, std::move(branch));
}

void VideoCompositor::drop_class_branch(ClassBranch& branch) {
  gst_element_release_request_pad(tee_, branch.tee_pad);
  gst_object_unref(branch.tee_pad);
  branch.tee_pad = nullptr;
  for (GstElement* element : branch.elements) {
    gst_element_set_state(element, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_.get()), element);
  }
  branch.elements.clear();
}

void VideoCompositor::remove_class(std::uint32_t class_id) {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return;
  drop_class_branch(*it->second);
  classes_.erase(it);
}

void VideoCompositor::set_class_bitrate(std::uint32_t class_id, std::uint32_t bitrate_bps) {
  if (auto it = classes_.find(class_id); it != classes_.end())
    set_bitrate(it->second->encoder, it->second->key.codec, bitrate_bps);
}

void VideoCompositor::force_keyframe(std::uint32_t class_id) {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return;
  // An upstream force-key-unit event on the encoder's src pad: the encoder's next frame is a key
  // frame, with its headers (SPS/PPS for H.264).
  GstPad* encoder_src = gst_element_get_static_pad(it->second->encoder, "src");
  gst_pad_send_event(encoder_src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(encoder_src);
}

GstPadProbeReturn VideoCompositor::on_encoded_frame(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer user_data) {
  // The payloader and the appsink run in this same thread right after this probe, so the flag
  // describes exactly the packets of this frame.
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  auto* branch = static_cast<ClassBranch*>(user_data);
  branch->frame_is_key.store(buffer != nullptr && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT),
                             std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstFlowReturn VideoCompositor::on_new_sample(GstElement* appsink, gpointer user_data) {
  auto* branch = static_cast<ClassBranch*>(user_data);
  auto sample = gst::gst_adopt(gst_app_sink_pull_sample(GST_APP_SINK(appsink)));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (buffer == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  std::vector<std::uint8_t> rtp(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  branch->owner->listener_->on_packet(branch->id, std::move(rtp), branch->frame_is_key.load(std::memory_order_relaxed));
  return GST_FLOW_OK;
}

}  // namespace chorus::mixer
