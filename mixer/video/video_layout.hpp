// The video MCU's layout core: which participant goes in which rectangle of the composed canvas.
//
// DESIGN §7: an `mcu` room encodes each layout class once and fans it out, so the layout is a
// pure function of the room's state (members, speaker, pin, live content) and the canvas size;
// the compositor only draws what `compose_layout` returns. Integration tests compute the expected
// rectangles from the rules below, so they are a contract: change them only with the tests.
//
// Geometry, for every kind (W × H is the canvas, even_floor(v) rounds v down to an even integer):
// - the canvas is valid when W and H are even and at least kMinCanvasDimension; otherwise there
//   are no tiles. Every coordinate and size is even (I420 chroma is subsampled 2×2, so an odd
//   edge would split a chroma sample), every tile lies inside the canvas, and no two overlap;
// - only the first kMaxLayoutMembers entries of `members` are considered, and of those an id
//   counts at its first occurrence (later duplicates are ignored, including their has_video);
// - `speaker` and `pinned` count only when they name a member; `content` only in presentation.
//
// grid: visible = pinned, then the speaker (when not pinned), then the other members in join
//   order, at most kMaxGridTiles. cols = rows = 1 (n ≤ 1), 2 (n ≤ 4), 3 (n ≤ 9), 4 (n ≤ 16).
//   Cell = even_floor(W / cols) × even_floor(H / rows); visible tile i sits at column i % cols,
//   row i / cols: (col · cellW, row · cellH). All tiles are kGrid, in visible order.
// speaker: the large tile is pinned, else the speaker, else the first member. The filmstrip is
//   the others: the speaker first (when not large), then join order, at most kMaxFilmstripTiles.
//   Filmstrip tile = even_floor(W / 6) × even_floor(H / 6) = w × h, in the bottom row y = H − h,
//   centred as a group: x0 = even_floor((W − k·w) / 2), tile j at x0 + j·w.
//   The large tile, with a filmstrip, is the largest even 16:9 box in W × (H − h) at y = 0,
//   x = even_floor((W − lw) / 2): when W·9 ≥ (H − h)·16 it is even_floor((H − h)·16 / 9) × (H − h),
//   else W × even_floor(W·9 / 16). With no filmstrip (one member) it is the whole canvas.
// presentation: when `content` names a member, the large tile shows that member's content stream
//   (id = the owner, content = true) and the filmstrip is the speaker (or, with no speaker, the
//   owner's camera) first, then the others in join order (the owner's camera included), at most
//   kMaxFilmstripTiles, with the speaker geometry. `pinned` has no effect while content is live:
//   the content holds the large tile. Without live content it is exactly the speaker layout.
// The result lists the large tile first, then the filmstrip left to right.
//
// Every tile: `speaker` is set when it shows the speaker's camera (never on a content tile);
// `has_video` is copied from the member (for a content tile too: the renderer tells the two
// apart by `content`).
//
// Cost: O(n) for n members (each one is compared with at most kMaxGridTiles chosen tiles); the
// only allocation is the result. Threading: pure function of plain values, callable from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

inline constexpr std::size_t kMaxGridTiles = 16;        // a 4 × 4 grid; more are not legible
inline constexpr std::size_t kMaxFilmstripTiles = 6;    // one row of sixth-width thumbnails
inline constexpr std::size_t kMaxLayoutMembers = 1000;  // a named limit on the work per layout
inline constexpr int kMinCanvasDimension = 64;          // smaller canvases have no useful tiles

enum class LayoutKind { kGrid, kSpeaker, kPresentation };

// "grid", "speaker", "presentation".
[[nodiscard]] std::string_view to_string(LayoutKind kind);
// Only the exact lowercase names above; anything else (other case, spaces) is nullopt.
[[nodiscard]] std::optional<LayoutKind> layout_kind_from_string(std::string_view name);

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  friend bool operator==(const Rect&, const Rect&) = default;
};

struct LayoutMember {
  ParticipantId id = 0;
  bool has_video = false;  // the member is sending camera video (else the compositor draws a placeholder)
};

struct LayoutRequest {
  LayoutKind kind = LayoutKind::kGrid;
  int canvas_width = 1280;               // even, at least kMinCanvasDimension
  int canvas_height = 720;               // even, at least kMinCanvasDimension
  std::vector<LayoutMember> members;     // in join order; the first kMaxLayoutMembers are considered
  std::optional<ParticipantId> speaker;  // the active speaker, if any
  std::optional<ParticipantId> pinned;   // pinned by an integrator, if any (counts only if a member)
  std::optional<ParticipantId> content;  // whose content stream (RFC 4796 slides) is live; presentation only
};

enum class TileRole { kGrid, kLarge, kFilmstrip };

struct Tile {
  ParticipantId id = 0;
  Rect rect;
  TileRole role = TileRole::kGrid;
  bool content = false;    // this tile shows the member's content stream, not its camera
  bool speaker = false;    // this tile shows the active speaker's camera
  bool has_video = false;  // copied from the member
  friend bool operator==(const Tile&, const Tile&) = default;
};

// The tiles of `request`'s layout, by the rules above; empty for an invalid canvas or no members.
[[nodiscard]] std::vector<Tile> compose_layout(const LayoutRequest& request);

}  // namespace chorus::mixer
