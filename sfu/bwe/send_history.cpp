#include "sfu/bwe/send_history.hpp"

#include <stdexcept>

namespace chorus::sfu::bwe {

namespace {
constexpr std::size_t kMaxCapacity = 32768;
}  // namespace

SendHistory::SendHistory(std::size_t capacity, std::chrono::milliseconds max_age) : max_age_(max_age) {
  if (capacity == 0 || capacity > kMaxCapacity) {
    throw std::invalid_argument("send history: capacity must be 1..32768");
  }
  if (max_age <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("send history: max_age must be positive");
  slots_.resize(capacity);
}

std::uint16_t SendHistory::on_packet_sent(Timestamp send_time, std::size_t size,
                                          std::optional<std::uint32_t> probe_cluster) noexcept {
  const std::int64_t sequence = next_++;
  slots_[static_cast<std::size_t>(sequence) % slots_.size()] = SentPacket{sequence, send_time, size, probe_cluster};
  return static_cast<std::uint16_t>(sequence);
}

std::optional<std::int64_t> SendHistory::unwrap(std::uint16_t sequence) const noexcept {
  if (next_ == 0) return std::nullopt;
  const std::int64_t newest = next_ - 1;
  // Our numbers only go forward, so a reported one is at most `behind` packets in the past.
  const auto behind = static_cast<std::uint16_t>(static_cast<std::uint16_t>(newest) - sequence);
  if (behind >= slots_.size() || behind > newest) return std::nullopt;
  return newest - behind;
}

SentPacket* SendHistory::find(std::int64_t sequence, Timestamp now) noexcept {
  if (sequence < 0) return nullptr;
  auto& slot = slots_[static_cast<std::size_t>(sequence) % slots_.size()];
  if (slot.sequence != sequence || now - slot.send_time > max_age_) return nullptr;
  return &slot;
}

}  // namespace chorus::sfu::bwe
