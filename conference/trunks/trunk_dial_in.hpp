// Dial-in through a trunk (issue 15): which room a call from a trunk is for. The trunk is the one
// TrunkDirectory::identify finds for the INVITE's source address (or its registration's Contact
// user); the called number is the Request-URI user when that is a number and not the Contact user
// we registered (a provider sends calls to our Contact, RFC 3261 §10.2.1, and puts the dialled DID
// in To), else the To user. It is normalised with the trunk's TrunkNumbering and compared with every
// room's dial_in_number normalised the same way, so "+4930123456", "004930123456" and "030123456"
// all reach the room numbered "030123456". Bare digits (no prefix) on either side also match
// "+<digits>": room numbers are digits only, and many providers send the DID without the '+'.
// Pure: reads the directories, changes nothing; the control loop.
#pragma once

#include "conference/room.hpp"
#include "conference/trunks/trunk_directory.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::conference {

// nullptr: no trunk sent it, the called number does not normalise, or no room has that number.
[[nodiscard]] const Room* find_trunk_room(const RoomDirectory& rooms, const TrunkDirectory& trunks,
                                          const boost::asio::ip::address& source, const sip::SipMessage& invite);

}  // namespace chorus::conference
