#include "media/rtcp/transport_cc_recorder.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace chorus::media::rtcp {

namespace {

constexpr std::size_t kMaxStatusCount = 0xFFFF;
// TransportCc::write never uses more chunks than one per 7 statuses: each chunk it picks covers
// at least 7 (a run of 7+, a one-bit vector of 14, a two-bit vector of 7) unless it is the last.
constexpr std::size_t kStatusesPerChunkAtWorst = 7;
constexpr std::int64_t kReferenceTimeModulus = std::int64_t{1} << 24;
using ReferenceTicks = std::chrono::duration<std::int64_t, std::ratio<64, 1000>>;  // §3.1: 64 ms
using DeltaTicks = std::chrono::duration<std::int64_t, std::ratio<1, 4000>>;       // §3.1.5: 250 µs
static_assert(ReferenceTicks(1) == TransportCc::kReferenceTimeTick && DeltaTicks(1) == TransportCc::kDeltaTick);

constexpr std::size_t padded(std::size_t size) {
  return (size + 3) & ~std::size_t{3};
}

// An upper bound of the packet TransportCc::write makes for `statuses` statuses and
// `delta_bytes` octets of receive deltas.
constexpr std::size_t packet_size_bound(std::size_t statuses, std::size_t delta_bytes) {
  const std::size_t chunks = (statuses + kStatusesPerChunkAtWorst - 1) / kStatusesPerChunkAtWorst;
  return padded(kFeedbackHeaderSize + TransportCc::kFixedFciSize + 2 * chunks + delta_bytes);
}

// §3.1: the reference time is a signed 24-bit count of 64 ms; ours is the arrival clock's
// count modulo 2^24, sign-extended as the parser returns it so a packet round-trips equal.
std::int32_t reference_field(std::int64_t reference_ticks) {
  std::int64_t field = reference_ticks % kReferenceTimeModulus;
  if (field < 0) field += kReferenceTimeModulus;
  if (field >= kReferenceTimeModulus / 2) field -= kReferenceTimeModulus;
  return static_cast<std::int32_t>(field);
}

}  // namespace

TransportCcRecorder::TransportCcRecorder(TransportCcRecorderConfig config) : config_(config) {
  if (config_.max_pending == 0 || config_.max_pending > kMaxPending) {
    throw std::invalid_argument("transport-cc recorder: max_pending must be 1..32768");
  }
  if (config_.max_packet_size < kMinPacketSize) {
    throw std::invalid_argument("transport-cc recorder: max_packet_size below 24 octets");
  }
  if (config_.interval <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("transport-cc recorder: interval must be positive");
  }
  slots_.resize(config_.max_pending);
  scratch_.packets.reserve(std::min(config_.max_pending, kMaxStatusCount));
}

const TransportCcRecorder::Slot* TransportCcRecorder::received(std::int64_t sequence) const noexcept {
  const auto& slot = slots_[static_cast<std::size_t>(sequence) % slots_.size()];
  return slot.sequence == sequence ? &slot : nullptr;
}

// Moves the window's start so `sequence` is its last slot; the unreported packets that fall out
// are lost to feedback. Bounded by the window size however far the jump.
void TransportCcRecorder::slide_window_to(std::int64_t sequence) noexcept {
  const auto window = static_cast<std::int64_t>(slots_.size());
  const std::int64_t new_start = sequence - window + 1;
  const std::int64_t scan_end = std::min(new_start, highest_ + 1);
  for (std::int64_t s = std::max(next_unreported_, scan_end - window); s < scan_end; ++s) {
    if (received(s) != nullptr) ++counters_.evicted;
  }
  next_unreported_ = new_start;
}

bool TransportCcRecorder::on_packet(std::uint16_t transport_sequence, Clock::time_point arrival) noexcept {
  const std::int64_t sequence = unwrapper_.unwrap(transport_sequence);
  if (!received_any_) {
    received_any_ = true;
    next_unreported_ = sequence;
    highest_ = sequence;
  } else if (sequence < next_unreported_) {
    ++counters_.too_old;
    return false;
  } else if (sequence - next_unreported_ >= static_cast<std::int64_t>(slots_.size())) {
    slide_window_to(sequence);
  }
  // Never negative here: the window starts at the first packet's number (0..65535) and only
  // moves forward, and anything behind it was refused above.
  Slot& target = slots_[static_cast<std::size_t>(sequence) % slots_.size()];
  if (target.sequence == sequence) {
    ++counters_.duplicates;
    return false;
  }
  target = Slot{sequence, arrival};
  highest_ = std::max(highest_, sequence);
  ++counters_.packets_recorded;
  return true;
}

bool TransportCcRecorder::feedback_due(Clock::time_point now) const noexcept {
  if (!has_pending()) return false;
  if (!last_feedback_ || now - *last_feedback_ >= config_.interval) return true;
  return static_cast<std::size_t>(highest_ - next_unreported_ + 1) >= slots_.size() / 2;
}

// §3.1.5: each received packet's delta is its arrival minus the previous received packet's (the
// first's: minus the reference time), in 250 µs ticks; 0..255 ticks fit the one-octet "small"
// form, a signed 16-bit count the two-octet "large" one.
bool TransportCcRecorder::collect_next_packet(TransportCc& feedback) {
  feedback.packets.clear();
  feedback.base_sequence = static_cast<std::uint16_t>(next_unreported_);
  std::int64_t first_received = next_unreported_;
  while (received(first_received) == nullptr) ++first_received;  // highest_ is received
  const auto first_arrival = received(first_received)->arrival.time_since_epoch();
  const std::int64_t reference_ticks = std::chrono::floor<ReferenceTicks>(first_arrival).count();
  const auto reference = std::chrono::duration_cast<std::chrono::microseconds>(ReferenceTicks(reference_ticks));
  feedback.reference_time = reference_field(reference_ticks);

  std::int64_t previous_ticks = 0;
  std::size_t delta_bytes = 0;
  for (std::int64_t s = next_unreported_; s <= highest_ && feedback.packets.size() < kMaxStatusCount; ++s) {
    TransportCcPacket packet{static_cast<std::uint16_t>(s), TransportCcStatus::kNotReceived, {}};
    std::size_t packet_delta_bytes = 0;
    std::int64_t ticks = previous_ticks;
    if (const Slot* slot = received(s)) {
      const auto since_reference =
          std::chrono::floor<std::chrono::microseconds>(slot->arrival.time_since_epoch()) - reference;
      ticks = std::chrono::floor<DeltaTicks>(since_reference).count();
      const std::int64_t delta = ticks - previous_ticks;
      if (delta >= 0 && delta <= 0xFF) {
        packet.status = TransportCcStatus::kReceivedSmallDelta;
        packet_delta_bytes = 1;
      } else if (delta >= std::numeric_limits<std::int16_t>::min() &&
                 delta <= std::numeric_limits<std::int16_t>::max()) {
        packet.status = TransportCcStatus::kReceivedLargeDelta;
        packet_delta_bytes = 2;
      } else {
        break;  // (b): this packet opens the next feedback packet with its own reference time
      }
      packet.receive_delta = delta * TransportCc::kDeltaTick;
    }
    if (packet_size_bound(feedback.packets.size() + 1, delta_bytes + packet_delta_bytes) > config_.max_packet_size) {
      break;  // (a)
    }
    feedback.packets.push_back(packet);
    delta_bytes += packet_delta_bytes;
    previous_ticks = ticks;
  }
  return !feedback.packets.empty();
}

std::size_t TransportCcRecorder::build_feedback(Clock::time_point now, std::uint32_t sender_ssrc,
                                                std::uint32_t media_ssrc, std::span<std::uint8_t> out) {
  std::size_t written = 0;
  while (has_pending()) {
    scratch_.sender_ssrc = sender_ssrc;
    scratch_.media_ssrc = media_ssrc;
    scratch_.feedback_count = feedback_count_;
    if (!collect_next_packet(scratch_)) break;
    const auto size = scratch_.write(out.subspan(written));
    if (!size) {
      if (written == 0) ++counters_.buffer_too_small;
      break;
    }
    written += *size;
    next_unreported_ += static_cast<std::int64_t>(scratch_.packets.size());
    ++feedback_count_;  // §3.1: 8 bits, wraps
    ++counters_.feedback_packets;
  }
  if (written > 0) last_feedback_ = now;
  return written;
}

}  // namespace chorus::media::rtcp
