#include "mixer/audio/participant_decoder.hpp"

#include <algorithm>

#include "mixer/audio/gst_elements.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer {
namespace {

constexpr std::size_t kMaxBufferedSamples = kFrameSamples * ParticipantDecoder::kMaxBufferedFrames;
// What one tick's decoding may add on top: the FIFO never holds more than this.
constexpr std::size_t kMaxDecodedSamples = kMaxBufferedSamples + kFrameSamples;

gst::GstPtr<GstCaps> rtp_caps(const AudioCodecInfo& info, std::uint8_t payload_type) {
  return gst::gst_adopt(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate",
                                            G_TYPE_INT, static_cast<int>(info.rtp_clock_rate), "encoding-name",
                                            G_TYPE_STRING, std::string(info.encoding_name).c_str(), "payload",
                                            G_TYPE_INT, static_cast<int>(payload_type), nullptr));
}

PlayoutConfig with_clock_rate(PlayoutConfig config, const AudioCodecInfo& info) {
  config.clock_rate = info.rtp_clock_rate;
  return config;
}

}  // namespace

ParticipantDecoder::ParticipantDecoder(GstBin* pipeline, AudioCodec codec, std::uint8_t payload_type, std::string name,
                                       std::shared_ptr<MixerCounters> published, PlayoutConfig playout)
    : codec_(codec),
      clock_rate_(codec_info(codec).rtp_clock_rate),
      playout_(with_clock_rate(playout, codec_info(codec))),
      pipeline_(gst::gst_share(GST_ELEMENT(pipeline))),
      published_(std::move(published)) {
  decoded_.reserve(kMaxDecodedSamples);
  if (codec == AudioCodec::kPcmu || codec == AudioCodec::kPcma) {
    g711_.emplace(codec);
    g711_out_.reserve(Upsampler8kTo48k::kFactor * PlayoutBuffer::kMaxPacketBytes);
    return;
  }
  if (codec == AudioCodec::kOpus) {
    opus_.emplace();
    return;
  }
  gst::ensure_gst_initialized();
  const auto& info = codec_info(codec);
  bin_ = gst::gst_adopt_floating(gst_bin_new(name.c_str()));
  GstElement* depayloader = make_element(info.depayloader);
  GstElement* decoder = make_element(info.decoder);
  GstElement* convert = make_element("audioconvert");
  GstElement* resample = make_element("audioresample");
  GstElement* filter = make_element("capsfilter");
  auto mixing_caps = gst::gst_adopt(new_mixing_caps());
  g_object_set(filter, "caps", mixing_caps.get(), nullptr);
  add_and_link(GST_BIN(bin_.get()), {depayloader, decoder, convert, resample, filter});
  src_pad_ = gst::gst_adopt(link_src_pad(depayloader, "rtp"));
  sink_pad_ = gst::gst_adopt(link_sink_pad(filter, "pcm", &ParticipantDecoder::on_decoded, this));
  gst_bin_add(pipeline, bin_.get());
  gst_element_sync_state_with_parent(bin_.get());
  start_stream(src_pad_.get(), name, rtp_caps(info, payload_type).get());
}

ParticipantDecoder::~ParticipantDecoder() {
  if (!bin_) return;  // G.711, Opus: no chain
  gst_element_set_state(bin_.get(), GST_STATE_NULL);
  gst_pad_set_active(src_pad_.get(), FALSE);
  gst_pad_set_active(sink_pad_.get(), FALSE);
  gst_bin_remove(GST_BIN(pipeline_.get()), bin_.get());
}

void ParticipantDecoder::push_rtp(const media::RtpPacket& packet) {
  // The GStreamer depayloaders parse the RTP header themselves; G.711 and Opus need only the payload.
  playout_.push(packet.sequence_number(), packet.timestamp(), packet.ssrc(), bin_ ? packet.bytes() : packet.payload());
}

// Appends what fits under kMaxDecodedSamples to the FIFO; the rest is counted, not kept.
void ParticipantDecoder::append_decoded(std::span<const Sample> samples) {
  const std::size_t room = kMaxDecodedSamples - std::min(decoded_.size(), kMaxDecodedSamples);
  const std::size_t kept = std::min(samples.size(), room);
  decoded_.insert(decoded_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(kept));
  counters_.samples_dropped += samples.size() - kept;
}

// The stream's time from its RTP timestamps (RFC 3550 §5.1), unwrapped, starting at zero: what the
// depayloader stamps the audio with and the GAP of a lost packet is placed by.
GstClockTime ParticipantDecoder::pts_of(std::uint32_t timestamp) {
  if (!first_timestamp_) {
    first_timestamp_ = timestamp;
    last_timestamp_ = timestamp;
  }
  timestamp_span_ += static_cast<std::int32_t>(timestamp - last_timestamp_);
  last_timestamp_ = timestamp;
  if (timestamp_span_ < 0) timestamp_span_ = 0;  // a sender that restarted its timestamps behind us
  return gst_util_uint64_scale(static_cast<std::uint64_t>(timestamp_span_), GST_SECOND, clock_rate_);
}

void ParticipantDecoder::decode(std::span<const std::uint8_t> packet, std::uint32_t timestamp) {
  if (g711_) {
    g711_out_.clear();
    g711_->decode(packet, g711_out_);
    append_decoded(g711_out_);
    ++counters_.packets_decoded;
    return;
  }
  if (opus_) {
    if (const auto samples = opus_->decode(packet)) {
      append_decoded(*samples);
      ++counters_.packets_decoded;
    } else {
      count_refused();
    }
    return;
  }
  // GStreamer buffers are allocated (from GLib's slice allocator): the one allocation per packet.
  GstBuffer* buffer = gst_buffer_new_memdup(packet.data(), packet.size());
  GST_BUFFER_PTS(buffer) = pts_of(timestamp);
  if (gst_pad_push(src_pad_.get(), buffer) == GST_FLOW_OK)
    ++counters_.packets_decoded;
  else
    count_refused();
}

// A payload the decoder could not use (malformed Opus, a chain error): counted here and on /metrics
// with the playout buffer's drops (chorus_mixer_input_packets_dropped_total).
void ParticipantDecoder::count_refused() {
  ++counters_.packets_refused;
  if (published_) published_->input_packets_dropped.fetch_add(1, std::memory_order_relaxed);
}

void ParticipantDecoder::conceal(std::uint32_t timestamp, std::uint32_t duration) {
  // G.711 conceals as mulawdec/alawdec did here before: the lost packet is silence, through the
  // interpolator so the last packet's tail rings out. (ITU-T G.711 Appendix I's pitch-repeating
  // concealment would hide single losses better; it is a choice not yet made, see issue 13's notes.)
  if (g711_) {
    g711_out_.clear();
    g711_->decode_silence(std::min<std::size_t>(duration, kMaxDecodedSamples / Upsampler8kTo48k::kFactor), g711_out_);
    append_decoded(g711_out_);
    return;
  }
  // Opus (RTP clock = sample rate): from the next packet's in-band FEC when it is here, else PLC.
  if (opus_) {
    append_decoded(opus_->conceal(duration, playout_.upcoming()));
    return;
  }
  const std::size_t before = decoded_.size();
  // rtpjitterbuffer's loss event (its do-lost property): the depayloader turns it into a GAP, which
  // a decoder with PLC would fill with concealment (G.722's avdec_g722 has none).
  GstStructure* lost =
      gst_structure_new("GstRTPPacketLost", "timestamp", G_TYPE_UINT64, pts_of(timestamp), "duration", G_TYPE_UINT64,
                        gst_util_uint64_scale(duration, GST_SECOND, clock_rate_), nullptr);
  gst_pad_push_event(src_pad_.get(), gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, lost));
  if (decoded_.size() == before) {  // no PLC: the gap is silence
    const auto samples = static_cast<std::size_t>(std::uint64_t{duration} * kSampleRateHz / clock_rate_);
    decoded_.resize(std::min(before + samples, kMaxDecodedSamples), 0);
  }
}

GstFlowReturn ParticipantDecoder::on_decoded(GstPad* pad, GstObject* /*parent*/, GstBuffer* buffer) {
  auto* self = static_cast<ParticipantDecoder*>(GST_PAD_ELEMENT_PRIVATE(pad));
  auto owned = gst::gst_adopt(buffer);
  GstMapInfo map;
  if (self == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  self->append_decoded(std::span<const Sample>(reinterpret_cast<const Sample*>(map.data), map.size / sizeof(Sample)));
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

bool ParticipantDecoder::decode_next() {
  switch (playout_.next()) {
    case PlayoutStep::kDecode:
      decode(playout_.packet(), playout_.timestamp());
      return true;
    case PlayoutStep::kConceal:
      conceal(playout_.timestamp(), playout_.concealed_duration());
      return true;
    case PlayoutStep::kNothing:
      break;
  }
  return false;
}

bool ParticipantDecoder::pull_frame(AudioFrame& frame) {
  const bool was_primed = playout_.playing();
  playout_.start_tick();
  const bool was_playing = playout_.playing();
  if (!was_primed && was_playing && decoded_.empty() && decode_next() && decoded_.size() < kFrameSamples) {
    // A talkspurt's first packet comes out short by the resampler's filter delay. Taking the next
    // packet to make up the frame would spend the 20 ms of jitter the priming bought, so the frame
    // starts with that much silence instead, once.
    decoded_.insert(decoded_.begin(), kFrameSamples - decoded_.size(), Sample{0});
  }
  // Bounded: each step takes a packet or a sequence number out of a buffer of at most max_packets.
  for (std::size_t step = 0; decoded_.size() < kFrameSamples && step <= playout_.capacity(); ++step)
    if (!decode_next()) break;
  if (decoded_.size() > kMaxBufferedSamples) {  // the sender's clock runs fast: the oldest goes
    const std::size_t excess = decoded_.size() - kMaxBufferedSamples;
    decoded_.erase(decoded_.begin(), decoded_.begin() + static_cast<std::ptrdiff_t>(excess));
    counters_.samples_dropped += excess;
  }
  publish_playout_counters();
  if (decoded_.size() < kFrameSamples) {
    // The talkspurt ended mid-frame: its last samples play now, not before the next one.
    if (decoded_.empty() || !was_playing || playout_.playing()) return false;
    decoded_.resize(kFrameSamples, 0);
  }
  std::copy_n(decoded_.begin(), kFrameSamples, frame.begin());
  decoded_.erase(decoded_.begin(), decoded_.begin() + static_cast<std::ptrdiff_t>(kFrameSamples));
  ++counters_.frames_pulled;
  return true;
}

void ParticipantDecoder::publish_playout_counters() {
  if (!published_) return;
  const PlayoutCounters& now = playout_.counters();
  const auto dropped = [](const PlayoutCounters& c) { return c.late + c.duplicates + c.refused + c.skipped; };
  if (const std::uint64_t more = dropped(now) - dropped(reported_); more > 0)
    published_->input_packets_dropped.fetch_add(more, std::memory_order_relaxed);
  if (const std::uint64_t more = now.lost - reported_.lost; more > 0)
    published_->input_packets_concealed.fetch_add(more, std::memory_order_relaxed);
  reported_ = now;
}

DecoderCounters ParticipantDecoder::counters() const {
  DecoderCounters counters = counters_;
  counters.playout = playout_.counters();
  return counters;
}

}  // namespace chorus::mixer
