#include "sfu/retransmission_cache.hpp"

#include <algorithm>

#include "media/rtp/sequence.hpp"

namespace chorus::sfu {

std::string_view to_string(CacheStoreError error) noexcept {
  switch (error) {
    case CacheStoreError::kTooLarge:
      return "packet larger than the cache's slots";
    case CacheStoreError::kDuplicate:
      return "packet already cached";
    case CacheStoreError::kOlderThanSlot:
      return "a newer packet holds the slot";
  }
  return "unknown cache error";
}

RetransmissionCache::RetransmissionCache(RetransmissionCacheConfig config)
    : max_packet_size_(std::max(config.max_packet_size, media::RtpPacket::kFixedHeaderSize)),
      max_age_(config.max_age),
      slots_(std::clamp<std::size_t>(config.capacity, 1, kMaxCapacity)),
      bytes_(slots_.size() * max_packet_size_) {}

std::expected<void, CacheStoreError> RetransmissionCache::store(const media::RtpPacket& packet,
                                                                TimePoint arrival) noexcept {
  const auto bytes = packet.bytes();
  if (bytes.size() > max_packet_size_ || bytes.size() > 0xFFFF) {
    ++counters_.rejected_too_large;
    return std::unexpected(CacheStoreError::kTooLarge);
  }
  const std::uint16_t sequence_number = packet.sequence_number();
  const std::size_t index = sequence_number % slots_.size();
  Slot& slot = slots_[index];
  if (slot.used && fresh(slot, arrival)) {
    if (slot.sequence_number == sequence_number) {
      ++counters_.duplicates;
      return std::unexpected(CacheStoreError::kDuplicate);
    }
    if (media::is_newer(slot.sequence_number, sequence_number)) {
      ++counters_.rejected_older;
      return std::unexpected(CacheStoreError::kOlderThanSlot);
    }
  }
  std::copy(bytes.begin(), bytes.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(index * max_packet_size_));
  slot = Slot{true, sequence_number, static_cast<std::uint16_t>(bytes.size()), arrival};
  ++counters_.stored;
  return {};
}

std::optional<RetransmissionCache::Entry> RetransmissionCache::find(std::uint16_t sequence_number,
                                                                    TimePoint now) const noexcept {
  const std::size_t index = sequence_number % slots_.size();
  const Slot& slot = slots_[index];
  if (!slot.used || slot.sequence_number != sequence_number || !fresh(slot, now)) return std::nullopt;
  return Entry{std::span<const std::uint8_t>{bytes_}.subspan(index * max_packet_size_, slot.size), slot.arrival};
}

void RetransmissionCache::clear() noexcept {
  std::fill(slots_.begin(), slots_.end(), Slot{});
}

}  // namespace chorus::sfu
