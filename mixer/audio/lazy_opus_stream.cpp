#include "mixer/audio/lazy_opus_stream.hpp"

#include <opus/opus.h>

#include <algorithm>
#include <array>

namespace chorus::mixer {
namespace {

// RFC 6716 §3.2.5: a packet holds at most 48 frames.
constexpr std::size_t kMaxFramesPerPacket = 48;

// The samples `payload` decodes to at 48 kHz, or 0 when libopus would refuse its framing: the
// same opus_packet_parse that opus_decode runs first (RFC 6716 §3.4's rules R1–R7), and at most
// 120 ms (R5).
std::size_t packet_samples(std::span<const std::uint8_t> payload) {
  if (payload.empty()) return 0;  // libopus's "lost" call, not a packet
  unsigned char toc = 0;
  std::array<const unsigned char*, kMaxFramesPerPacket> frames{};
  std::array<opus_int16, kMaxFramesPerPacket> sizes{};
  const int count = opus_packet_parse(payload.data(), static_cast<opus_int32>(payload.size()), &toc, frames.data(),
                                      sizes.data(), nullptr);
  if (count <= 0) return 0;
  const int per_frame = opus_packet_get_samples_per_frame(payload.data(), static_cast<opus_int32>(kSampleRateHz));
  const auto samples = static_cast<std::size_t>(count) * static_cast<std::size_t>(per_frame);
  return samples <= OpusPacketDecoder::kMaxPacketSamples ? samples : 0;
}

}  // namespace

LazyOpusStream::LazyOpusStream(std::size_t capacity)
    // Queued steps are at least 2.5 ms each and never hold more than `capacity` samples, plus
    // the one a packet adds past it (0 samples kept) and the skipped ones kept for the warm-up.
    : decoded_(0, capacity),
      capacity_(capacity),
      steps_(kWarmupSteps + capacity / OpusPacketDecoder::kConcealStepSamples + 2) {
  step_output_.reserve(OpusPacketDecoder::kMaxPacketSamples);
}

LazyOpusStream::Step& LazyOpusStream::queued_step(std::size_t index) noexcept {
  return steps_[(oldest_ + skipped_ + index) % steps_.size()];
}

const LazyOpusStream::Step& LazyOpusStream::queued_step(std::size_t index) const noexcept {
  return steps_[(oldest_ + skipped_ + index) % steps_.size()];
}

// A step at the end of the ring.
LazyOpusStream::Step& LazyOpusStream::push_step() {
  // Cannot happen within the bounds above; if it did, the state stays right either way.
  if (skipped_ + queued_ == steps_.size()) {
    if (skipped_ > 0) {
      let_go_oldest_skipped();
    } else {
      decode_oldest_queued();
    }
  }
  ++queued_;
  return queued_step(queued_ - 1);
}

bool LazyOpusStream::add_packet(std::span<const std::uint8_t> payload, std::uint8_t sender_level) {
  const std::size_t samples = packet_samples(payload);
  if (samples == 0) {
    ++counters_.packets_refused;
    return false;
  }
  queue_step(false, payload, sender_level, samples);
  return true;
}

void LazyOpusStream::add_loss(std::size_t samples, std::span<const std::uint8_t> next, std::uint8_t level) {
  // What OpusPacketDecoder::conceal makes of it.
  samples = std::min(samples, OpusPacketDecoder::kMaxPacketSamples) / OpusPacketDecoder::kConcealStepSamples *
            OpusPacketDecoder::kConcealStepSamples;
  if (samples == 0) return;
  queue_step(true, next, level, samples);
}

// The samples a step adds are bounded by the capacity, as DecodedSamples::append bounds them.
void LazyOpusStream::queue_step(bool lost, std::span<const std::uint8_t> payload, std::uint8_t level,
                                std::size_t samples) {
  Step& step = push_step();
  step.lost = lost;
  step.level = level;
  step.payload.assign(payload.begin(), payload.end());
  step.samples = std::min(samples, capacity_ - std::min(size(), capacity_));
  counters_.samples_dropped += samples - step.samples;
  queued_samples_ += step.samples;
}

std::uint8_t LazyOpusStream::sender_level_ahead(std::size_t count) const noexcept {
  if (!decoded_.empty() || queued_samples_ < count) return kNoSenderLevel;
  std::uint8_t loudest = kNoSenderLevel;
  std::size_t covered = 0;
  for (std::size_t i = 0; i < queued_ && covered < count; ++i) {
    const Step& step = queued_step(i);
    if (step.level == kNoSenderLevel) return kNoSenderLevel;
    loudest = std::min(loudest, step.level);
    covered += step.samples - (i == 0 ? consumed_of_first_ : 0);
  }
  return loudest;
}

void LazyOpusStream::drop_oldest(std::size_t count) {
  const std::size_t decoded = std::min(count, decoded_.size());
  decoded_.drop_oldest(decoded);
  count -= decoded;
  // Whole steps consumed undecoded become skipped ones, kept for the warm-up.
  while (count > 0 && queued_ > 0) {
    const std::size_t left = queued_step(0).samples - consumed_of_first_;
    const std::size_t taken = std::min(count, left);
    count -= taken;
    queued_samples_ -= taken;
    consumed_of_first_ += taken;
    if (taken == left) {
      consumed_of_first_ = 0;
      --queued_;
      ++skipped_;
    }
  }
  while (skipped_ > kWarmupSteps) let_go_oldest_skipped();
}

void LazyOpusStream::let_go_oldest_skipped() {
  oldest_ = (oldest_ + 1) % steps_.size();
  --skipped_;
  ++counters_.never_decoded;
  state_lost_ = true;
}

// The skipped steps, decoded for the decoder's state only; from a reset decoder when some were
// let go (see the header: the talkspurt after it then sounds as if nothing had been skipped).
void LazyOpusStream::warm_up() {
  if (skipped_ == 0) return;
  if (state_lost_) {
    decoder_.reset();
    ++counters_.decoder_resets;
    state_lost_ = false;
  }
  for (; skipped_ > 0; --skipped_) {
    run(steps_[oldest_]);
    oldest_ = (oldest_ + 1) % steps_.size();
    ++counters_.warmup_decodes;
  }
}

void LazyOpusStream::decode_oldest_queued() {
  warm_up();
  const Step& step = queued_step(0);
  const std::span<const Sample> samples = run(step).subspan(consumed_of_first_);
  queued_samples_ -= samples.size();
  counters_.samples_dropped += decoded_.append(samples);
  consumed_of_first_ = 0;
  oldest_ = (oldest_ + 1) % steps_.size();
  --queued_;
}

// One step through libopus: exactly step.samples samples (a packet libopus refuses after all
// plays as silence of its length, so the stream's timing holds).
std::span<const Sample> LazyOpusStream::run(const Step& step) {
  std::span<const Sample> out;
  if (step.lost) {
    out = decoder_.conceal(step.samples, step.payload);
  } else if (const auto decoded = decoder_.decode(step.payload)) {
    out = *decoded;
    ++counters_.packets_decoded;
  } else {
    ++counters_.packets_refused;
  }
  if (out.size() == step.samples) return out;  // the decoder's buffer, valid until its next call
  out = out.first(std::min(out.size(), step.samples));
  step_output_.assign(out.begin(), out.end());
  step_output_.resize(step.samples, Sample{0});
  return step_output_;
}

std::span<const Sample> LazyOpusStream::front(std::size_t count) {
  while (decoded_.size() < count && queued_ > 0) decode_oldest_queued();
  return decoded_.window(std::min(count, decoded_.size()));
}

void LazyOpusStream::insert_silence_front(std::size_t count) {
  front(size());
  decoded_.insert_silence_front(count);
}

void LazyOpusStream::pad_with_silence(std::size_t size) {
  front(this->size());
  decoded_.pad_with_silence(size);
}

}  // namespace chorus::mixer
