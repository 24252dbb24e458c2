#include "mixer/audio/participant_decoder.hpp"

#include <algorithm>

#include "mixer/talker_detector.hpp"

namespace chorus::mixer {
namespace {

// In 48 kHz samples; a narrowband FIFO holds the same duration at its own rate.
constexpr std::size_t kMaxBufferedSamples = kFrameSamples * ParticipantDecoder::kMaxBufferedFrames;
// What one tick's decoding may add on top: the FIFO never holds more than this.
constexpr std::size_t kMaxDecodedSamples = kMaxBufferedSamples + kFrameSamples;
// G.711 and G.722 carry 8 kHz of RTP clock per payload octet (RFC 3551 §4.5.2), 6 samples at 48 kHz.
constexpr std::size_t kSamplesPerOctet = 6;

PlayoutConfig with_clock_rate(PlayoutConfig config, const AudioCodecInfo& info) {
  config.clock_rate = info.rtp_clock_rate;
  return config;
}

}  // namespace

ParticipantDecoder::ParticipantDecoder(AudioCodec codec, std::shared_ptr<MixerCounters> published,
                                       PlayoutConfig playout)
    : codec_(codec), playout_(with_clock_rate(playout, codec_info(codec))), published_(std::move(published)) {
  switch (codec) {
    case AudioCodec::kPcmu:
    case AudioCodec::kPcma:
      g711_.emplace(codec);
      upsampler_.emplace(8'000);
      break;
    case AudioCodec::kG722:
      g722_.emplace();
      upsampler_.emplace(16'000);
      break;
    case AudioCodec::kOpus:
      opus_.emplace(kMaxDecodedSamples);
      rendered_ = true;
      return;
  }
  factor_ = upsampler_->factor();
  frame_length_ = kFrameSamples / factor_;
  const std::size_t history = upsampler_->taps_per_phase() - 1;
  level_offset_ = history / 2;
  narrow_.emplace(history, kMaxDecodedSamples / factor_);
  taken_.reserve(history + frame_length_);  // the tick never allocates for it
}

void ParticipantDecoder::push_rtp(const media::RtpPacket& packet, std::uint8_t sender_level) {
  playout_.push(packet.sequence_number(), packet.timestamp(), packet.ssrc(), packet.payload(), sender_level);
}

std::size_t ParticipantDecoder::waiting() const noexcept {
  return narrow_ ? narrow_->size() : opus_->size();
}

void ParticipantDecoder::decode(std::span<const std::uint8_t> payload) {
  if (opus_) {
    // Queued, decoded when its samples are wanted (LazyOpusStream).
    last_sender_level_ = playout_.packet_level();
    if (!opus_->add_packet(payload, last_sender_level_)) publish_refused();
    return;
  }
  // Decoded straight into the FIFO; what does not fit under its cap is counted, not kept.
  const std::size_t samples = g722_ ? 2 * payload.size() : payload.size();
  const std::span<float> room = narrow_->extend(samples);
  if (g711_) g711_->decode_narrowband(payload.first(room.size()), room);
  if (g722_) g722_->decode_wideband(payload, room);  // at 64 kbit/s always 2 samples an octet
  counters_.samples_dropped += factor_ * (samples - room.size());
  ++counters_.packets_decoded;
}

// A payload the decoder could not use (malformed Opus): on /metrics with the playout buffer's
// drops (chorus_mixer_input_packets_dropped_total).
void ParticipantDecoder::publish_refused() {
  if (published_) published_->input_packets_dropped.fetch_add(1, std::memory_order_relaxed);
}

// `duration` in RTP clock units: 8 kHz for G.711 and, by RFC 3551 §4.5.2's rule, for G.722 too
// (whose audio is 16 kHz); 48 kHz for Opus.
void ParticipantDecoder::conceal(std::uint32_t duration) {
  // Opus: from the next packet's in-band FEC when it is here, else PLC.
  // Its level, for a frame left undecoded: the louder of the packets around it (PLC continues
  // the one before and fades; FEC rebuilds it from the one after).
  if (opus_) {
    const std::uint8_t next_level = playout_.upcoming_level();
    const bool known = last_sender_level_ != kNoSenderLevel && next_level != kNoSenderLevel;
    opus_->add_loss(duration, playout_.upcoming(), known ? std::min(last_sender_level_, next_level) : kNoSenderLevel);
    return;
  }
  // G.711 and G.722 conceal as their GStreamer decoders did here before: the lost packet is
  // silence, which the interpolator reads after the last packet's samples, so that packet's tail
  // rings out. (ITU-T G.711 Appendix I's pitch-repeating concealment would hide single losses
  // better; a choice not yet made.)
  const std::size_t clock_units = std::min<std::size_t>(duration, kMaxDecodedSamples / kSamplesPerOctet);
  const std::size_t samples = g722_ ? 2 * clock_units : clock_units;
  counters_.samples_dropped += factor_ * narrow_->append_silence(samples);
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

// Decodes until a frame is waiting (or the buffer has nothing more for this tick).
void ParticipantDecoder::make_room_for_frame(bool talkspurt_started) {
  if (talkspurt_started && waiting() == 0 && decode_next() && waiting() < frame_length_) {
    // A talkspurt's first packet may hold less than a frame (a 10 ms ptime). Taking the next packet
    // to make up the frame would spend the jitter margin the priming bought, so the frame starts
    // with that much silence instead, once.
    const std::size_t missing = frame_length_ - waiting();
    with_fifo([missing](auto& fifo) { fifo.insert_silence_front(missing); });
  }
  // Bounded: each step takes a packet or a sequence number out of a buffer of at most max_packets.
  for (std::size_t step = 0; waiting() < frame_length_ && step <= playout_.capacity(); ++step)
    if (!decode_next()) break;
  if (const std::size_t most = kMaxBufferedSamples / factor_; waiting() > most) {
    // The sender's clock runs fast: the oldest goes.
    const std::size_t excess = waiting() - most;
    with_fifo([excess](auto& fifo) { fifo.drop_oldest(excess); });
    counters_.samples_dropped += factor_ * excess;
  }
}

// Takes the next frame off the FIFO, with its level; false when there is none to play now.
bool ParticipantDecoder::take_frame(bool was_playing) {
  if (waiting() < frame_length_) {
    // The talkspurt ended mid-frame: its last samples play now, not before the next one.
    if (waiting() == 0 || !was_playing || playout_.playing()) return false;
    with_fifo([this](auto& fifo) { fifo.pad_with_silence(frame_length_); });
  }
  if (narrow_) {
    const std::span<const float> window = narrow_->window(frame_length_);
    taken_.assign(window.begin(), window.end());
    // The interpolator's delay (half its taps) puts the 48 kHz frame over these input samples: the
    // level is of what render() would give, the last packet's ringing included.
    level_dbov_ = frame_level_dbov(window.subspan(level_offset_, frame_length_));
    narrow_->drop_oldest(frame_length_);
    rendered_ = false;
  } else if (const std::uint8_t sender_level = opus_->sender_level_ahead(kFrameSamples);
             sender_level != kNoSenderLevel) {
    // Held undecoded: render() decodes it if the mixer mixes it; the next pull lets it go if not.
    level_dbov_ = sender_level;
    rendered_ = false;
  } else {
    take_opus_frame();
    level_dbov_ = frame_level_dbov(FrameView(frame_));
  }
  return true;
}

void ParticipantDecoder::take_opus_frame() {
  const std::span<const Sample> samples = opus_->front(kFrameSamples);
  std::copy(samples.begin(), samples.end(), frame_.begin());
  opus_->drop_oldest(kFrameSamples);
  rendered_ = true;
}

bool ParticipantDecoder::pull() {
  if (opus_ && !rendered_) {  // last tick's frame was not mixed: its packets are not decoded now
    opus_->drop_oldest(kFrameSamples);
    rendered_ = true;
  }
  const bool was_primed = playout_.playing();
  playout_.start_tick();
  const bool was_playing = playout_.playing();
  make_room_for_frame(!was_primed && was_playing);
  publish_playout_counters();
  if (!take_frame(was_playing)) return false;
  ++counters_.frames_pulled;
  return true;
}

FrameView ParticipantDecoder::render() {
  if (rendered_) return frame_;
  if (opus_) {
    take_opus_frame();
  } else {
    upsampler_->interpolate(taken_, frame_);
    rendered_ = true;
  }
  return frame_;
}

bool ParticipantDecoder::pull_frame(AudioFrame& frame) {
  if (!pull()) return false;
  const FrameView samples = render();
  std::copy(samples.begin(), samples.end(), frame.begin());
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
  if (!opus_) return;
  const std::uint64_t never_decoded = opus_->counters().never_decoded;
  if (never_decoded > reported_never_decoded_)
    published_->input_packets_never_decoded.fetch_add(never_decoded - reported_never_decoded_,
                                                      std::memory_order_relaxed);
  reported_never_decoded_ = never_decoded;
}

DecoderCounters ParticipantDecoder::counters() const {
  DecoderCounters counters = counters_;
  counters.playout = playout_.counters();
  if (opus_) {
    const LazyOpusCounters& opus = opus_->counters();
    counters.packets_decoded += opus.packets_decoded;
    counters.packets_refused += opus.packets_refused;
    counters.samples_dropped += opus.samples_dropped;
    counters.opus = opus;
  }
  return counters;
}

}  // namespace chorus::mixer
