// TrunkDirectory: the trunks the SIP path and the registrations read (issue 15), as RoomDirectory is
// for rooms. Loaded from the store at start; the REST routes write the store first, then replace or
// remove here, and the directory tells its listener (chorusd's registrations) so changes apply live.
// It also holds each trunk's registration status, which the registrations report and REST shows.
//
// Inbound identification: a request from an address inside a trunk's `inbound_ranges`, or (with
// `inbound_from_registration`) addressed to the Contact user that trunk registers, comes from it.
//
// Threading: the control loop only (DESIGN §2).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/trunks/trunk.hpp"
#include "signaling/transport/address_range.hpp"

namespace chorus::conference {

enum class RegistrationState { kUnregistered, kRegistering, kRegistered, kFailed };

constexpr std::string_view to_string(RegistrationState state) {
  switch (state) {
    case RegistrationState::kUnregistered:
      return "unregistered";
    case RegistrationState::kRegistering:
      return "registering";
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kFailed:
      return "failed";
  }
  return "unregistered";
}

struct RegistrationStatus {
  RegistrationState state = RegistrationState::kUnregistered;
  std::string last_error;                                           // empty: none since the last success
  std::optional<std::chrono::system_clock::time_point> expires_at;  // while registered
  bool operator==(const RegistrationStatus&) const = default;
};

class TrunkDirectory {
 public:
  // `trunk` is the new or changed trunk, nullptr when `id` was removed.
  using Listener = std::function<void(std::string_view id, const Trunk* trunk)>;

  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // Adds or replaces (by id) and tells the listener. Ranges that do not parse are ignored here
  // (REST refuses them before they are stored).
  void replace(Trunk trunk);
  bool remove(std::string_view id);
  [[nodiscard]] const Trunk* find(std::string_view id) const;
  [[nodiscard]] std::vector<const Trunk*> all() const;
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

  // The trunk an inbound request comes from: the first (by id) whose ranges hold `source`, else
  // the first that takes calls to its registration's Contact user `request_user`; nullptr: none.
  [[nodiscard]] const Trunk* identify(const boost::asio::ip::address& source, std::string_view request_user) const;

  void set_status(std::string_view id, RegistrationStatus status);
  // The last status reported for the trunk; nullopt when none was (no registration).
  [[nodiscard]] std::optional<RegistrationStatus> status(std::string_view id) const;

 private:
  struct Entry {
    Trunk trunk;
    std::vector<sip::AddressRange> ranges;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  std::map<std::string, RegistrationStatus, std::less<>> statuses_;
  Listener listener_;
};

// The contact user a trunk registers: the registration's contact_user, else its username.
[[nodiscard]] std::string_view registration_contact_user(const TrunkRegistration& registration);

}  // namespace chorus::conference
