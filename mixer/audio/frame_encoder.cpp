#include "mixer/audio/frame_encoder.hpp"

#include <algorithm>

#include "mixer/audio/gst_elements.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer {
namespace {

constexpr std::size_t kMaxPendingOctets = 16 * 1024;  // a stuck encoder never grows us unbounded
// Opus for voice at a rate every softphone decodes well (RFC 7587 §3.1.1: 24 kbit/s for
// fullband speech); complexity 5 is the cost the capacity targets assume.
constexpr int kOpusBitrate = 32'000;
constexpr int kOpusComplexity = 5;

}  // namespace

FrameEncoder::FrameEncoder(AudioCodec codec, std::string name) : codec_(codec) {
  gst::ensure_gst_initialized();
  const auto& info = codec_info(codec);
  bin_ = gst::gst_adopt_floating(gst_bin_new(name.c_str()));
  GstElement* convert = make_element("audioconvert");
  GstElement* resample = make_element("audioresample");
  GstElement* filter = make_element("capsfilter");
  auto caps =
      gst::gst_adopt(gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                                         static_cast<int>(info.sample_rate), "channels", G_TYPE_INT, 1, nullptr));
  g_object_set(filter, "caps", caps.get(), nullptr);
  GstElement* encoder = make_element(info.encoder);
  if (codec == AudioCodec::kOpus) {
    // frame-size 20 is the enum's "20" nick; audio-type "voice" (2048).
    gst_util_set_object_arg(G_OBJECT(encoder), "frame-size", "20");
    gst_util_set_object_arg(G_OBJECT(encoder), "audio-type", "voice");
    g_object_set(encoder, "bitrate", kOpusBitrate, "complexity", kOpusComplexity, "inband-fec", TRUE, nullptr);
  }
  add_and_link(GST_BIN(bin_.get()), {convert, resample, filter, encoder});
  src_pad_ = gst::gst_adopt(link_src_pad(convert, "pcm"));
  sink_pad_ = gst::gst_adopt(link_sink_pad(encoder, "encoded", &FrameEncoder::on_encoded, this));
  gst_element_set_state(bin_.get(), GST_STATE_PLAYING);
  auto input_caps = gst::gst_adopt(new_mixing_caps());
  start_stream(src_pad_.get(), name, input_caps.get());
}

FrameEncoder::~FrameEncoder() {
  gst_element_set_state(bin_.get(), GST_STATE_NULL);
  gst_pad_set_active(src_pad_.get(), FALSE);
  gst_pad_set_active(sink_pad_.get(), FALSE);
}

GstFlowReturn FrameEncoder::on_encoded(GstPad* pad, GstObject* /*parent*/, GstBuffer* buffer) {
  auto* self = static_cast<FrameEncoder*>(GST_PAD_ELEMENT_PRIVATE(pad));
  auto owned = gst::gst_adopt(buffer);
  GstMapInfo map;
  if (self == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  if (self->codec_ == AudioCodec::kOpus) self->pending_.clear();  // packets: the latest one counts
  if (self->pending_.size() + map.size <= kMaxPendingOctets)
    self->pending_.insert(self->pending_.end(), map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

std::span<const std::uint8_t> FrameEncoder::encode(FrameView pcm) {
  payload_.clear();
  if (pcm.size() != kFrameSamples) return {};
  GstBuffer* buffer = gst_buffer_new_memdup(pcm.data(), pcm.size_bytes());
  GST_BUFFER_PTS(buffer) = frames_ * 20 * GST_MSECOND;
  GST_BUFFER_DURATION(buffer) = 20 * GST_MSECOND;
  if (frames_ == 0) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  ++frames_;
  if (gst_pad_push(src_pad_.get(), buffer) != GST_FLOW_OK) return {};
  const auto& info = codec_info(codec_);
  if (!info.sample_stream) {
    payload_.swap(pending_);
    pending_.clear();
  } else if (pending_.size() >= info.bytes_per_20ms) {
    payload_.assign(pending_.begin(), pending_.begin() + info.bytes_per_20ms);
    pending_.erase(pending_.begin(), pending_.begin() + info.bytes_per_20ms);
  }
  return payload_;
}

}  // namespace chorus::mixer
