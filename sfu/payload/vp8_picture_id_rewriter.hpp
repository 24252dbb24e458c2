// Vp8PictureIdRewriter: keeps one forwarded VP8 stream's PictureID and TL0PICIDX continuous
// (RFC 7741 §4.2) while its source switches between producers and simulcast layers, the
// companion of StreamRewriter (which does the same for RTP sequence numbers and timestamps).
//
// A receiver's decoder uses PictureID to detect lost frames and TL0PICIDX to tie temporal-layer
// frames to their base frame; after a switch both would jump to the new encoder's values. So,
// as StreamRewriter does for sequence numbers: within one source each field is the source's
// value plus a fixed offset (reordered and repeated packets map consistently); on the first
// packet of a new source the field continues at the last forwarded value + 1 (the switch point
// is a keyframe, so a new picture and a new base-layer frame), and the source's own deltas
// are kept from there.
//
// The outgoing id lives in the 15-bit PictureID space. A field keeps its width on the wire
// (rewriting in place cannot grow a descriptor): a 7-bit field gets the outgoing id mod 128. A
// 7-bit source's ids are extended across their mod-128 wrap before the offset is applied, so a
// 7-bit source forwarded into a stream that began 15-bit still advances one per picture.
//
// Call it only for packets StreamRewriter forwarded, with its `switched` flag. Packets without
// PictureID/TL0PICIDX pass unchanged. No allocation, no throw.
//
// Threading: one per forwarded stream (slot), on its room's media worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "sfu/payload/vp8_descriptor.hpp"

namespace chorus::sfu {

class Vp8PictureIdRewriter {
 public:
  // Rewrites the descriptor at the start of `payload` (an RTP payload) in place. `switched` is
  // true for the first packet forwarded from a new source. An error (nothing changed) when the
  // descriptor does not parse: the caller drops and counts the packet.
  std::expected<void, Vp8Error> rewrite(std::span<std::uint8_t> payload, bool switched) noexcept;

  // The newest outgoing values so far (15-bit PictureID), for tests and logs.
  [[nodiscard]] std::optional<std::uint16_t> last_picture_id() const noexcept;
  [[nodiscard]] std::optional<std::uint8_t> last_tl0_pic_idx() const noexcept;

 private:
  [[nodiscard]] std::uint16_t map_picture_id(std::uint16_t picture_id, PictureIdWidth width) noexcept;
  [[nodiscard]] std::uint8_t map_tl0_pic_idx(std::uint8_t tl0_pic_idx) noexcept;

  // Per source (reset on a switch).
  bool source_has_picture_id_ = false;
  std::int64_t source_last_extended_ = 0;  // newest id seen, extended across its field's wraps
  std::uint16_t picture_id_offset_ = 0;    // outgoing - extended, mod 2^15
  bool source_has_tl0_ = false;
  std::uint8_t tl0_offset_ = 0;  // outgoing - source, mod 2^8

  // Per outgoing stream.
  bool have_picture_id_ = false;
  std::uint16_t last_picture_id_ = 0;
  bool have_tl0_ = false;
  std::uint8_t last_tl0_ = 0;
};

}  // namespace chorus::sfu
