// The layout rules are the contract in video_layout.hpp; this file only carries them out.
//
// Each layout is built in two passes over a result reserved once: first choose who is shown, in
// order (so the tile counts are known), then give every tile its rectangle.
#include "mixer/video/video_layout.hpp"

#include <algorithm>
#include <cstdint>
#include <span>

namespace chorus::mixer {
namespace {

// The filmstrip is sized for its full capacity, so a full strip spans the canvas exactly.
constexpr int kFilmstripSlots = static_cast<int>(kMaxFilmstripTiles);

// Rounds a non-negative value down to even: I420 chroma covers 2×2 pixels. 64-bit, because the
// 16:9 fit multiplies a canvas side by 16, which overflows int for a side near INT_MAX.
int even_floor(std::int64_t value) {
  return static_cast<int>(value - value % 2);
}

bool canvas_is_valid(int width, int height) {
  return width >= kMinCanvasDimension && height >= kMinCanvasDimension && width % 2 == 0 && height % 2 == 0;
}

std::span<const LayoutMember> considered_members(const LayoutRequest& request) {
  const std::span<const LayoutMember> all(request.members);
  return all.first(std::min(all.size(), kMaxLayoutMembers));
}

// The first occurrence of `id` among the members (later duplicates are ignored), or nullptr.
const LayoutMember* find_member(std::span<const LayoutMember> members, std::optional<ParticipantId> id) {
  if (!id) return nullptr;
  const auto found = std::ranges::find(members, *id, &LayoutMember::id);
  return found == members.end() ? nullptr : &*found;
}

// Whether a tile already shows this member's camera. A content tile does not count: in a
// presentation the owner's camera may still appear in the filmstrip.
bool shows_camera_of(std::span<const Tile> tiles, ParticipantId id) {
  return std::ranges::any_of(tiles, [id](const Tile& tile) { return !tile.content && tile.id == id; });
}

void add_camera(std::vector<Tile>& tiles, const LayoutMember& member, TileRole role, const LayoutMember* speaker) {
  tiles.push_back(Tile{.id = member.id,
                       .role = role,
                       .speaker = speaker != nullptr && speaker->id == member.id,
                       .has_video = member.has_video});
}

// Adds the members whose camera is not shown yet, in join order, until there are `max_tiles`
// tiles. Each member is compared with at most max_tiles tiles, so this is O(n) for n members, and
// a later duplicate is skipped because its first occurrence is already shown (or the list is full).
void add_in_join_order(std::vector<Tile>& tiles, std::span<const LayoutMember> members, TileRole role,
                       std::size_t max_tiles, const LayoutMember* speaker) {
  for (const LayoutMember& member : members) {
    if (tiles.size() >= max_tiles) return;
    if (!shows_camera_of(tiles, member.id)) add_camera(tiles, member, role, speaker);
  }
}

void place_grid(std::span<Tile> tiles, int canvas_width, int canvas_height) {
  const std::size_t count = tiles.size();
  const int side = count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
  const int cell_width = even_floor(canvas_width / side);
  const int cell_height = even_floor(canvas_height / side);
  for (std::size_t i = 0; i < count; ++i) {
    const int column = static_cast<int>(i) % side;
    const int row = static_cast<int>(i) / side;
    tiles[i].rect = Rect{column * cell_width, row * cell_height, cell_width, cell_height};
  }
}

// The largest even 16:9 box in `width` × `height` (both even), at the top, centred horizontally.
// The limiting side is kept whole and the other is rounded down, so the box never spills over.
Rect fit_16_by_9(int width, int height) {
  Rect fitted;
  if (std::int64_t{width} * 9 >= std::int64_t{height} * 16) {
    fitted.height = height;
    fitted.width = even_floor(std::int64_t{height} * 16 / 9);
  } else {
    fitted.width = width;
    fitted.height = even_floor(std::int64_t{width} * 9 / 16);
  }
  fitted.x = even_floor((width - fitted.width) / 2);
  return fitted;
}

// tiles[0] is the large tile, the rest the filmstrip from left to right.
void place_large_and_filmstrip(std::span<Tile> tiles, int canvas_width, int canvas_height) {
  Tile& large = tiles.front();
  const std::span<Tile> filmstrip = tiles.subspan(1);
  if (filmstrip.empty()) {
    large.rect = Rect{0, 0, canvas_width, canvas_height};
    return;
  }
  const int tile_width = even_floor(canvas_width / kFilmstripSlots);
  const int tile_height = even_floor(canvas_height / kFilmstripSlots);
  const int strip_y = canvas_height - tile_height;
  const int strip_width = static_cast<int>(filmstrip.size()) * tile_width;
  const int strip_x = even_floor((canvas_width - strip_width) / 2);
  for (std::size_t j = 0; j < filmstrip.size(); ++j) {
    filmstrip[j].rect = Rect{strip_x + static_cast<int>(j) * tile_width, strip_y, tile_width, tile_height};
  }
  large.rect = fit_16_by_9(canvas_width, strip_y);
}

std::vector<Tile> compose_grid(const LayoutRequest& request, std::span<const LayoutMember> members,
                               const LayoutMember* speaker) {
  std::vector<Tile> tiles;
  tiles.reserve(std::min(members.size(), kMaxGridTiles));
  if (const LayoutMember* pinned = find_member(members, request.pinned)) {
    add_camera(tiles, *pinned, TileRole::kGrid, speaker);
  }
  if (speaker != nullptr && !shows_camera_of(tiles, speaker->id)) add_camera(tiles, *speaker, TileRole::kGrid, speaker);
  add_in_join_order(tiles, members, TileRole::kGrid, kMaxGridTiles, speaker);
  place_grid(tiles, request.canvas_width, request.canvas_height);
  return tiles;
}

std::vector<Tile> compose_speaker(const LayoutRequest& request, std::span<const LayoutMember> members,
                                  const LayoutMember* speaker) {
  const LayoutMember* large = find_member(members, request.pinned);
  if (large == nullptr) large = speaker;
  if (large == nullptr) large = &members.front();
  std::vector<Tile> tiles;
  tiles.reserve(std::min(members.size(), 1 + kMaxFilmstripTiles));
  add_camera(tiles, *large, TileRole::kLarge, speaker);
  if (speaker != nullptr && speaker != large) add_camera(tiles, *speaker, TileRole::kFilmstrip, speaker);
  add_in_join_order(tiles, members, TileRole::kFilmstrip, 1 + kMaxFilmstripTiles, speaker);
  place_large_and_filmstrip(tiles, request.canvas_width, request.canvas_height);
  return tiles;
}

// The content holds the large tile, so `pinned` has nowhere to go and is not used.
std::vector<Tile> compose_presentation(const LayoutRequest& request, std::span<const LayoutMember> members,
                                       const LayoutMember* speaker) {
  const LayoutMember* owner = find_member(members, request.content);
  if (owner == nullptr) return compose_speaker(request, members, speaker);
  std::vector<Tile> tiles;
  tiles.reserve(std::min(members.size() + 1, 1 + kMaxFilmstripTiles));
  tiles.push_back(Tile{.id = owner->id, .role = TileRole::kLarge, .content = true, .has_video = owner->has_video});
  add_camera(tiles, speaker != nullptr ? *speaker : *owner, TileRole::kFilmstrip, speaker);
  add_in_join_order(tiles, members, TileRole::kFilmstrip, 1 + kMaxFilmstripTiles, speaker);
  place_large_and_filmstrip(tiles, request.canvas_width, request.canvas_height);
  return tiles;
}

}  // namespace

std::string_view to_string(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kGrid:
      return "grid";
    case LayoutKind::kSpeaker:
      return "speaker";
    case LayoutKind::kPresentation:
      return "presentation";
  }
  return "grid";
}

std::optional<LayoutKind> layout_kind_from_string(std::string_view name) {
  if (name == "grid") return LayoutKind::kGrid;
  if (name == "speaker") return LayoutKind::kSpeaker;
  if (name == "presentation") return LayoutKind::kPresentation;
  return std::nullopt;
}

std::vector<Tile> compose_layout(const LayoutRequest& request) {
  if (!canvas_is_valid(request.canvas_width, request.canvas_height)) return {};
  const std::span<const LayoutMember> members = considered_members(request);
  if (members.empty()) return {};
  const LayoutMember* speaker = find_member(members, request.speaker);
  switch (request.kind) {
    case LayoutKind::kGrid:
      return compose_grid(request, members, speaker);
    case LayoutKind::kSpeaker:
      return compose_speaker(request, members, speaker);
    case LayoutKind::kPresentation:
      return compose_presentation(request, members, speaker);
  }
  return {};
}

}  // namespace chorus::mixer
