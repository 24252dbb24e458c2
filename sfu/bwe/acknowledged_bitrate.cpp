#include "sfu/bwe/acknowledged_bitrate.hpp"

#include <stdexcept>

namespace chorus::sfu::bwe {

AcknowledgedBitrate::AcknowledgedBitrate(std::chrono::milliseconds window, std::size_t capacity) : window_(window) {
  if (capacity == 0) throw std::invalid_argument("acknowledged bitrate: capacity must be positive");
  if (window < kMinSpan) throw std::invalid_argument("acknowledged bitrate: window shorter than 50 ms");
  ring_.resize(capacity);
}

void AcknowledgedBitrate::drop_oldest() noexcept {
  bytes_ -= ring_[head_].size;
  head_ = (head_ + 1) % ring_.size();
  --count_;
}

void AcknowledgedBitrate::add(RemoteTime arrival, std::size_t size) noexcept {
  if (!newest_ || arrival > *newest_) newest_ = arrival;
  if (count_ == ring_.size()) drop_oldest();
  ring_[(head_ + count_) % ring_.size()] = Sample{arrival, size};
  ++count_;
  bytes_ += size;
  while (count_ > 0 && ring_[head_].arrival < *newest_ - window_) drop_oldest();
}

void AcknowledgedBitrate::on_packets(std::span<const PacketResult> packets) noexcept {
  for (const auto& packet : packets) {
    if (packet.arrival) add(*packet.arrival, packet.size);
  }
}

std::optional<double> AcknowledgedBitrate::bitrate_bps() const noexcept {
  if (count_ < 2) return std::nullopt;
  const auto span = *newest_ - ring_[head_].arrival;
  if (span < kMinSpan) return std::nullopt;
  const auto bits = static_cast<double>(bytes_ - ring_[head_].size) * 8;
  return bits * 1e6 / static_cast<double>(span.count());
}

}  // namespace chorus::sfu::bwe
