// The selective forwarder's name for a participant, shared by the speaker detector, the slot
// allocator and the router (the conference layer maps its own ids onto these, as it does for the
// audio MCU's mixer::ParticipantId, which has the same representation).
//
// Threading: plain values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chorus::sfu {

using ParticipantId = std::uint32_t;

// A named limit on the members one room's selection logic tracks (DESIGN §7: every per-source
// resource has a limit). Buffers that grow with the room stop growing here; adding more fails.
inline constexpr std::size_t kMaxRoomParticipants = 1000;

}  // namespace chorus::sfu
