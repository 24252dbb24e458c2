// VideoCompositor: one video MCU room's GStreamer pipeline (DESIGN §7 "Video model": the MCU
// encodes each layout class once and fans the result out).
//
//   per video source (a member's camera, or its content stream):
//     appsrc (RTP, leaky) → rtpjitterbuffer (50 ms, do-lost) → <depayloader> (wait for and request
//     keyframes) → <decoder> (never gives up on errors) → videoconvert (to I420) → tile scaler
//     (binomial halvings, then bicubic: fits the picture into the tile keeping its aspect ratio: tile_scaler.hpp) →
//     capsfilter (the tile's size) → compositor pad (the tile's rect: copied, never scaled)
//   per tile: a plain placeholder made at the tile's size, under the video (a member without
//     video, or before its first keyframe, still has its place); the speaker's tile is framed
//   a black 16×16 live source: keeps the compositor ticking when nobody sends
//   compositor (live, canvas size and rate) → tee →
//   per layout class (codec × size): queue (leaky, 2 frames) → [tile scaler] → <encoder>
//     → <payloader> (MTU 1200) → appsink → VideoCompositorListener::on_packet (keyframe marked)
//
// gst-launch equivalent of a two-sender, one-class room:
//   gst-launch-1.0 compositor name=mix force-live=true min-upstream-latency=150000000
//       sink_0::xpos=0 sink_0::width=640 sink_0::height=360 sink_1::xpos=640 sink_1::width=640
//       sink_1::height=360 ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1
//     ! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=1500000 lag-in-frames=0
//     ! rtpvp8pay mtu=1200 ! udpsink port=6000
//     udpsrc port=5000 caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8
//       ! rtpjitterbuffer latency=50 ! rtpvp8depay ! vp8dec ! mix.sink_0
//     udpsrc port=5002 caps=... ! rtpjitterbuffer latency=50 ! rtpvp8depay ! vp8dec ! mix.sink_1
//
// The streaming threads are GStreamer's (a decode thread per source, the compositor's, an encode
// thread per class): a video frame costs milliseconds, which must never hold up the media worker's
// 20 ms audio tick. The worker only pushes packets into a source's InputFeed (thread-safe) and
// gets the encoded packets back through the listener, which posts them to it.
//
// Threading: constructed, changed and destroyed on the chain thread (mixer/gst/chain_thread.hpp);
// InputFeed::push from any thread; the listener is called on GStreamer's streaming threads.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"
#include "mixer/video/video_codec.hpp"
#include "mixer/video/video_layout.hpp"

namespace chorus::mixer {

struct VideoCanvas {
  int width = 1280;
  int height = 720;
  int fps = 30;
};

// What a room composes: one member's camera, or its content stream (RFC 4796 a=content:slides).
struct VideoSource {
  ParticipantId participant = 0;
  bool content = false;
  friend auto operator<=>(const VideoSource&, const VideoSource&) = default;
};

// A layout class: receivers that take the same codec at the same size share one encode.
struct VideoClassKey {
  VideoCodec codec = VideoCodec::kVp8;
  int width = 0;
  int height = 0;
  friend auto operator<=>(const VideoClassKey&, const VideoClassKey&) = default;
};

// What the pipeline reports, on its streaming threads: keep it short (post elsewhere).
// The payload type of every class's RTP as the compositor makes it: receivers get it rewritten to
// theirs (VideoRoom), a recorder's tap takes it as it is.
inline constexpr std::uint8_t kClassPayloadType = 96;

class VideoCompositorListener {
 public:
  virtual ~VideoCompositorListener() = default;
  // One RTP packet of class `class_id`'s encode; `keyframe`: it belongs to a key frame (an IDR).
  virtual void on_packet(std::uint32_t class_id, std::vector<std::uint8_t> rtp, bool keyframe) = 0;
  // A source's depayloader or decoder lost its reference: ask the sender for a key frame.
  virtual void on_keyframe_wanted(VideoSource source) = 0;
  // An element could not use what it was given (a corrupt or truncated frame: the decoder conceals
  // it and goes on); `element` is its name, which names the source ("src-<participant>-dec").
  virtual void on_decode_error(const std::string& element, const std::string& error) {
    (void)element;
    (void)error;
  }
  // A source's decoded picture changed size mid-stream (a sender's resolution change, a 4K camera):
  // its tile scaler fits the new size into the same tile.
  virtual void on_resolution_change(VideoSource source, int width, int height) {
    (void)source;
    (void)width;
    (void)height;
  }
};

// Where the media worker pushes one source's RTP (decrypted). Thread-safe; holds the appsrc even
// after its branch is gone (a push then fails quietly).
class InputFeed {
 public:
  explicit InputFeed(gst::GstPtr<GstElement> appsrc) : appsrc_(std::move(appsrc)) {}
  // False when the source's branch no longer takes packets (removed, or its queue refused it).
  bool push(std::span<const std::uint8_t> rtp) const;

 private:
  gst::GstPtr<GstElement> appsrc_;
};

class VideoCompositor {
 public:
  static constexpr std::size_t kMaxQueuedInputPackets = 512;  // per source, then the oldest go

  // Builds the pipeline and starts it (std::runtime_error naming a missing plugin).
  VideoCompositor(VideoCanvas canvas, std::shared_ptr<VideoCompositorListener> listener);
  VideoCompositor(const VideoCompositor&) = delete;
  VideoCompositor& operator=(const VideoCompositor&) = delete;
  ~VideoCompositor();

  [[nodiscard]] const VideoCanvas& canvas() const { return canvas_; }

  // A source's decode branch, hidden until a tile shows it; the feed is where its RTP goes.
  std::shared_ptr<InputFeed> add_source(VideoSource source, VideoCodec codec, std::uint8_t payload_type);
  void remove_source(VideoSource source);
  [[nodiscard]] bool has_source(VideoSource source) const { return sources_.contains(source); }

  // Places every tile (compose_layout's result): its placeholder, its source's video when there is
  // one, the speaker's frame, the member's name; sources and placeholders not in `tiles` are hidden
  // or dropped.
  void set_tiles(const std::vector<Tile>& tiles);
  // The name a member's tile is labelled with (from its next set_tiles); empty: no label.
  void set_name(ParticipantId member, std::string name);

  // An encode of the composite for one class, named by the caller (the listener's class_id).
  void add_class(std::uint32_t class_id, VideoClassKey key, std::uint32_t bitrate_bps);
  void remove_class(std::uint32_t class_id);
  void set_class_bitrate(std::uint32_t class_id, std::uint32_t bitrate_bps);
  // The class's encoder makes its next frame a key frame (RFC 4585 PLI, RFC 5104 FIR).
  void force_keyframe(std::uint32_t class_id);

 private:
  struct SourceBranch;
  struct ClassBranch;
  // A small live picture of our own scaled onto the canvas: the background, a member's plain tile,
  // the speaker's frame, a name label.
  struct Placeholder {
    std::vector<GstElement*> elements;  // source, its capsfilter (the size), [textoverlay]; owned by the pipeline
    GstPad* pad = nullptr;              // compositor request pad (we hold a reference)
    int width = 0;                      // the size its capsfilter makes it
    int height = 0;
    int fps = 30;
  };
  struct PlaceholderLook {
    std::uint32_t rgb = 0;
    int width = 16;
    int height = 16;
    // The canvas's rate: a live source's latency is one frame, and the compositor waits for its
    // slowest live input (a 5 fps placeholder made every frame 200 ms late).
    int fps = 30;
    std::string text;  // drawn by textoverlay when not empty
  };

  GstElement* make_in_pipeline(const char* factory, const std::string& name);
  GstPad* request_compositor_pad();
  Placeholder add_placeholder(const std::string& name, const PlaceholderLook& look);
  void place_label(const Tile& tile, const Rect& inner);
  void place_placeholder(Placeholder& placeholder, const Rect& rect, int zorder, double alpha);
  void show_source(SourceBranch& branch, const Rect& rect, int zorder);
  void hide_source(SourceBranch& branch);
  void drop_placeholder(Placeholder& placeholder);
  void place(GstPad* pad, const Rect& rect, int zorder, double alpha);
  void drop_branch(std::vector<GstElement*>& elements, GstPad*& pad);
  void drop_class_branch(ClassBranch& branch);
  static GstPadProbeReturn on_upstream_event(GstPad* pad, GstPadProbeInfo* info, gpointer user_data);
  static GstPadProbeReturn on_decoded_caps(GstPad* pad, GstPadProbeInfo* info, gpointer user_data);
  static GstPadProbeReturn on_decoder_keyframe_request(GstPad* pad, GstPadProbeInfo* info, gpointer user_data);
  static GstBusSyncReply on_bus_message(GstBus* bus, GstMessage* message, gpointer user_data);
  static GstPadProbeReturn on_encoded_frame(GstPad* pad, GstPadProbeInfo* info, gpointer user_data);
  static GstFlowReturn on_new_sample(GstElement* appsink, gpointer user_data);

  VideoCanvas canvas_;
  std::shared_ptr<VideoCompositorListener> listener_;
  gst::GstPtr<GstElement> pipeline_;
  GstElement* compositor_ = nullptr;  // owned by the pipeline
  GstElement* tee_ = nullptr;
  Placeholder background_;
  Placeholder speaker_frame_;
  std::map<VideoSource, std::unique_ptr<SourceBranch>> sources_;
  std::map<ParticipantId, Placeholder> placeholders_;
  std::map<ParticipantId, std::string> names_;
  std::map<ParticipantId, Placeholder> labels_;
  bool labels_available_ = true;  // textoverlay (gstreamer1.0-x) is installed
  std::map<std::uint32_t, std::unique_ptr<ClassBranch>> classes_;
  std::uint64_t next_element_id_ = 1;
};

}  // namespace chorus::mixer
