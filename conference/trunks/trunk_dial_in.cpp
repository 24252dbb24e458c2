#include "conference/trunks/trunk_dial_in.hpp"

#include <string>

#include "conference/trunks/number_normalization.hpp"

namespace chorus::conference {
namespace {

std::string_view called_number(const Trunk& trunk, const sip::SipMessage& invite) {
  const std::string& request_user = invite.request_uri.user;
  const bool to_our_contact = trunk.registration && registration_contact_user(*trunk.registration) == request_user;
  if (looks_like_number(request_user) && !to_our_contact) return request_user;
  return invite.to.uri.user;
}

// Bare digits on one side may be E.164 without its '+' (room numbers are stored as digits only;
// providers often send the DID so): "4930123456" and "+4930123456" are the same number.
bool same_number(std::string_view a, std::string_view b) {
  if (a == b) return true;
  if (a.starts_with('+') && !b.starts_with('+')) return a.substr(1) == b;
  if (b.starts_with('+') && !a.starts_with('+')) return b.substr(1) == a;
  return false;
}

}  // namespace

const Room* find_trunk_room(const RoomDirectory& rooms, const TrunkDirectory& trunks,
                            const boost::asio::ip::address& source, const sip::SipMessage& invite) {
  const Trunk* trunk = trunks.identify(source, invite.request_uri.user);
  if (trunk == nullptr) return nullptr;
  const auto called = normalize_number(called_number(*trunk, invite), trunk->numbering);
  if (!called) return nullptr;
  for (const Room* room : rooms.all()) {
    if (room->dial_in_number.empty()) continue;
    const auto number = normalize_number(room->dial_in_number, trunk->numbering);
    if (number && same_number(*number, *called)) return room;
  }
  return nullptr;
}

}  // namespace chorus::conference
