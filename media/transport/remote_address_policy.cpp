#include "media/transport/remote_address_policy.hpp"

namespace chorus::media {

RemoteAddressPolicy::RemoteAddressPolicy(LatchConfig latch, bool ice, TimePoint start)
    : ice_(ice), latch_(latch, start) {}

bool RemoteAddressPolicy::is_validated(const TransportAddress& source) const {
  for (std::size_t i = 0; i < validated_count_; ++i)
    if (validated_[i] == source) return true;
  return false;
}

Admission RemoteAddressPolicy::admit_media(const TransportAddress& source, const PacketIdentity& packet,
                                           TimePoint now) const {
  if (ice_) return is_validated(source) ? Admission::kAccept : Admission::kReject;
  switch (latch_.admit(source, packet, now)) {
    case LatchVerdict::kAccept:
      return Admission::kAccept;
    case LatchVerdict::kAcceptIfAuthentic:
      return Admission::kAcceptIfAuthentic;
    case LatchVerdict::kForeign:
      break;
  }
  return Admission::kReject;
}

bool RemoteAddressPolicy::admit_dtls(const TransportAddress& source) const {
  if (ice_) return is_validated(source);
  return latch_.admit_dtls(source);
}

bool RemoteAddressPolicy::on_authenticated(const TransportAddress& source, const PacketIdentity& packet,
                                           TimePoint now) {
  if (ice_) return false;  // ICE moves the destination by nomination only
  return latch_.on_authenticated(source, packet, now);
}

bool RemoteAddressPolicy::on_ice_check(const TransportAddress& source, bool nominated, TimePoint now) {
  if (!ice_) return false;
  if (!is_validated(source)) {
    if (validated_count_ < validated_.size()) {
      validated_[validated_count_++] = source;
    } else {
      validated_[next_validated_slot_] = source;
      next_validated_slot_ = (next_validated_slot_ + 1) % validated_.size();
      // The evicted address may have been the destination: it is no longer validated.
      if (destination_ && !is_validated(*destination_)) destination_.reset();
    }
  }
  // RFC 8445 §7.3.1.5 / §8.2: the controlling agent's nomination decides; before it, the first
  // validated pair carries media so that agents nominating late still hear us at once.
  const bool moved = !destination_ || (nominated && *destination_ != source);
  if (moved) destination_ = source;
  if (destination_ && *destination_ == source) last_consent_ = now;
  return moved;
}

void RemoteAddressPolicy::on_signalled(std::optional<TransportAddress> signalled, bool proven_by_signaling,
                                       TimePoint now) {
  if (ice_) return;
  latch_.on_signalled(signalled, proven_by_signaling, now);
}

bool RemoteAddressPolicy::on_peer_proven(const TransportAddress& source) {
  return !ice_ && latch_.on_peer_proven(source);
}

std::optional<TransportAddress> RemoteAddressPolicy::destination(TimePoint now) const {
  if (!ice_) return latch_.destination();
  if (!destination_) return std::nullopt;
  if (ice_ && (!last_consent_ || now - *last_consent_ > kConsentLifetime)) return std::nullopt;
  return destination_;
}

}  // namespace chorus::media
