// SendHistory: what we sent on one transport with a transport-wide sequence number
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), so the receiver's feedback can be
// matched to send times and sizes.
//
// The history assigns the numbers itself, consecutively, so entry n lives in slot n mod capacity
// of a ring sized once: recording never allocates and never searches. An entry is forgotten when
// the ring wraps over it or when it is older than `max_age` at lookup time, whichever comes
// first; feedback that arrives later than that is of no use to the estimator anyway.
//
// Threading: a plain value owned by the media worker of its transport; use it from that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "sfu/bwe/bwe_types.hpp"

namespace chorus::sfu::bwe {

struct SentPacket {
  std::int64_t sequence = -1;  // unwrapped; -1: the slot is empty
  Timestamp send_time{};
  std::size_t size = 0;
  std::optional<std::uint32_t> probe_cluster;
  bool reported = false;  // feedback has mentioned it (received or not)
  bool acked = false;     // feedback has reported it received
};

class SendHistory {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;  // ~2 s at 2,000 packets/s
  static constexpr std::chrono::milliseconds kDefaultMaxAge{2000};

  // Control path: throws std::invalid_argument for a capacity outside 1..32768 (half the 16-bit
  // number space, so a reported number is never ambiguous) or a non-positive max_age.
  explicit SendHistory(std::size_t capacity = kDefaultCapacity, std::chrono::milliseconds max_age = kDefaultMaxAge);

  // Records a packet about to be sent and returns the 16-bit number to stamp on it.
  std::uint16_t on_packet_sent(Timestamp send_time, std::size_t size,
                               std::optional<std::uint32_t> probe_cluster) noexcept;

  // The unwrapped number of a 16-bit one we sent that is still in the ring; nullopt for a number
  // we never sent (ahead of the newest) or one the ring has overwritten.
  [[nodiscard]] std::optional<std::int64_t> unwrap(std::uint16_t sequence) const noexcept;
  // The entry for an unwrapped number, unless forgotten (overwritten, or sent more than max_age
  // before `now`).
  [[nodiscard]] SentPacket* find(std::int64_t sequence, Timestamp now) noexcept;

  [[nodiscard]] std::optional<std::int64_t> newest() const noexcept {
    return next_ == 0 ? std::nullopt : std::optional<std::int64_t>(next_ - 1);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  std::vector<SentPacket> slots_;  // sized once
  std::chrono::milliseconds max_age_;
  std::int64_t next_ = 0;  // the number the next packet gets
};

}  // namespace chorus::sfu::bwe
