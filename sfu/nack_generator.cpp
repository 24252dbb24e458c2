#include "sfu/nack_generator.hpp"

#include <algorithm>

namespace chorus::sfu {

namespace {

// A packet this far behind the newest one is no late arrival but a sender that restarted its
// sequence numbers: start over rather than ignore everything until it catches up.
constexpr std::int64_t kRestartDistance = 8192;

}  // namespace

NackGenerator::NackGenerator(NackGeneratorConfig config)
    : config_(config), ring_(std::clamp<std::size_t>(config.max_missing, 1, kMaxMissingLimit)) {}

NackEvent NackGenerator::on_packet(std::uint16_t sequence_number, bool keyframe, TimePoint now) noexcept {
  const std::int64_t sequence = unwrapper_.unwrap(sequence_number);
  if (!newest_) {
    newest_ = sequence;
    if (keyframe) last_keyframe_ = sequence;
    return NackEvent::kInOrder;
  }
  const std::int64_t gap = sequence - *newest_ - 1;
  const bool restart = -gap - 1 > kRestartDistance;
  if (gap >= 0 && static_cast<std::size_t>(gap) <= ring_.size() && make_room(static_cast<std::size_t>(gap))) {
    // RFC 4585 §6.2.1 concerns itself with the packets in between: each is missing from now on.
    for (std::int64_t missing = *newest_ + 1; missing < sequence; ++missing) {
      at(count_) = Entry{missing, now, {}, 0, true};
      ++count_;
      ++active_;
    }
    counters_.missing += static_cast<std::uint64_t>(gap);
    newest_ = sequence;
    if (keyframe) last_keyframe_ = sequence;
    return gap > 0 ? NackEvent::kGap : NackEvent::kInOrder;
  }
  if (gap >= 0 || restart) {
    // Too many to chase: a keyframe repairs the stream for less than this many retransmissions.
    clear();
    newest_ = sequence;
    last_keyframe_.reset();
    if (keyframe) last_keyframe_ = sequence;
    ++counters_.keyframe_requests;
    return NackEvent::kKeyframeNeeded;
  }
  if (keyframe && (!last_keyframe_ || sequence > *last_keyframe_)) last_keyframe_ = sequence;
  if (const auto index = find(sequence)) {
    Entry& entry = at(*index);
    if (entry.active) {
      deactivate(entry);
      ++counters_.recovered;
      drop_front_inactive();
      return NackEvent::kRecovered;
    }
  }
  return NackEvent::kDuplicate;
}

std::size_t NackGenerator::collect(TimePoint now, std::chrono::milliseconds rtt,
                                   std::span<std::uint16_t> out) noexcept {
  const auto interval = std::max(rtt, config_.min_retry_interval);
  std::size_t written = 0;
  for (std::size_t i = 0; i < count_ && written < out.size(); ++i) {
    Entry& entry = at(i);
    if (!entry.active) continue;
    if (now - entry.first_missing > config_.max_age) {
      deactivate(entry);
      ++counters_.given_up_age;
      continue;
    }
    if (!due(entry, now, interval)) continue;
    if (entry.sends >= config_.max_retries) {
      // Its last NACK has had an RTT to be answered.
      deactivate(entry);
      ++counters_.given_up_retries;
      continue;
    }
    out[written++] = static_cast<std::uint16_t>(entry.sequence);
    ++entry.sends;
    entry.last_sent = now;
    ++counters_.nacks_sent;
  }
  drop_front_inactive();
  return written;
}

bool NackGenerator::is_missing(std::uint16_t sequence_number) const noexcept {
  const auto index = find(unwrapper_.peek(sequence_number));
  return index && at(*index).active;
}

bool NackGenerator::due(const Entry& entry, TimePoint now, std::chrono::milliseconds interval) const noexcept {
  if (entry.sends == 0) return now - entry.first_missing >= config_.reorder_delay;
  return now - entry.last_sent >= interval;
}

std::optional<std::size_t> NackGenerator::find(std::int64_t sequence) const noexcept {
  // The ring is sorted by sequence from head_: binary search over positions 0..count_.
  std::size_t low = 0;
  std::size_t high = count_;
  while (low < high) {
    const std::size_t middle = low + (high - low) / 2;
    if (at(middle).sequence < sequence) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  if (low < count_ && at(low).sequence == sequence) return low;
  return std::nullopt;
}

bool NackGenerator::make_room(std::size_t needed) noexcept {
  if (count_ + needed <= ring_.size()) return true;
  compact();
  if (count_ + needed <= ring_.size()) return true;
  // The decoder can restart at the last keyframe: what precedes it is the least useful.
  if (last_keyframe_) {
    while (count_ > 0 && at(0).sequence < *last_keyframe_) {
      if (at(0).active) {
        deactivate(at(0));
        ++counters_.dropped_before_keyframe;
      }
      head_ = (head_ + 1) % ring_.size();
      --count_;
    }
  }
  return count_ + needed <= ring_.size();
}

void NackGenerator::compact() noexcept {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (at(i).active) {
      if (kept != i) at(kept) = at(i);
      ++kept;
    }
  }
  count_ = kept;
}

void NackGenerator::drop_front_inactive() noexcept {
  while (count_ > 0 && !at(0).active) {
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
}

void NackGenerator::clear() noexcept {
  head_ = 0;
  count_ = 0;
  active_ = 0;
}

void NackGenerator::deactivate(Entry& entry) noexcept {
  entry.active = false;
  --active_;
}

NackPacking pack_nack_items(std::span<const std::uint16_t> sequence_numbers,
                            std::span<media::rtcp::NackItem> out) noexcept {
  NackPacking packing;
  for (const std::uint16_t sequence : sequence_numbers) {
    if (packing.items > 0) {
      auto& last = out[packing.items - 1];
      const auto distance = static_cast<std::uint16_t>(sequence - last.pid);
      if (distance == 0) {
        ++packing.consumed;
        continue;
      }
      // RFC 4585 §6.2.1: bit i of BLP stands for PID + i + 1.
      if (distance <= 16) {
        last.blp = static_cast<std::uint16_t>(last.blp | (1U << (distance - 1)));
        ++packing.consumed;
        continue;
      }
    }
    if (packing.items == out.size()) break;
    out[packing.items++] = media::rtcp::NackItem{sequence, 0};
    ++packing.consumed;
  }
  return packing;
}

std::optional<std::size_t> write_generic_nack(std::span<std::uint8_t> out, media::rtcp::FeedbackSsrcs ssrcs,
                                              std::span<const media::rtcp::NackItem> items) noexcept {
  if (items.empty()) return std::nullopt;
  const std::size_t size = media::rtcp::kFeedbackHeaderSize + 4 * items.size();
  if (!media::rtcp::write_feedback_header(out, media::rtcp::PacketType::kRtpfb,
                                          static_cast<std::uint8_t>(media::rtcp::RtpfbFmt::kNack), size, ssrcs)) {
    return std::nullopt;
  }
  std::size_t at = media::rtcp::kFeedbackHeaderSize;
  for (const auto& item : items) {
    out[at] = static_cast<std::uint8_t>(item.pid >> 8);
    out[at + 1] = static_cast<std::uint8_t>(item.pid);
    out[at + 2] = static_cast<std::uint8_t>(item.blp >> 8);
    out[at + 3] = static_cast<std::uint8_t>(item.blp);
    at += 4;
  }
  return size;
}

}  // namespace chorus::sfu
