// compose_layout: the grid, speaker and presentation geometry that the video MCU draws, checked
// rect by rect against the contract in video_layout.hpp, plus invariants over many room sizes.
#include "mixer/video/video_layout.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace chorus::mixer {
namespace video_layout_test {

using Ids = std::vector<ParticipantId>;
using Rects = std::vector<Rect>;

// Members 1..count in join order, all sending video.
std::vector<LayoutMember> members_up_to(ParticipantId count) {
  std::vector<LayoutMember> members;
  for (ParticipantId id = 1; id <= count; ++id) members.push_back({.id = id, .has_video = true});
  return members;
}

LayoutRequest request_for(LayoutKind kind, ParticipantId member_count) {
  LayoutRequest request;
  request.kind = kind;
  request.members = members_up_to(member_count);
  return request;
}

Ids ids_of(const std::vector<Tile>& tiles) {
  Ids ids;
  for (const Tile& tile : tiles) ids.push_back(tile.id);
  return ids;
}

Rects rects_of(const std::vector<Tile>& tiles) {
  Rects rects;
  for (const Tile& tile : tiles) rects.push_back(tile.rect);
  return rects;
}

// Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "(" + std::to_string(...).
std::string describe(const Rect& rect) {
  std::string text = "(";
  for (const int value : {rect.x, rect.y, rect.width, rect.height}) text += std::to_string(value) + ",";
  text.back() = ')';
  return text;
}

bool overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// 1280x720 speaker geometry: filmstrip tiles are 1280/6 → 212 by 720/6 = 120 at y = 600; the large
// tile is the widest 16:9 box over the strip: 600·16/9 = 1066.7 → 1066 wide, x = (1280 − 1066)/2 = 107 → 106.
constexpr Rect kLargeOverStrip{106, 0, 1066, 600};
constexpr int kStripY = 600;
constexpr int kStripTileWidth = 212;
constexpr int kStripTileHeight = 120;

TEST(VideoLayout, LayoutKindNamesRoundTripExactly) {
  for (const LayoutKind kind : {LayoutKind::kGrid, LayoutKind::kSpeaker, LayoutKind::kPresentation}) {
    EXPECT_EQ(layout_kind_from_string(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(LayoutKind::kGrid), "grid");
  EXPECT_EQ(to_string(LayoutKind::kSpeaker), "speaker");
  EXPECT_EQ(to_string(LayoutKind::kPresentation), "presentation");
  EXPECT_EQ(layout_kind_from_string("Grid"), std::nullopt);
  EXPECT_EQ(layout_kind_from_string("speaker "), std::nullopt);
  EXPECT_EQ(layout_kind_from_string(""), std::nullopt);
}

TEST(VideoLayout, NoMembersHaveNoTiles) {
  for (const LayoutKind kind : {LayoutKind::kGrid, LayoutKind::kSpeaker, LayoutKind::kPresentation}) {
    LayoutRequest request = request_for(kind, 0);
    request.speaker = 1;
    request.content = 1;
    EXPECT_TRUE(compose_layout(request).empty()) << to_string(kind);
  }
}

TEST(VideoLayout, OneMemberFillsTheCanvas) {
  const auto tiles = compose_layout(request_for(LayoutKind::kGrid, 1));
  ASSERT_EQ(tiles.size(), 1u);
  EXPECT_EQ(tiles[0], (Tile{.id = 1, .rect = {0, 0, 1280, 720}, .role = TileRole::kGrid, .has_video = true}));
}

TEST(VideoLayout, TwoToFourMembersMakeATwoByTwoGrid) {
  EXPECT_EQ(rects_of(compose_layout(request_for(LayoutKind::kGrid, 2))), (Rects{{0, 0, 640, 360}, {640, 0, 640, 360}}));
  EXPECT_EQ(rects_of(compose_layout(request_for(LayoutKind::kGrid, 3))),
            (Rects{{0, 0, 640, 360}, {640, 0, 640, 360}, {0, 360, 640, 360}}));
  const auto four = compose_layout(request_for(LayoutKind::kGrid, 4));
  EXPECT_EQ(rects_of(four), (Rects{{0, 0, 640, 360}, {640, 0, 640, 360}, {0, 360, 640, 360}, {640, 360, 640, 360}}));
  EXPECT_EQ(ids_of(four), (Ids{1, 2, 3, 4}));
  for (const Tile& tile : four) EXPECT_EQ(tile.role, TileRole::kGrid);
}

TEST(VideoLayout, FiveMembersMakeAThreeByThreeGridOfEvenCells) {
  // 1280/3 = 426.7 → 426 wide, 720/3 = 240 high; the grid leaves 2 columns of pixels on the right.
  EXPECT_EQ(
      rects_of(compose_layout(request_for(LayoutKind::kGrid, 5))),
      (Rects{{0, 0, 426, 240}, {426, 0, 426, 240}, {852, 0, 426, 240}, {0, 240, 426, 240}, {426, 240, 426, 240}}));
}

TEST(VideoLayout, SeventeenMembersShowTheFirstSixteenInAFourByFourGrid) {
  const auto tiles = compose_layout(request_for(LayoutKind::kGrid, 17));
  ASSERT_EQ(tiles.size(), kMaxGridTiles);
  EXPECT_EQ(ids_of(tiles), (Ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(tiles[5].rect, (Rect{320, 180, 320, 180}));
  EXPECT_EQ(tiles[15].rect, (Rect{960, 540, 320, 180}));
}

TEST(VideoLayout, PinnedMemberTakesTheFirstGridTile) {
  LayoutRequest request = request_for(LayoutKind::kGrid, 20);
  request.pinned = 18;  // beyond the 16 that join order alone would show
  const auto tiles = compose_layout(request);
  ASSERT_EQ(tiles.size(), kMaxGridTiles);
  EXPECT_EQ(ids_of(tiles), (Ids{18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(tiles[0].rect, (Rect{0, 0, 320, 180}));
  EXPECT_FALSE(tiles[0].speaker);
}

TEST(VideoLayout, SpeakerTakesTheFirstGridTileWhenNothingIsPinned) {
  LayoutRequest request = request_for(LayoutKind::kGrid, 3);
  request.speaker = 3;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{3, 1, 2}));
  EXPECT_EQ(tiles[0].rect, (Rect{0, 0, 640, 360}));
  EXPECT_TRUE(tiles[0].speaker);
  EXPECT_FALSE(tiles[1].speaker);
  EXPECT_FALSE(tiles[2].speaker);
}

TEST(VideoLayout, PinnedGoesBeforeTheSpeakerInTheGrid) {
  LayoutRequest request = request_for(LayoutKind::kGrid, 4);
  request.speaker = 4;
  request.pinned = 3;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{3, 4, 1, 2}));
  EXPECT_TRUE(tiles[1].speaker);
}

TEST(VideoLayout, PinnedOrSpeakerThatIsNotAMemberIsIgnored) {
  LayoutRequest request = request_for(LayoutKind::kGrid, 3);
  request.speaker = 9;
  request.pinned = 8;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{1, 2, 3}));
  for (const Tile& tile : tiles) EXPECT_FALSE(tile.speaker);
}

TEST(VideoLayout, SpeakerLayoutPutsTheFirstMemberLargeOverACentredFilmstrip) {
  const auto tiles = compose_layout(request_for(LayoutKind::kSpeaker, 3));
  // Two strip tiles are 424 wide: x0 = (1280 − 424)/2 = 428.
  const std::vector<Tile> expected{
      {.id = 1, .rect = kLargeOverStrip, .role = TileRole::kLarge, .has_video = true},
      {.id = 2,
       .rect = {428, kStripY, kStripTileWidth, kStripTileHeight},
       .role = TileRole::kFilmstrip,
       .has_video = true},
      {.id = 3,
       .rect = {640, kStripY, kStripTileWidth, kStripTileHeight},
       .role = TileRole::kFilmstrip,
       .has_video = true},
  };
  EXPECT_EQ(tiles, expected);
}

TEST(VideoLayout, SpeakerLayoutShowsTheSpeakerLarge) {
  LayoutRequest request = request_for(LayoutKind::kSpeaker, 3);
  request.speaker = 3;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{3, 1, 2}));
  EXPECT_EQ(rects_of(tiles), (Rects{kLargeOverStrip, {428, 600, 212, 120}, {640, 600, 212, 120}}));
  EXPECT_TRUE(tiles[0].speaker);
  EXPECT_EQ(tiles[0].role, TileRole::kLarge);
}

TEST(VideoLayout, SpeakerLayoutShowsThePinnedLargeAndTheSpeakerFirstInTheStrip) {
  LayoutRequest request = request_for(LayoutKind::kSpeaker, 4);
  request.speaker = 4;
  request.pinned = 2;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{2, 4, 1, 3}));
  EXPECT_FALSE(tiles[0].speaker);
  EXPECT_TRUE(tiles[1].speaker);
  // Three strip tiles are 636 wide: x0 = (1280 − 636)/2 = 322.
  EXPECT_EQ(tiles[1].rect, (Rect{322, 600, 212, 120}));
}

TEST(VideoLayout, SpeakerLayoutWithOneMemberIsTheWholeCanvas) {
  LayoutRequest request = request_for(LayoutKind::kSpeaker, 1);
  request.speaker = 1;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(tiles,
            (std::vector<Tile>{
                {.id = 1, .rect = {0, 0, 1280, 720}, .role = TileRole::kLarge, .speaker = true, .has_video = true}}));
}

TEST(VideoLayout, FilmstripIsCappedAtSix) {
  const auto tiles = compose_layout(request_for(LayoutKind::kSpeaker, 10));
  ASSERT_EQ(tiles.size(), 1 + kMaxFilmstripTiles);
  EXPECT_EQ(ids_of(tiles), (Ids{1, 2, 3, 4, 5, 6, 7}));
  // Six tiles are 1272 wide: x0 = (1280 − 1272)/2 = 4.
  for (std::size_t j = 0; j < kMaxFilmstripTiles; ++j) {
    EXPECT_EQ(tiles[1 + j].rect, (Rect{4 + static_cast<int>(j) * 212, 600, 212, 120})) << j;
  }
}

TEST(VideoLayout, TallCanvasFitsTheLargeTileToTheWidth) {
  LayoutRequest request = request_for(LayoutKind::kSpeaker, 2);
  request.canvas_width = 640;
  request.canvas_height = 1280;
  // Strip tiles 640/6 → 106 by 1280/6 → 212 at y = 1068; 640 × 9/16 = 360 fits under it.
  EXPECT_EQ(rects_of(compose_layout(request)), (Rects{{0, 0, 640, 360}, {266, 1068, 106, 212}}));
}

TEST(VideoLayout, PresentationShowsTheContentLargeAndTheSpeakerFirstInTheStrip) {
  LayoutRequest request = request_for(LayoutKind::kPresentation, 4);
  request.members[1].has_video = false;  // the presenter has no camera; the content is still shown
  request.content = 2;
  request.speaker = 3;
  request.pinned = 4;  // the content holds the large tile: the pin has no effect
  const auto tiles = compose_layout(request);
  // Four strip tiles are 848 wide: x0 = (1280 − 848)/2 = 216.
  const std::vector<Tile> expected{
      {.id = 2, .rect = kLargeOverStrip, .role = TileRole::kLarge, .content = true},
      {.id = 3, .rect = {216, 600, 212, 120}, .role = TileRole::kFilmstrip, .speaker = true, .has_video = true},
      {.id = 1, .rect = {428, 600, 212, 120}, .role = TileRole::kFilmstrip, .has_video = true},
      {.id = 2, .rect = {640, 600, 212, 120}, .role = TileRole::kFilmstrip},
      {.id = 4, .rect = {852, 600, 212, 120}, .role = TileRole::kFilmstrip, .has_video = true},
  };
  EXPECT_EQ(tiles, expected);
}

TEST(VideoLayout, PresentationWithoutASpeakerStartsTheStripWithThePresentersCamera) {
  LayoutRequest request = request_for(LayoutKind::kPresentation, 4);
  request.content = 3;
  const auto tiles = compose_layout(request);
  EXPECT_EQ(ids_of(tiles), (Ids{3, 3, 1, 2, 4}));
  EXPECT_TRUE(tiles[0].content);
  EXPECT_FALSE(tiles[1].content);
}

TEST(VideoLayout, PresentingSpeakerIsFlaggedOnlyOnTheCamera) {
  LayoutRequest request = request_for(LayoutKind::kPresentation, 1);
  request.content = 1;
  request.speaker = 1;
  const auto tiles = compose_layout(request);
  ASSERT_EQ(tiles.size(), 2u);
  EXPECT_TRUE(tiles[0].content);
  EXPECT_FALSE(tiles[0].speaker);
  EXPECT_EQ(tiles[0].rect, kLargeOverStrip);
  EXPECT_EQ(tiles[1], (Tile{.id = 1,
                            .rect = {534, 600, 212, 120},  // (1280 − 212)/2 = 534
                            .role = TileRole::kFilmstrip,
                            .speaker = true,
                            .has_video = true}));
}

TEST(VideoLayout, PresentationWithoutLiveContentIsTheSpeakerLayout) {
  LayoutRequest presentation = request_for(LayoutKind::kPresentation, 5);
  presentation.speaker = 4;
  presentation.pinned = 2;
  LayoutRequest speaker = presentation;
  speaker.kind = LayoutKind::kSpeaker;
  const auto expected = compose_layout(speaker);
  ASSERT_EQ(expected.size(), 5u);
  EXPECT_EQ(compose_layout(presentation), expected);
  presentation.content = 9;  // not a member
  EXPECT_EQ(compose_layout(presentation), expected);
}

TEST(VideoLayout, ContentIsIgnoredOutsidePresentation) {
  for (const LayoutKind kind : {LayoutKind::kGrid, LayoutKind::kSpeaker}) {
    LayoutRequest request = request_for(kind, 3);
    const auto without_content = compose_layout(request);
    request.content = 2;
    EXPECT_EQ(compose_layout(request), without_content) << to_string(kind);
  }
}

TEST(VideoLayout, OddOrTooSmallCanvasHasNoTiles) {
  const std::array<std::array<int, 2>, 7> invalid{
      {{1281, 720}, {1280, 719}, {62, 720}, {1280, 62}, {0, 0}, {-1280, 720}, {65, 64}}};
  for (const LayoutKind kind : {LayoutKind::kGrid, LayoutKind::kSpeaker, LayoutKind::kPresentation}) {
    for (const auto& [width, height] : invalid) {
      LayoutRequest request = request_for(kind, 3);
      request.canvas_width = width;
      request.canvas_height = height;
      EXPECT_TRUE(compose_layout(request).empty()) << to_string(kind) << " " << width << "x" << height;
    }
    LayoutRequest smallest = request_for(kind, 3);
    smallest.canvas_width = kMinCanvasDimension;
    smallest.canvas_height = kMinCanvasDimension;
    EXPECT_EQ(compose_layout(smallest).size(), 3u) << to_string(kind);
  }
}

TEST(VideoLayout, DuplicateIdsCountAtTheirFirstOccurrence) {
  LayoutRequest request;
  request.members = {{.id = 1, .has_video = true}, {.id = 2}, {.id = 1}, {.id = 3, .has_video = true}, {.id = 2}};
  const auto grid = compose_layout(request);
  EXPECT_EQ(ids_of(grid), (Ids{1, 2, 3}));  // three, so a 2×2 grid
  EXPECT_EQ(grid[2].rect, (Rect{0, 360, 640, 360}));
  EXPECT_TRUE(grid[0].has_video);
  EXPECT_FALSE(grid[1].has_video);
  EXPECT_TRUE(grid[2].has_video);

  request.kind = LayoutKind::kSpeaker;
  request.speaker = 2;
  EXPECT_EQ(ids_of(compose_layout(request)), (Ids{2, 1, 3}));
}

TEST(VideoLayout, OnlyTheFirstThousandMembersAreConsidered) {
  constexpr auto kLastConsidered = static_cast<ParticipantId>(kMaxLayoutMembers);
  LayoutRequest request = request_for(LayoutKind::kGrid, kLastConsidered + 1);
  request.pinned = kLastConsidered + 1;  // member 1001: beyond the limit, so not pinned
  request.speaker = kLastConsidered;
  const auto tiles = compose_layout(request);
  ASSERT_EQ(tiles.size(), kMaxGridTiles);
  EXPECT_EQ(tiles[0].id, kLastConsidered);
  EXPECT_TRUE(tiles[0].speaker);
}

// Invariants over every kind, several canvases and 0..40 members (with a duplicate, and every
// combination of speaker, pin and content): rects even, inside the canvas and disjoint; each
// member's camera at most once; at most one content tile, the live content's, in presentation only.
void expect_layout_invariants(const LayoutRequest& request, const std::vector<Tile>& tiles, std::size_t distinct) {
  const bool content_live = request.kind == LayoutKind::kPresentation && request.content.has_value() && distinct > 0;
  const std::size_t expected_count = request.kind == LayoutKind::kGrid ? std::min(distinct, kMaxGridTiles)
                                     : content_live                    ? std::min(distinct + 1, 1 + kMaxFilmstripTiles)
                                                                       : std::min(distinct, 1 + kMaxFilmstripTiles);
  ASSERT_EQ(tiles.size(), expected_count);
  std::set<ParticipantId> cameras;
  std::size_t content_tiles = 0;
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const Tile& tile = tiles[i];
    const Rect& rect = tile.rect;
    SCOPED_TRACE("tile " + std::to_string(i) + " " + describe(rect));
    EXPECT_TRUE(rect.x % 2 == 0 && rect.y % 2 == 0 && rect.width % 2 == 0 && rect.height % 2 == 0);
    EXPECT_TRUE(rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0);
    EXPECT_LE(rect.x + rect.width, request.canvas_width);
    EXPECT_LE(rect.y + rect.height, request.canvas_height);
    for (std::size_t j = 0; j < i; ++j) EXPECT_FALSE(overlap(rect, tiles[j].rect)) << "overlaps tile " << j;
    EXPECT_TRUE(tile.id >= 1 && tile.id <= distinct);
    EXPECT_EQ(tile.speaker, !tile.content && request.speaker == tile.id);
    if (tile.content) {
      ++content_tiles;
      EXPECT_EQ(tile.id, request.content);
      EXPECT_EQ(tile.role, TileRole::kLarge);
    } else {
      EXPECT_TRUE(cameras.insert(tile.id).second) << "camera of " << tile.id << " twice";
    }
  }
  EXPECT_EQ(content_tiles, content_live ? 1u : 0u);
}

TEST(VideoLayout, EveryLayoutIsEvenInsideAndDisjoint) {
  const std::array<std::array<int, 2>, 4> canvases{{{1280, 720}, {640, 360}, {1920, 1080}, {320, 180}}};
  for (const auto& [width, height] : canvases) {
    for (const LayoutKind kind : {LayoutKind::kGrid, LayoutKind::kSpeaker, LayoutKind::kPresentation}) {
      for (ParticipantId count = 0; count <= 40; ++count) {
        for (unsigned roles = 0; roles < 8; ++roles) {
          LayoutRequest request = request_for(kind, count);
          request.canvas_width = width;
          request.canvas_height = height;
          for (std::size_t i = 0; i < request.members.size(); ++i) request.members[i].has_video = i % 3 != 0;
          if (count > 1) request.members.push_back({.id = 1});  // a duplicate, ignored
          if (count > 0 && (roles & 1u) != 0) request.speaker = count / 2 + 1;
          if (count > 0 && (roles & 2u) != 0) request.pinned = count;
          if (count > 0 && (roles & 4u) != 0) request.content = (count + 2) / 3;
          SCOPED_TRACE(std::string(to_string(kind)) + " " + std::to_string(width) + "x" + std::to_string(height) +
                       " n=" + std::to_string(count) + " roles=" + std::to_string(roles));
          expect_layout_invariants(request, compose_layout(request), count);
        }
      }
    }
  }
}

}  // namespace video_layout_test
}  // namespace chorus::mixer
