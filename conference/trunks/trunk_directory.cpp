#include "conference/trunks/trunk_directory.hpp"

#include <utility>

namespace chorus::conference {

std::string_view registration_contact_user(const TrunkRegistration& registration) {
  return registration.contact_user.empty() ? std::string_view(registration.username)
                                           : std::string_view(registration.contact_user);
}

void TrunkDirectory::replace(Trunk trunk) {
  Entry entry;
  for (const std::string& text : trunk.inbound_ranges) {
    if (auto range = sip::parse_address_range(text)) entry.ranges.push_back(*range);
  }
  const std::string id = trunk.id;
  entry.trunk = std::move(trunk);
  auto& stored = entries_.insert_or_assign(id, std::move(entry)).first->second;
  if (!stored.trunk.registration) statuses_.erase(id);
  if (listener_) listener_(id, &stored.trunk);
}

bool TrunkDirectory::remove(std::string_view id) {
  const auto found = entries_.find(id);
  if (found == entries_.end()) return false;
  const std::string key = found->first;
  entries_.erase(found);
  if (const auto status = statuses_.find(key); status != statuses_.end()) statuses_.erase(status);
  if (listener_) listener_(key, nullptr);
  return true;
}

const Trunk* TrunkDirectory::find(std::string_view id) const {
  const auto found = entries_.find(id);
  return found == entries_.end() ? nullptr : &found->second.trunk;
}

std::vector<const Trunk*> TrunkDirectory::all() const {
  std::vector<const Trunk*> trunks;
  trunks.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) trunks.push_back(&entry.trunk);
  return trunks;
}

const Trunk* TrunkDirectory::identify(const boost::asio::ip::address& source, std::string_view request_user) const {
  for (const auto& [id, entry] : entries_) {
    if (sip::any_contains(entry.ranges, source)) return &entry.trunk;
  }
  if (request_user.empty()) return nullptr;
  for (const auto& [id, entry] : entries_) {
    const Trunk& trunk = entry.trunk;
    if (trunk.inbound_from_registration && trunk.registration &&
        registration_contact_user(*trunk.registration) == request_user) {
      return &trunk;
    }
  }
  return nullptr;
}

void TrunkDirectory::set_status(std::string_view id, RegistrationStatus status) {
  if (entries_.find(id) == entries_.end()) return;  // reported after a delete: nothing to show it on
  statuses_.insert_or_assign(std::string(id), std::move(status));
}

std::optional<RegistrationStatus> TrunkDirectory::status(std::string_view id) const {
  const auto found = statuses_.find(id);
  if (found == statuses_.end()) return std::nullopt;
  return found->second;
}

}  // namespace chorus::conference
