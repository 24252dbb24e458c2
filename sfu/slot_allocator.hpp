// Which participant each of a receiver's video slots shows (DESIGN §7 "Video model").
//
// A receiver has K video slots (its video m-lines: one for a SIP room system, a grid of up to nine
// for the web page). They show the last-N speakers: the room's producers (participants sending
// video) in the speaker detector's order, never the receiver itself, optionally with one pinned
// participant first. A slot is one continuous stream that switches source at a keyframe, so what
// matters is stability: a participant who stays among the K keeps its slot index, one who drops
// out frees exactly its slot for the newcomer, and nobody else moves.
//
// RankedProducers is built once per change of the speaker order or of the producer set and shared
// by every receiver of the room; SlotAllocator (one per receiver) then reads only the first K + 2
// entries of it (K plus the receiver itself plus the pinned one), so a room with N participants
// and N receivers costs O(N log N) for the ranking and O(N·K²) for the slots, never O(N²).
//
// Threading: plain values; owned by one room's router on its media worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "sfu/participant_id.hpp"

namespace chorus::sfu {

// A named limit on a receiver's slots: a 5×5 grid. The page asks for at most 9 today.
inline constexpr std::size_t kMaxSlots = 25;

// The producers of a room in speaker order: those the speaker order knows first, in its order,
// then producers it does not know yet (e.g. video arrived before the audio member was added),
// by id. Duplicates are ignored; entries beyond kMaxRoomParticipants are dropped and counted.
class RankedProducers {
 public:
  // O(N log N) for N = producers + order; reuses its buffers, so it allocates only while the room grows.
  void rebuild(std::span<const ParticipantId> speaker_order, std::span<const ParticipantId> producers);

  [[nodiscard]] std::span<const ParticipantId> ranked() const noexcept { return ranked_; }
  // Position in ranked(), O(log N); nullopt for a participant that is not a producer.
  [[nodiscard]] std::optional<std::size_t> rank_of(ParticipantId id) const noexcept;
  [[nodiscard]] bool contains(ParticipantId id) const noexcept { return rank_of(id).has_value(); }
  // Moves when a rebuild() changed ranked(): receivers need recomputing only then.
  [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  struct Entry {
    ParticipantId id = 0;
    std::uint32_t rank = 0;
    bool ranked = false;
  };

  std::vector<ParticipantId> ranked_;
  std::vector<ParticipantId> next_;  // the rebuild's result, swapped in
  std::vector<Entry> by_id_;         // sorted by id
  std::uint64_t version_ = 0;
  std::uint64_t dropped_ = 0;
};

enum class SlotError : std::uint8_t { kBadSlotCount };
[[nodiscard]] std::string_view to_string(SlotError error) noexcept;

class SlotAllocator {
 public:
  using Slots = std::vector<std::optional<ParticipantId>>;

  // `slot_count` must be 1..kMaxSlots.
  [[nodiscard]] static std::expected<SlotAllocator, SlotError> create(ParticipantId receiver, std::size_t slot_count);

  // Fills the slots from `producers`; `pinned` goes first when it is a producer and not the
  // receiver (otherwise it is ignored: see pinned_shown()). Returns the indices of the slots
  // whose occupant changed since the last call, ascending; valid until the next call.
  std::span<const std::size_t> assign(const RankedProducers& producers, std::optional<ParticipantId> pinned = {});

  // The receiver renegotiated its video m-lines. Growing adds empty slots (the next assign() fills
  // them); shrinking drops the trailing ones. The occupants of the others stay.
  [[nodiscard]] std::expected<void, SlotError> resize(std::size_t slot_count);

  // Size K; nullopt is a dark slot.
  [[nodiscard]] const Slots& slots() const noexcept { return slots_; }
  [[nodiscard]] ParticipantId receiver() const noexcept { return receiver_; }
  [[nodiscard]] bool pinned_shown() const noexcept { return pinned_shown_; }
  // Entries of RankedProducers::ranked() the last assign() read: at most K + 2, whatever N.
  [[nodiscard]] std::size_t last_examined() const noexcept { return last_examined_; }

 private:
  SlotAllocator(ParticipantId receiver, std::size_t slot_count);

  void choose_wanted(const RankedProducers& producers, std::optional<ParticipantId> pinned);

  ParticipantId receiver_;
  Slots slots_;
  std::vector<ParticipantId> wanted_;  // this round's K, best first
  std::vector<std::size_t> changed_;
  std::array<bool, kMaxSlots> placed_{};
  std::array<bool, kMaxSlots> slot_changed_{};
  bool pinned_shown_ = false;
  std::size_t last_examined_ = 0;
};

}  // namespace chorus::sfu
