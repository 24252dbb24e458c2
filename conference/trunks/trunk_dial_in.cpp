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

}  // namespace

const Room* find_trunk_room(const RoomDirectory& rooms, const TrunkDirectory& trunks,
                            const boost::asio::ip::address& source, const sip::SipMessage& invite) {
  const Trunk* trunk = trunks.identify(source, invite.request_uri.user);
  if (trunk == nullptr) return nullptr;
  const auto called = normalize_number(called_number(*trunk, invite), trunk->numbering);
  if (!called) return nullptr;
  const std::string e164_without_plus = called->starts_with('+') ? std::string() : "+" + *called;
  for (const Room* room : rooms.all()) {
    if (room->dial_in_number.empty()) continue;
    const auto number = normalize_number(room->dial_in_number, trunk->numbering);
    if (!number) continue;
    if (*number == *called || *number == e164_without_plus) return room;
  }
  return nullptr;
}

}  // namespace chorus::conference
