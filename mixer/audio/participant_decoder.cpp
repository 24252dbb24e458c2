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
    : codec_(codec), pipeline_(gst::gst_share(GST_ELEMENT(pipeline))) {
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
  gst_bin_add(pipeline, bin_.get());
  gst_element_sync_state_with_parent(bin_.get());
  start_stream(src_pad_.get(), name, rtp_caps(info, payload_type).get());
}

ParticipantDecoder::~ParticipantDecoder() {
  // NULL joins the jitter buffer's streaming thread, so the callback is not running after this.
  gst_element_set_state(bin_.get(), GST_STATE_NULL);
  gst_pad_set_active(src_pad_.get(), FALSE);
  gst_bin_remove(GST_BIN(pipeline_.get()), bin_.get());
}

GstClockTime ParticipantDecoder::running_time() const {
  GstClock* clock = GST_ELEMENT_CLOCK(pipeline_.get());
  if (clock == nullptr) return GST_CLOCK_TIME_NONE;
  return gst_clock_get_time(clock) - gst_element_get_base_time(pipeline_.get());
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

namespace {

constexpr std::size_t kMaxBufferedSamples = kFrameSamples * ParticipantDecoder::kMaxBufferedFrames;

}  // namespace

void ParticipantDecoder::append_decoded(std::span<const Sample> samples) {
  const std::uint64_t write = written_.load(std::memory_order_relaxed);
  const std::uint64_t read = read_.load(std::memory_order_acquire);  // the worker is done with what it read
  const std::size_t room = kRingSamples - static_cast<std::size_t>(write - read);
  if (samples.size() > room) {  // the worker is far behind: keep what fits, it skips the oldest anyway
    samples_refused_.fetch_add(samples.size() - room, std::memory_order_relaxed);
    samples = samples.first(room);
  }
  std::size_t at = static_cast<std::size_t>(write % kRingSamples);
  for (std::size_t copied = 0; copied < samples.size();) {
    const std::size_t run = std::min(samples.size() - copied, kRingSamples - at);
    std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(copied), run,
                ring_.begin() + static_cast<std::ptrdiff_t>(at));
    copied += run;
    at = (at + run) % kRingSamples;
  }
  written_.store(write + samples.size(), std::memory_order_release);  // publishes the samples
}

bool ParticipantDecoder::pull_frame(AudioFrame& frame) {
  const std::uint64_t write = written_.load(std::memory_order_acquire);
  std::uint64_t read = read_.load(std::memory_order_relaxed);
  std::size_t buffered = static_cast<std::size_t>(write - read);
  if (buffered > kMaxBufferedSamples) {  // keep the delay bounded: the oldest goes
    samples_skipped_ += buffered - kMaxBufferedSamples;
    read += buffered - kMaxBufferedSamples;
    buffered = kMaxBufferedSamples;
  }
  bool pulled = false;
  if (!primed_ && buffered >= kPrimedSamples) primed_ = true;
  if (primed_ && buffered < kFrameSamples) {
    primed_ = false;
    ++counters_.underruns;
  } else if (primed_) {
    std::size_t at = static_cast<std::size_t>(read % kRingSamples);
    for (std::size_t copied = 0; copied < kFrameSamples;) {
      const std::size_t run = std::min(kFrameSamples - copied, kRingSamples - at);
      std::copy_n(ring_.begin() + static_cast<std::ptrdiff_t>(at), run,
                  frame.begin() + static_cast<std::ptrdiff_t>(copied));
      copied += run;
      at = (at + run) % kRingSamples;
    }
    read += kFrameSamples;
    ++counters_.frames_pulled;
    pulled = true;
  }
  read_.store(read, std::memory_order_release);  // hands the space back to the producer
  return pulled;
}

DecoderCounters ParticipantDecoder::counters() const {
  DecoderCounters counters = counters_;
  counters.samples_dropped = samples_skipped_ + samples_refused_.load(std::memory_order_relaxed);
  return counters;
}

}  // namespace chorus::mixer
