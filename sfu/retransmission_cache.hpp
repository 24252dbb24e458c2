// RetransmissionCache: the last packets of one received stream (a producer's simulcast layer),
// kept so a receiver's NACK (RFC 4585 §6.2.1) can be answered with an RTX retransmission (RFC
// 4588) instead of a keyframe request to the sender.
//
// Fixed capacity, allocated once at construction: `capacity` slots of `max_packet_size` bytes,
// a packet living in slot `sequence number mod capacity`. store() copies the packet's bytes into
// its slot — no allocation — replacing an older packet there; find() hands the bytes back only
// if the slot still holds that very sequence number and it is not older than max_age. So a
// packet is gone once `capacity` newer ones have arrived or max_age has passed, whichever first.
//
// store() refuses, and counts: a packet larger than max_packet_size (the named ingress limit), a
// repeat of the stored one (the first copy is kept), and a straggler whose slot already holds a
// newer packet that is still fresh (the straggler could not outlive it anyway).
//
// Threading: one per received stream, on its room's media worker; no locks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/rtp/rtp_packet.hpp"

namespace chorus::sfu {

struct RetransmissionCacheConfig {
  std::size_t capacity = 512;               // packets: ~1 s of a 4 Mbit/s layer of 1,000-byte packets
  std::size_t max_packet_size = 1500;       // bytes: media::kMaxDatagramSize, the transport's own limit
  std::chrono::milliseconds max_age{1000};  // older packets are useless to a receiver's jitter buffer
};

enum class CacheStoreError : std::uint8_t {
  kTooLarge,       // over max_packet_size
  kDuplicate,      // the slot already holds this sequence number
  kOlderThanSlot,  // the slot holds a newer, still fresh packet
};
[[nodiscard]] std::string_view to_string(CacheStoreError error) noexcept;

struct RetransmissionCacheCounters {
  std::uint64_t stored = 0;
  std::uint64_t rejected_too_large = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected_older = 0;
};

class RetransmissionCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::size_t kMaxCapacity = 32768;  // half the sequence space: slots stay unambiguous

  struct Entry {
    std::span<const std::uint8_t> bytes;  // the whole RTP packet as received; valid until the next store()
    TimePoint arrival{};
  };

  // Allocates the whole cache (control path). capacity is clamped to 1..kMaxCapacity and
  // max_packet_size to at least the RTP fixed header.
  explicit RetransmissionCache(RetransmissionCacheConfig config);

  std::expected<void, CacheStoreError> store(const media::RtpPacket& packet, TimePoint arrival) noexcept;
  // The packet with this sequence number, if still held and no older than max_age at `now`.
  [[nodiscard]] std::optional<Entry> find(std::uint16_t sequence_number, TimePoint now) const noexcept;
  // Forgets everything (the stream restarted); keeps the memory.
  void clear() noexcept;

  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
  [[nodiscard]] std::size_t max_packet_size() const noexcept { return max_packet_size_; }
  [[nodiscard]] const RetransmissionCacheCounters& counters() const noexcept { return counters_; }

 private:
  struct Slot {
    bool used = false;
    std::uint16_t sequence_number = 0;
    std::uint16_t size = 0;
    TimePoint arrival{};
  };

  [[nodiscard]] bool fresh(const Slot& slot, TimePoint now) const noexcept { return now - slot.arrival <= max_age_; }

  std::size_t max_packet_size_;
  std::chrono::milliseconds max_age_;
  std::vector<Slot> slots_;
  std::vector<std::uint8_t> bytes_;  // slots_.size() * max_packet_size_
  RetransmissionCacheCounters counters_;
};

}  // namespace chorus::sfu
