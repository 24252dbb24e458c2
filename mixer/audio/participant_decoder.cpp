#include "mixer/audio/participant_decoder.hpp"

#include <algorithm>
#include <stdexcept>

#include "mixer/audio/gst_elements.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer {
namespace {

constexpr std::size_t kPrimedSamples = kFrameSamples * 3 / 2;

gst::GstPtr<GstCaps> rtp_caps(const AudioCodecInfo& info, std::uint8_t payload_type) {
  return gst::gst_adopt(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate",
                                            G_TYPE_INT, static_cast<int>(info.rtp_clock_rate), "encoding-name",
                                            G_TYPE_STRING, std::string(info.encoding_name).c_str(), "payload",
                                            G_TYPE_INT, static_cast<int>(payload_type), nullptr));
}

}  // namespace

ParticipantDecoder::ParticipantDecoder(GstBin* pipeline, AudioCodec codec, std::uint8_t payload_type, std::string name,
                                       std::chrono::milliseconds latency)
    : codec_(codec), pipeline_(pipeline) {
  gst::ensure_gst_initialized();
  const auto& info = codec_info(codec);
  bin_ = gst::gst_adopt_floating(gst_bin_new(name.c_str()));
  GstElement* jitter = make_element("rtpjitterbuffer");
  g_object_set(jitter, "latency", static_cast<guint>(latency.count()), "do-lost", TRUE, nullptr);
  GstElement* depayloader = make_element(info.depayloader);
  GstElement* decoder = make_element(info.decoder);
  if (codec == AudioCodec::kOpus) g_object_set(decoder, "plc", TRUE, "use-inband-fec", TRUE, nullptr);
  GstElement* convert = make_element("audioconvert");
  GstElement* resample = make_element("audioresample");
  GstElement* filter = make_element("capsfilter");
  auto mixing_caps = gst::gst_adopt(gst_caps_new_simple(
      "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, static_cast<int>(kSampleRateHz), "channels",
      G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr));
  g_object_set(filter, "caps", mixing_caps.get(), nullptr);
  GstElement* sink = make_element("appsink");
  g_object_set(sink, "sync", FALSE, "async", FALSE, "max-buffers", 16u, "drop", TRUE, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &ParticipantDecoder::on_new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
  add_and_link(GST_BIN(bin_.get()), {jitter, depayloader, decoder, convert, resample, filter, sink});

  src_pad_ = gst::gst_adopt(link_src_pad(jitter, "rtp"));
  gst_bin_add(pipeline_, bin_.get());
  gst_element_sync_state_with_parent(bin_.get());
  start_stream(src_pad_.get(), name, rtp_caps(info, payload_type).get());
}

ParticipantDecoder::~ParticipantDecoder() {
  // NULL joins the jitter buffer's streaming thread, so the callback is not running after this.
  gst_element_set_state(bin_.get(), GST_STATE_NULL);
  gst_pad_set_active(src_pad_.get(), FALSE);
  gst_bin_remove(pipeline_, bin_.get());
}

GstClockTime ParticipantDecoder::running_time() const {
  GstClock* clock = GST_ELEMENT_CLOCK(pipeline_);
  if (clock == nullptr) return GST_CLOCK_TIME_NONE;
  return gst_clock_get_time(clock) - gst_element_get_base_time(GST_ELEMENT(pipeline_));
}

bool ParticipantDecoder::push_rtp(std::span<const std::uint8_t> packet) {
  // GStreamer buffers are allocated (from GLib's slice allocator); this is the one allocation per
  // packet on the mixer's receive path.
  GstBuffer* buffer = gst_buffer_new_memdup(packet.data(), packet.size());
  // The jitter buffer takes the DTS as the arrival time (rtpjitterbuffer: "timestamped with the
  // time they were received").
  GST_BUFFER_DTS(buffer) = running_time();
  const GstFlowReturn flow = gst_pad_push(src_pad_.get(), buffer);
  if (flow != GST_FLOW_OK) {
    ++counters_.packets_refused;
    return false;
  }
  ++counters_.packets_pushed;
  return true;
}

GstFlowReturn ParticipantDecoder::on_new_sample(GstAppSink* sink, gpointer self) {
  auto sample = gst::gst_adopt(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (buffer == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  static_cast<ParticipantDecoder*>(self)->append_decoded(
      std::span<const Sample>(reinterpret_cast<const Sample*>(map.data), map.size / sizeof(Sample)));
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

void ParticipantDecoder::append_decoded(std::span<const Sample> samples) {
  constexpr std::size_t kMaxBuffered = kFrameSamples * kMaxBufferedFrames;
  if (samples.size() > kMaxBuffered) samples = samples.last(kMaxBuffered);
  std::lock_guard lock(ring_mutex_);
  if (ring_size_ + samples.size() > kMaxBuffered) {  // drop the oldest: keep the delay bounded
    const std::size_t excess = ring_size_ + samples.size() - kMaxBuffered;
    ring_read_ = (ring_read_ + excess) % kRingSamples;
    ring_size_ -= excess;
    samples_dropped_ += excess;
  }
  std::size_t write = (ring_read_ + ring_size_) % kRingSamples;
  for (std::size_t copied = 0; copied < samples.size();) {
    const std::size_t run = std::min(samples.size() - copied, kRingSamples - write);
    std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(copied), run,
                ring_.begin() + static_cast<std::ptrdiff_t>(write));
    copied += run;
    write = (write + run) % kRingSamples;
  }
  ring_size_ += samples.size();
}

bool ParticipantDecoder::pull_frame(AudioFrame& frame) {
  std::lock_guard lock(ring_mutex_);
  if (!primed_) {
    if (ring_size_ < kPrimedSamples) return false;
    primed_ = true;
  }
  if (ring_size_ < kFrameSamples) {
    primed_ = false;
    ++counters_.underruns;
    return false;
  }
  for (std::size_t copied = 0; copied < kFrameSamples;) {
    const std::size_t run = std::min(kFrameSamples - copied, kRingSamples - ring_read_);
    std::copy_n(ring_.begin() + static_cast<std::ptrdiff_t>(ring_read_), run,
                frame.begin() + static_cast<std::ptrdiff_t>(copied));
    copied += run;
    ring_read_ = (ring_read_ + run) % kRingSamples;
  }
  ring_size_ -= kFrameSamples;
  ++counters_.frames_pulled;
  return true;
}

DecoderCounters ParticipantDecoder::counters() const {
  DecoderCounters counters = counters_;
  std::lock_guard lock(ring_mutex_);
  counters.samples_dropped = samples_dropped_;
  return counters;
}

}  // namespace chorus::mixer
