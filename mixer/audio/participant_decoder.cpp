#include "mixer/audio/participant_decoder.hpp"

#include <algorithm>

namespace chorus::mixer {
namespace {

constexpr std::size_t kMaxBufferedSamples = kFrameSamples * ParticipantDecoder::kMaxBufferedFrames;
// What one tick's decoding may add on top: the FIFO never holds more than this.
constexpr std::size_t kMaxDecodedSamples = kMaxBufferedSamples + kFrameSamples;
// G.711 and G.722 give 6 samples at 48 kHz per payload octet (8 kHz × 1 octet, 16 kHz × ½ octet).
constexpr std::size_t kSamplesPerOctet = 6;

PlayoutConfig with_clock_rate(PlayoutConfig config, const AudioCodecInfo& info) {
  config.clock_rate = info.rtp_clock_rate;
  return config;
}

}  // namespace

ParticipantDecoder::ParticipantDecoder(AudioCodec codec, std::shared_ptr<MixerCounters> published,
                                       PlayoutConfig playout)
    : codec_(codec), playout_(with_clock_rate(playout, codec_info(codec))), published_(std::move(published)) {
  decoded_.reserve(kMaxDecodedSamples);
  switch (codec) {
    case AudioCodec::kPcmu:
    case AudioCodec::kPcma:
      g711_.emplace(codec);
      break;
    case AudioCodec::kG722:
      g722_.emplace();
      break;
    case AudioCodec::kOpus:
      opus_.emplace();
      return;
  }
  packet_out_.reserve(kSamplesPerOctet * PlayoutBuffer::kMaxPacketBytes);
}

void ParticipantDecoder::push_rtp(const media::RtpPacket& packet) {
  playout_.push(packet.sequence_number(), packet.timestamp(), packet.ssrc(), packet.payload());
}

// Appends what fits under kMaxDecodedSamples to the FIFO; the rest is counted, not kept.
void ParticipantDecoder::append_decoded(std::span<const Sample> samples) {
  const std::size_t room = kMaxDecodedSamples - std::min(decoded_.size(), kMaxDecodedSamples);
  const std::size_t kept = std::min(samples.size(), room);
  decoded_.insert(decoded_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(kept));
  counters_.samples_dropped += samples.size() - kept;
}

void ParticipantDecoder::decode(std::span<const std::uint8_t> payload) {
  if (opus_) {
    if (const auto samples = opus_->decode(payload)) {
      append_decoded(*samples);
      ++counters_.packets_decoded;
    } else {
      count_refused();
    }
    return;
  }
  packet_out_.clear();
  if (g711_) g711_->decode(payload, packet_out_);
  if (g722_) g722_->decode(payload, packet_out_);
  append_decoded(packet_out_);
  ++counters_.packets_decoded;
}

// A payload the decoder could not use (malformed Opus): counted here and on /metrics
// with the playout buffer's drops (chorus_mixer_input_packets_dropped_total).
void ParticipantDecoder::count_refused() {
  ++counters_.packets_refused;
  if (published_) published_->input_packets_dropped.fetch_add(1, std::memory_order_relaxed);
}

// `duration` in RTP clock units: 8 kHz for G.711 and, by RFC 3551 §4.5.2's rule, for G.722 too
// (whose audio is 16 kHz); 48 kHz for Opus.
void ParticipantDecoder::conceal(std::uint32_t duration) {
  // Opus: from the next packet's in-band FEC when it is here, else PLC.
  if (opus_) {
    append_decoded(opus_->conceal(duration, playout_.upcoming()));
    return;
  }
  // G.711 and G.722 conceal as their GStreamer decoders did here before: the lost packet is
  // silence, through the interpolator so the last packet's tail rings out. (ITU-T G.711 Appendix I's
  // pitch-repeating concealment would hide single losses better; a choice not yet made.)
  const std::size_t samples_8k = std::min<std::size_t>(duration, kMaxDecodedSamples / kSamplesPerOctet);
  packet_out_.clear();
  if (g711_) g711_->decode_silence(samples_8k, packet_out_);
  if (g722_) g722_->decode_silence(2 * samples_8k, packet_out_);
  append_decoded(packet_out_);
}

bool ParticipantDecoder::decode_next() {
  switch (playout_.next()) {
    case PlayoutStep::kDecode:
      decode(playout_.packet());
      return true;
    case PlayoutStep::kConceal:
      conceal(playout_.concealed_duration());
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
    // A talkspurt's first packet may hold less than a frame (a 10 ms ptime). Taking the next packet
    // to make up the frame would spend the jitter margin the priming bought, so the frame starts
    // with that much silence instead, once.
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
