#include "media/transport/remote_address_policy.hpp"

namespace chorus::media {

RemoteAddressPolicy::RemoteAddressPolicy(std::optional<TransportAddress> signalled, bool ice)
    : ice_(ice), destination_(ice ? std::nullopt : signalled) {}

bool RemoteAddressPolicy::is_validated(const TransportAddress& source) const {
  for (std::size_t i = 0; i < validated_count_; ++i)
    if (validated_[i] == source) return true;
  return false;
}

Admission RemoteAddressPolicy::admit_media(const TransportAddress& source, TimePoint now) const {
  if (ice_) return is_validated(source) ? Admission::kAccept : Admission::kReject;
  if (destination_ && *destination_ == source) return Admission::kAccept;
  if (!heard_from_destination_ || now - last_heard_ >= kLatchSilence) return Admission::kAcceptIfAuthentic;
  return Admission::kReject;
}

bool RemoteAddressPolicy::admit_dtls(const TransportAddress& source) const {
  if (ice_) return is_validated(source);
  return !heard_from_destination_ || (destination_ && *destination_ == source);
}

bool RemoteAddressPolicy::on_authenticated(const TransportAddress& source, TimePoint now) {
  if (ice_) return false;  // ICE moves the destination by nomination only
  const bool moved = !destination_ || *destination_ != source;
  destination_ = source;
  heard_from_destination_ = true;
  last_heard_ = now;
  return moved;
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

void RemoteAddressPolicy::on_signalled(std::optional<TransportAddress> signalled) {
  if (ice_ || !signalled) return;
  if (destination_ && *destination_ == *signalled) return;
  destination_ = signalled;
  heard_from_destination_ = false;
}

std::optional<TransportAddress> RemoteAddressPolicy::destination(TimePoint now) const {
  if (!destination_) return std::nullopt;
  if (ice_ && (!last_consent_ || now - *last_consent_ > kConsentLifetime)) return std::nullopt;
  return destination_;
}

}  // namespace chorus::media
