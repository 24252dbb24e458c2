#include "mixer/recording/recorder.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/log.hpp"
#include "mixer/audio/gst_elements.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "mixer/video/video_codec.hpp"

namespace chorus::mixer {
namespace {

using gst::GstPtr;

// A pusher more than this far behind the clock stalled (or the room sent nothing): its next frame
// starts a new stretch at the clock's time, so the audio keeps its place against the video.
constexpr GstClockTime kReanchorAfter = 100 * GST_MSECOND;
// A pusher this far ahead of the clock pushes faster than real time: its frames are dropped rather
// than let the audio drift later than the video.
constexpr GstClockTime kMaxAudioAhead = 200 * GST_MSECOND;
// With no audio pushed for this long, the recorder's thread fills the track with silence up to
// kFillSlack before the clock (the muxer waits for every track; see the header). The slack leaves
// the pusher's next frame room to land at its own time rather than after the silence.
constexpr GstClockTime kFillAfter = 300 * GST_MSECOND;
constexpr GstClockTime kFillSlack = 100 * GST_MSECOND;
// What each appsrc holds before pushes are dropped: about 2 s of input either way.
constexpr guint64 kMaxQueuedAudioBytes = 2 * kSampleRateHz * sizeof(Sample);  // 192 kB of PCM
constexpr guint64 kMaxQueuedVideoBytes = 1024 * 1024;                         // 2 s at 4 Mbit/s
// Encoded media held before the muxer while it waits for the other track (or a slow disk).
constexpr guint64 kMuxQueueTime = 5 * GST_SECOND;
constexpr int kOpusBitrate = 48'000;     // the mix is speech, mono: transparent at this rate
constexpr std::size_t kMinRtpSize = 12;  // RFC 3550 §5.1: the fixed header
constexpr GstClockTime kBusPoll = 50 * GST_MSECOND;
constexpr std::chrono::seconds kFinalizeTimeout{5};
constexpr std::chrono::seconds kDropLogInterval{5};
constexpr const char* kLimitMessage = "chorus-recorder-limit";

std::string_view video_name(RecordingVideo video) {
  switch (video) {
    case RecordingVideo::kNone:
      return "none";
    case RecordingVideo::kVp8:
      return "vp8";
    case RecordingVideo::kH264:
      return "h264";
  }
  return "?";
}

std::string_view end_name(RecorderEnd end) {
  switch (end) {
    case RecorderEnd::kStopped:
      return "stopped";
    case RecorderEnd::kLimitReached:
      return "limit-reached";
    case RecorderEnd::kFailed:
      return "failed";
  }
  return "?";
}

// "<element>: <message> (<debug>)" of an ERROR message.
std::string error_text(GstMessage* message) {
  GError* raw_error = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(message, &raw_error, &raw_debug);
  const GstPtr<GError> error = gst::gst_adopt(raw_error);
  const GstPtr<gchar> debug = gst::gst_adopt(raw_debug);
  std::string text = error ? error->message : "unknown error";
  if (GST_MESSAGE_SRC(message) != nullptr) text = std::string(GST_MESSAGE_SRC_NAME(message)) + ": " + text;
  if (debug) text += std::string(" (") + debug.get() + ")";
  return text;
}

GstElement* make_capsfilter(GstCaps* caps, const char* name) {
  GstElement* filter = make_element("capsfilter", name);
  g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  return filter;
}

GstElement* make_mux_queue(const char* name) {
  GstElement* queue = make_element("queue", name);
  g_object_set(queue, "max-size-time", kMuxQueueTime, "max-size-buffers", 0U, nullptr);
  return queue;
}

GstElement* make_appsrc(const char* name, GstCaps* caps, guint64 max_bytes) {
  GstElement* src = make_element("appsrc", name);
  // We stamp every buffer ourselves when it is pushed (not do-timestamp, which stamps when the
  // streaming thread takes it: late by however long the queue was), so audio and video share a clock.
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp", FALSE, "max-bytes",
               max_bytes, "block", FALSE, nullptr);
  // A second bound behind our own level check in the push: a full queue drops, never blocks.
  gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "upstream");
  gst_caps_unref(caps);
  return src;
}

// Stores `value` in `target` when better(value, current) (std::less: a minimum; std::greater: a maximum).
template <typename Compare>
void store_if(std::atomic<GstClockTime>& target, GstClockTime value, Compare better) {
  GstClockTime current = target.load(std::memory_order_relaxed);
  while (better(value, current) && !target.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

struct Recorder::State {
  State(RecorderSpec s, Finished f) : spec(std::move(s)), finished(std::move(f)) {}
  ~State() {
    if (pipeline) gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void build();
  void build_video();
  void link_to_mux(GstElement* last, const char* pad_template);
  std::expected<void, std::string> play();
  void run();
  bool on_message(GstMessage* message, RecorderResult& result);
  void end_streams();
  void drop() { dropped.fetch_add(1, std::memory_order_relaxed); }

  [[nodiscard]] GstClockTime running_time() const {
    const GstClockTime now = gst_clock_get_time(clock.get());
    return now > base_time ? now - base_time : 0;
  }
  [[nodiscard]] GstClockTime audio_next() const {
    return audio_anchor.value_or(0) + gst_util_uint64_scale(audio_samples, GST_SECOND, kSampleRateHz);
  }
  void push_audio_locked(std::span<const Sample> frame, std::size_t samples, GstClockTime pts);
  void fill_silence();

  static GstPadProbeReturn count_bytes(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn note_media_time(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  const RecorderSpec spec;
  const Finished finished;
  GstPtr<GstElement> pipeline;
  GstElement* audio_src = nullptr;  // these four are owned by the pipeline
  GstElement* video_src = nullptr;
  GstElement* mux = nullptr;
  GstElement* sink = nullptr;
  GstPtr<GstClock> clock;
  GstClockTime base_time = 0;

  std::atomic<bool> accepting{true};  // false after stop, the limit or a failure: pushes are dropped
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> limit_reached{false};
  std::atomic<std::uint64_t> position{0};  // where the file sink writes next (the muxer seeks back to close
                                           // a cluster, and at the end to write the duration)
  std::atomic<std::uint64_t> size{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<GstClockTime> first_time{GST_CLOCK_TIME_NONE};
  std::atomic<GstClockTime> last_time{0};

  // The audio timeline: frames are stamped anchor + samples since it, so they are back to back.
  std::mutex audio_mutex;
  std::optional<GstClockTime> audio_anchor;
  std::uint64_t audio_samples = 0;
  bool audio_discont = true;
  bool audio_filled = false;  // the last frame was the filler's silence
};

void Recorder::State::build() {
  pipeline = gst::gst_adopt_floating(gst_pipeline_new("recorder"));
  GstBin* bin = GST_BIN(pipeline.get());
  const bool webm = spec.video != RecordingVideo::kH264;  // WebM carries VP8 and Opus, not H.264
  mux = make_element(webm ? "webmmux" : "matroskamux", "mux");
  // Not streamable: at EOS the muxer seeks back and writes the duration and the cues.
  g_object_set(mux, "streamable", FALSE, nullptr);
  sink = make_element("filesink", "file");
  // Unbuffered: each buffer the muxer makes is written (writev) before the next, so a crash (SIGKILL)
  // loses nothing the muxer made, and the file decodes up to the kill. filesink's default keeps up to
  // 64 KiB in memory until the muxer seeks back to close a cluster (with video: at a key frame, 10 s
  // apart from the video MCU), all of which a kill lost (tests: WhatTheMuxerMadeIsInTheFileBeforeTheEnd).
  g_object_set(sink, "location", spec.path.c_str(), "sync", FALSE, "enable-last-sample", FALSE, nullptr);
  gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");
  add_and_link(bin, {mux, sink});
  GstPtr<GstPad> sink_pad = gst::gst_adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_add_probe(sink_pad.get(),
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                                 GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    count_bytes, this, nullptr);

  audio_src = make_appsrc("audio", new_mixing_caps(), kMaxQueuedAudioBytes);
  GstElement* encoder = make_element("opusenc", "opus");
  // Perfect timestamps: the encoder checks each input's time against its sample count and, past the
  // tolerance (half a frame: one dropped frame is enough), resyncs at the input's time; hard resync:
  // it drains itself first. Without them, at a re-anchored gap a whole 20 ms frame of the new stretch
  // went out stamped before the gap (GStreamer 1.22, opusenc's default non-perfect mode).
  g_object_set(encoder, "bitrate", kOpusBitrate, "perfect-timestamp", TRUE, "hard-resync", TRUE, "tolerance",
               static_cast<gint64>(kFrameDuration.count() * GST_MSECOND / 2), nullptr);
  GstElement* queue = make_mux_queue("audio-queue");
  add_and_link(bin, {audio_src, make_element("audioconvert", "audioconvert"), encoder, queue});
  link_to_mux(queue, "audio_%u");
  if (spec.video != RecordingVideo::kNone) build_video();
}

void Recorder::State::build_video() {
  const VideoCodec codec = spec.video == RecordingVideo::kVp8 ? VideoCodec::kVp8 : VideoCodec::kH264;
  const VideoCodecInfo& info = codec_info(codec);
  GstCaps* caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate", G_TYPE_INT,
                                      static_cast<int>(kVideoRtpClockRate), "encoding-name", G_TYPE_STRING,
                                      std::string(info.encoding_name).c_str(), "payload", G_TYPE_INT,
                                      static_cast<int>(spec.video_payload_type), nullptr);
  video_src = make_appsrc("video", caps, kMaxQueuedVideoBytes);
  GstElement* depayloader = make_element(info.depayloader, "depay");
  // A file that starts (or resumes after a loss) with a delta frame does not decode until the next
  // key frame; better to leave the gap out.
  g_object_set(depayloader, "wait-for-keyframe", TRUE, nullptr);
  GstElement* queue = make_mux_queue("video-queue");
  GstBin* bin = GST_BIN(pipeline.get());
  if (codec == VideoCodec::kVp8) {
    add_and_link(bin, {video_src, depayloader, queue});
  } else {
    // Matroska's V_MPEG4/ISO/AVC keeps SPS/PPS in codec_data and length-prefixed access units:
    // h264parse makes both from the in-band parameter sets our payloader sends with every IDR.
    GstCaps* avc = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "avc", "alignment",
                                       G_TYPE_STRING, "au", nullptr);
    add_and_link(bin,
                 {video_src, depayloader, make_element("h264parse", "h264parse"), make_capsfilter(avc, "avc"), queue});
  }
  link_to_mux(queue, "video_%u");
}

void Recorder::State::link_to_mux(GstElement* last, const char* pad_template) {
  const GstPtr<GstPad> mux_pad = gst::gst_adopt(gst_element_request_pad_simple(mux, pad_template));
  const GstPtr<GstPad> src = gst::gst_adopt(gst_element_get_static_pad(last, "src"));
  if (!mux_pad || !src || GST_PAD_LINK_FAILED(gst_pad_link(src.get(), mux_pad.get())))
    throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(last) + " to the muxer's " + pad_template);
  gst_pad_add_probe(mux_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, note_media_time, this, nullptr);
}

std::expected<void, std::string> Recorder::State::play() {
  // Our own clock and base time, fixed before PLAYING, so a push right after start() can already be
  // stamped with the running time (the pipeline would otherwise pick its base time during the state
  // change, on the way to PLAYING).
  clock = gst::gst_adopt(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(pipeline.get()), clock.get());
  gst_element_set_start_time(pipeline.get(), GST_CLOCK_TIME_NONE);
  base_time = gst_clock_get_time(clock.get());
  gst_element_set_base_time(pipeline.get(), base_time);
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) return {};
  const GstPtr<GstBus> bus = gst::gst_adopt(gst_element_get_bus(pipeline.get()));
  const GstPtr<GstMessage> error = gst::gst_adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return std::unexpected(error ? error_text(error.get()) : std::string("the recording pipeline does not start"));
}

GstPadProbeReturn Recorder::State::count_bytes(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer self) {
  auto& state = *static_cast<State*>(self);
  std::uint64_t bytes = 0;
  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) != 0) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    const GstSegment* segment = nullptr;
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) gst_event_parse_segment(event, &segment);
    // A BYTES segment moves the file sink's write position (the muxer rewriting its header).
    if (segment != nullptr && segment->format == GST_FORMAT_BYTES)
      state.position.store(segment->start, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
  }
  if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info); (info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0)
    bytes = gst_buffer_get_size(buffer);
  else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info); list != nullptr)
    bytes = gst_buffer_list_calculate_size(list);
  // Only the muxer's streaming thread writes these; others only read.
  const std::uint64_t end = state.position.load(std::memory_order_relaxed) + bytes;
  state.position.store(end, std::memory_order_relaxed);
  if (end > state.size.load(std::memory_order_relaxed)) state.size.store(end, std::memory_order_relaxed);
  // Only while recording: the cues written after a stop may pass the limit too, and it was a stop.
  if (state.spec.max_bytes != 0 && end > state.spec.max_bytes && state.accepting.load(std::memory_order_relaxed) &&
      !state.limit_reached.exchange(true)) {
    // Not an error: the recorder's thread ends the streams, so the file is finalized as on stop().
    GstStructure* structure = gst_structure_new_empty(kLimitMessage);
    gst_element_post_message(state.sink, gst_message_new_application(GST_OBJECT(state.sink), structure));
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Recorder::State::note_media_time(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer self) {
  auto& state = *static_cast<State*>(self);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  const GstClockTime start = GST_BUFFER_PTS(buffer);
  const GstClockTime end = start + (GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : 0);
  store_if(state.first_time, start, std::less<>());
  store_if(state.last_time, end, std::greater<>());
  return GST_PAD_PROBE_OK;
}

// `frame` holds the samples, or is empty for `samples` of silence. The caller holds audio_mutex.
void Recorder::State::push_audio_locked(std::span<const Sample> frame, std::size_t samples, GstClockTime pts) {
  const GstClockTime end = pts + gst_util_uint64_scale(samples, GST_SECOND, kSampleRateHz);
  audio_samples += samples;  // a dropped frame's time passes all the same
  const guint64 bytes = samples * sizeof(Sample);
  if (gst_app_src_get_current_level_bytes(GST_APP_SRC(audio_src)) + bytes > kMaxQueuedAudioBytes) {
    drop();
    audio_discont = true;
    return;
  }
  GstBuffer* buffer = nullptr;
  if (frame.empty()) {
    buffer = gst_buffer_new_allocate(nullptr, bytes, nullptr);
    gst_buffer_memset(buffer, 0, 0, bytes);
  } else {
    buffer = gst_buffer_new_memdup(frame.data(), bytes);
  }
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = end - pts;
  if (audio_discont) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  audio_discont = false;
  gst_app_src_push_buffer(GST_APP_SRC(audio_src), buffer);  // takes the buffer; after EOS it is dropped
}

// On the recorder's thread: silence for the stretch nobody pushed, so the muxer never waits on
// the audio track (a room may push nothing while it is quiet).
void Recorder::State::fill_silence() {
  const std::lock_guard lock(audio_mutex);
  if (!accepting.load(std::memory_order_relaxed)) return;
  const GstClockTime now = running_time();
  if (now < (audio_anchor ? audio_next() : 0) + kFillAfter) return;
  if (!audio_anchor) audio_anchor = 0;  // nothing pushed yet: the track starts with the recording
  constexpr GstClockTime kFrame = kFrameDuration.count() * GST_MSECOND;
  while (audio_next() + kFrame + kFillSlack <= now) push_audio_locked({}, kFrameSamples, audio_next());
  audio_filled = true;
}

void Recorder::State::end_streams() {
  {
    const std::lock_guard lock(audio_mutex);  // no silence after the audio's EOS
    accepting.store(false);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(audio_src));
  if (video_src != nullptr) gst_app_src_end_of_stream(GST_APP_SRC(video_src));
}

// True when the recording is over (finalized or failed); `result` says how.
bool Recorder::State::on_message(GstMessage* message, RecorderResult& result) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      result.end = limit_reached.load() ? RecorderEnd::kLimitReached : RecorderEnd::kStopped;
      return true;
    case GST_MESSAGE_ERROR:
      accepting.store(false);
      result.end = RecorderEnd::kFailed;
      result.error = error_text(message);
      return true;
    case GST_MESSAGE_APPLICATION:
      if (gst_structure_has_name(gst_message_get_structure(message), kLimitMessage)) {
        CHORUS_LOG(kInfo, "recorder", "size limit reached, finalizing", {"path", spec.path.string()},
                   {"max_bytes", spec.max_bytes});
        end_streams();
      }
      return false;
    default:
      return false;
  }
}

void Recorder::State::run() {
  const GstPtr<GstBus> bus = gst::gst_adopt(gst_element_get_bus(pipeline.get()));
  RecorderResult result;
  std::optional<std::chrono::steady_clock::time_point> give_up_at;
  auto drops_logged_at = std::chrono::steady_clock::now();
  std::uint64_t drops_logged = 0;
  const auto wanted = static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_APPLICATION);
  for (bool over = false; !over;) {
    const auto now = std::chrono::steady_clock::now();
    if (!give_up_at && (stop_requested.load() || limit_reached.load())) give_up_at = now + kFinalizeTimeout;
    if (const GstPtr<GstMessage> message = gst::gst_adopt(gst_bus_timed_pop_filtered(bus.get(), kBusPoll, wanted))) {
      over = on_message(message.get(), result);
    } else if (give_up_at && now > *give_up_at) {
      result.end = RecorderEnd::kFailed;  // the disk stalled, most likely: the file may lack its cues
      result.error = "the recording was not finalized within " + std::to_string(kFinalizeTimeout.count()) + " s";
      over = true;
    }
    if (!over) fill_silence();
    if (const auto count = dropped.load(); count != drops_logged && now - drops_logged_at >= kDropLogInterval) {
      CHORUS_LOG(kWarn, "recorder", "pushes dropped: a queue is full", {"path", spec.path.string()},
                 {"dropped", count});
      drops_logged = count;
      drops_logged_at = now;
    }
  }
  accepting.store(false);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  result.bytes = size.load();
  if (const GstClockTime first = first_time.load(); first != GST_CLOCK_TIME_NONE && last_time.load() > first)
    result.duration = std::chrono::milliseconds((last_time.load() - first) / GST_MSECOND);
  if (result.end == RecorderEnd::kFailed)
    CHORUS_LOG(kWarn, "recorder", "recording failed", {"path", spec.path.string()}, {"error", result.error},
               {"bytes", result.bytes});
  else
    CHORUS_LOG(kInfo, "recorder", "recording finished", {"path", spec.path.string()}, {"end", end_name(result.end)},
               {"bytes", result.bytes}, {"duration_ms", result.duration.count()});
  if (finished) finished(result);
}

Recorder::Recorder(std::shared_ptr<State> state) : state_(std::move(state)) {}

std::expected<std::unique_ptr<Recorder>, std::string> Recorder::start(RecorderSpec spec, Finished finished) {
  gst::ensure_gst_initialized();
  auto state = std::make_shared<State>(std::move(spec), std::move(finished));
  try {
    state->build();
  } catch (const std::exception& error) {
    return std::unexpected(std::string(error.what()));
  }
  if (auto started = state->play(); !started)
    return std::unexpected(state->spec.path.string() + ": " + started.error());
  std::unique_ptr<Recorder> recorder(new Recorder(state));
  // The thread holds the state too: if Finished destroys the Recorder, the thread still has it.
  recorder->thread_ = std::thread([state] { state->run(); });
  CHORUS_LOG(kInfo, "recorder", "recording started", {"path", state->spec.path.string()},
             {"video", video_name(state->spec.video)}, {"max_bytes", state->spec.max_bytes});
  return recorder;
}

void Recorder::push_audio(std::span<const std::int16_t> frame) {
  State& state = *state_;
  if (!state.accepting.load(std::memory_order_relaxed) || frame.empty()) return;
  const std::lock_guard lock(state.audio_mutex);
  if (!state.accepting.load(std::memory_order_relaxed)) return;  // stopped while we waited
  const GstClockTime now = state.running_time();
  // After the filler's silence the pusher's frame goes where it belongs: at the clock's time.
  if (!state.audio_anchor || now > state.audio_next() + kReanchorAfter ||
      (state.audio_filled && now > state.audio_next())) {
    state.audio_anchor = now;
    state.audio_samples = 0;
    state.audio_discont = true;
  } else if (state.audio_next() > now + kMaxAudioAhead) {
    state.drop();
    return;
  }
  state.audio_filled = false;
  state.push_audio_locked(frame, frame.size(), state.audio_next());
}

void Recorder::push_video_rtp(std::span<const std::uint8_t> rtp) {
  State& state = *state_;
  if (state.video_src == nullptr || !state.accepting.load(std::memory_order_relaxed) || rtp.size() < kMinRtpSize)
    return;
  auto* src = GST_APP_SRC(state.video_src);
  if (gst_app_src_get_current_level_bytes(src) + rtp.size() > kMaxQueuedVideoBytes) {
    state.drop();
    return;
  }
  GstBuffer* buffer = gst_buffer_new_memdup(rtp.data(), rtp.size());
  GST_BUFFER_PTS(buffer) = state.running_time();
  gst_app_src_push_buffer(src, buffer);
}

void Recorder::stop() {
  if (state_->stop_requested.exchange(true)) return;
  state_->end_streams();
}

std::uint64_t Recorder::bytes_written() const {
  return state_->size.load(std::memory_order_relaxed);
}

std::uint64_t Recorder::dropped() const {
  return state_->dropped.load(std::memory_order_relaxed);
}

Recorder::~Recorder() {
  stop();
  if (!thread_.joinable()) return;
  // Destroyed from inside Finished, on the thread itself: it cannot join itself, and it needs
  // nothing of ours (it holds the state).
  if (thread_.get_id() == std::this_thread::get_id())
    thread_.detach();
  else
    thread_.join();  // bounded: the thread gives up kFinalizeTimeout after the stop
}

}  // namespace chorus::mixer
