#include "mixer/playout_buffer.hpp"

#include <algorithm>

namespace chorus::mixer {
namespace {

// Extended sequence numbers start here so one that steps back from the first is still positive.
constexpr std::uint64_t kSequenceOrigin = std::uint64_t{1} << 32;
// RFC 6716 §3.2.5: an Opus packet is at most 120 ms; a longer step between consecutive packets is a
// silence the sender did not fill (DTX), not the packets' duration.
constexpr std::uint32_t kMaxPacketMs = 120;

std::uint32_t rtp_units(std::chrono::milliseconds duration, std::uint32_t clock_rate) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(duration.count()) * clock_rate / 1000);
}

}  // namespace

PlayoutBuffer::PlayoutBuffer(PlayoutConfig config)
    : config_(config),
      slots_(std::max<std::size_t>(config.max_packets, 2)),
      packet_duration_(rtp_units(std::chrono::milliseconds(20), config.clock_rate)) {
  config_.max_packets = slots_.size();
}

// RFC 3550 A.1: the 16-bit number nearest the highest one seen, carried into 64 bits.
std::uint64_t PlayoutBuffer::extend(std::uint16_t sequence) const {
  const auto delta = static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - highest_sequence_));
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(highest_sequence_) + delta);
}

void PlayoutBuffer::restart(std::uint64_t sequence) {
  for (Slot& slot : slots_) slot.used = false;
  queued_ = 0;
  next_sequence_ = sequence;
  highest_sequence_ = sequence;
  playing_ = false;
  played_since_restart_ = false;
  primed_ticks_ = 0;
}

void PlayoutBuffer::drop(Slot& slot) {
  slot.used = false;
  --queued_;
}

void PlayoutBuffer::push(std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t ssrc,
                         std::span<const std::uint8_t> packet, std::uint8_t sender_level) {
  if (packet.size() > kMaxPacketBytes) {
    ++counters_.refused;
    return;
  }
  if (ssrc_ != ssrc) {
    if (ssrc_) ++counters_.restarts;
    ssrc_ = ssrc;
    restart(kSequenceOrigin + sequence);
  }
  const std::uint64_t extended = extend(sequence);
  if (extended < next_sequence_) {
    const std::uint64_t behind = next_sequence_ - extended;
    if (!played_since_restart_ && behind < config_.max_packets && highest_sequence_ - extended < config_.max_packets) {
      next_sequence_ = extended;  // the first talkspurt's earlier packet, arriving second
    } else if (behind > kMaxMisorder) {
      ++counters_.restarts;  // the sender started its numbers again
      restart(extended);
    } else {
      ++counters_.late;
      return;
    }
  } else if (extended - next_sequence_ > kMaxDropout) {
    ++counters_.restarts;
    restart(extended);
  }
  if (extended >= next_sequence_ + config_.max_packets) {  // no slot for it: the oldest make way
    const std::uint64_t first_kept = extended - config_.max_packets + 1;
    for (std::uint64_t at = next_sequence_; at < first_kept && queued_ > 0; ++at) {
      Slot& old = slots_[at % slots_.size()];
      if (old.used && old.sequence == at) {
        drop(old);
        ++counters_.skipped;
      }
    }
    next_sequence_ = first_kept;
  }
  Slot& slot = slots_[extended % slots_.size()];
  if (slot.used && slot.sequence == extended) {
    ++counters_.duplicates;
    return;
  }
  slot.sequence = extended;
  slot.timestamp = timestamp;
  slot.bytes.assign(packet.begin(), packet.end());
  slot.sender_level = sender_level;
  slot.used = true;
  ++queued_;
  ++counters_.queued;
  if (extended >= highest_sequence_ || queued_ == 1) {
    highest_sequence_ = extended;
    highest_timestamp_ = timestamp;
  }
}

PlayoutBuffer::Slot* PlayoutBuffer::oldest_queued() {
  if (queued_ == 0) return nullptr;
  for (std::uint64_t at = next_sequence_; at <= highest_sequence_; ++at) {
    Slot& slot = slots_[at % slots_.size()];
    if (slot.used && slot.sequence == at) return &slot;
  }
  return nullptr;  // unreachable: every queued packet lies in [next_sequence_, highest_sequence_]
}

void PlayoutBuffer::skip_past_max_delay() {
  const auto limit = static_cast<std::int32_t>(rtp_units(config_.max_delay, config_.clock_rate));
  while (queued_ > 1) {
    Slot* oldest = oldest_queued();
    if (oldest == nullptr || static_cast<std::int32_t>(highest_timestamp_ - oldest->timestamp) <= limit) return;
    next_sequence_ = oldest->sequence + 1;
    drop(*oldest);
    ++counters_.skipped;
  }
}

void PlayoutBuffer::start_tick() {
  if (!playing_ && queued_ > 0 && ++primed_ticks_ >= config_.prime_ticks) {
    playing_ = true;
    // A talkspurt starts at its oldest packet: any before it never came.
    if (const Slot* oldest = oldest_queued()) next_sequence_ = oldest->sequence;
  }
  if (playing_) skip_past_max_delay();
}

std::span<const std::uint8_t> PlayoutBuffer::upcoming() const {
  const Slot& slot = slots_[next_sequence_ % slots_.size()];
  if (!slot.used || slot.sequence != next_sequence_) return {};
  return slot.bytes;
}

std::uint8_t PlayoutBuffer::upcoming_level() const {
  const Slot& slot = slots_[next_sequence_ % slots_.size()];
  if (!slot.used || slot.sequence != next_sequence_) return kNoSenderLevel;
  return slot.sender_level;
}

PlayoutStep PlayoutBuffer::next() {
  if (!playing_) return PlayoutStep::kNothing;
  if (queued_ == 0) {  // the talkspurt ended or the sender stalled: the next packet primes again
    playing_ = false;
    primed_ticks_ = 0;
    ++counters_.underruns;
    return PlayoutStep::kNothing;
  }
  Slot& slot = slots_[next_sequence_ % slots_.size()];
  const bool present = slot.used && slot.sequence == next_sequence_;
  if (present) {
    const std::uint32_t step = slot.timestamp - last_timestamp_;
    if (played_since_restart_ && next_sequence_ == last_played_sequence_ + 1 && step > 0 &&
        step <= rtp_units(std::chrono::milliseconds(kMaxPacketMs), config_.clock_rate))
      packet_duration_ = step;
    last_timestamp_ = slot.timestamp;
    current_.swap(slot.bytes);  // both keep their capacity
    current_level_ = slot.sender_level;
    drop(slot);
  } else {
    last_timestamp_ += packet_duration_;  // lost: later packets are queued, so it is not coming in time
    ++counters_.lost;
  }
  last_played_sequence_ = next_sequence_;
  ++next_sequence_;
  played_since_restart_ = true;
  return present ? PlayoutStep::kDecode : PlayoutStep::kConceal;
}

}  // namespace chorus::mixer
