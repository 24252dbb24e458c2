// LayerSelector: simulcast layers per slot that fit the estimate, speaker first, with hysteresis.
#include "sfu/layer_selector.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace chorus::sfu {
namespace layer_selector_test {

using Clock = LayerSelector::Clock;
using std::chrono::milliseconds;
using Layers = std::vector<std::optional<int>>;

const Clock::time_point kNow = Clock::time_point{} + std::chrono::hours{1};
const Clock::time_point kLongAgo = kNow - std::chrono::seconds{30};

// A camera's three simulcast layers as a browser sends them, measured: 180p, 360p, 720p.
constexpr std::int64_t kLowBps = 100'000;
constexpr std::int64_t kMidBps = 350'000;
constexpr std::int64_t kHighBps = 1'200'000;
const std::array<LayerCandidate, 3> kCamera = {{
    {.spatial = 0, .bitrate_bps = kLowBps, .width = 320, .height = 180, .live_since = kLongAgo},
    {.spatial = 1, .bitrate_bps = kMidBps, .width = 640, .height = 360, .live_since = kLongAgo},
    {.spatial = 2, .bitrate_bps = kHighBps, .width = 1280, .height = 720, .live_since = kLongAgo},
}};

std::vector<SlotDemand> cameras(std::size_t slots) {
  std::vector<SlotDemand> demands;
  for (std::size_t slot = 0; slot < slots; ++slot) demands.push_back({.slot = slot, .layers = kCamera});
  return demands;
}

Layers layers_of(const LayerPlan& plan) {
  Layers layers;
  for (const SlotLayer& slot : plan.slots) layers.push_back(slot.spatial);
  return layers;
}

struct EstimateCase {
  std::int64_t estimate_bps;
  std::size_t slots;
  Layers expected;
  std::size_t dark_for_bandwidth;
};

// A fresh receiver (every slot dark before, so lighting or raising needs the 15 % margin):
// first the lowest layer for as many slots as fit, speaker first, then upgrades in speaker order.
TEST(LayerSelector, FitsOneFourAndNineSlotsInto150k600kAnd3M) {
  constexpr std::nullopt_t d = std::nullopt;
  const std::vector<EstimateCase> cases = {
      {150'000, 1, {0}, 0},
      {600'000, 1, {1}, 0},
      {3'000'000, 1, {2}, 0},
      {150'000, 4, {0, d, d, d}, 3},
      {600'000, 4, {0, 0, 0, 0}, 0},    // 4 × 100k; 360p for the speaker would be 650k
      {3'000'000, 4, {2, 2, 0, 0}, 0},  // 2.6M; a third 360p would need 2.85M × 1.15
      {150'000, 9, {0, d, d, d, d, d, d, d, d}, 8},
      {600'000, 9, {0, 0, 0, 0, 0, d, d, d, d}, 4},  // 500k × 1.15 = 575k; a sixth does not fit
      {3'000'000, 9, {2, 1, 1, 0, 0, 0, 0, 0, 0}, 0},
  };
  for (const EstimateCase& c : cases) {
    LayerSelector selector;
    const auto demands = cameras(c.slots);
    const LayerPlan plan = selector.select(c.estimate_bps, demands, kNow);
    EXPECT_EQ(layers_of(plan), c.expected) << c.estimate_bps << " bps, " << c.slots << " slots";
    EXPECT_EQ(plan.dark_for_bandwidth, c.dark_for_bandwidth) << c.estimate_bps << " bps, " << c.slots << " slots";
    EXPECT_LE(plan.total_bps, c.estimate_bps);
    EXPECT_EQ(plan.wanted_bps, static_cast<std::int64_t>(c.slots) * kHighBps);
    std::int64_t sum = 0;
    for (const SlotLayer& slot : plan.slots) {
      sum += slot.bitrate_bps;
      EXPECT_EQ(slot.dark, slot.spatial ? DarkReason::kNone : DarkReason::kNoBandwidth);
    }
    EXPECT_EQ(plan.total_bps, sum);
  }
}

TEST(LayerSelector, AnEstimateOscillatingAroundAThresholdSwitchesDownOnceAndNeverFlaps) {
  LayerSelector selector;
  const auto demands = cameras(1);
  ASSERT_EQ(layers_of(selector.select(600'000, demands, kNow)), (Layers{1}));
  int changes = 0;
  // 360p costs 350k. The estimate wobbles 340k ↔ 380k: down at once on the first dip, and not
  // back up until it exceeds 350k × 1.15 ≈ 402k.
  for (int i = 0; i < 50; ++i) {
    const LayerPlan plan = selector.select(i % 2 == 0 ? 340'000 : 380'000, demands, kNow);
    changes += plan.slots[0].changed ? 1 : 0;
    EXPECT_EQ(plan.slots[0].spatial, 0) << "round " << i;
  }
  EXPECT_EQ(changes, 1);
  // Now it wobbles 395k ↔ 410k: up once, and staying up through the dips (350k ≤ 395k).
  changes = 0;
  for (int i = 0; i < 50; ++i) {
    const LayerPlan plan = selector.select(i % 2 == 0 ? 410'000 : 395'000, demands, kNow);
    changes += plan.slots[0].changed ? 1 : 0;
    EXPECT_EQ(plan.slots[0].spatial, 1) << "round " << i;
  }
  EXPECT_EQ(changes, 1);
}

TEST(LayerSelector, ADarkSlotLightsOnlyWithTheMarginAndGoesDarkAtOnce) {
  LayerSelector selector;
  const auto demands = cameras(4);
  EXPECT_EQ(layers_of(selector.select(390'000, demands, kNow)), (Layers{0, 0, 0, std::nullopt}));
  // 400k would fit exactly, but lighting the fourth slot needs 460k.
  EXPECT_EQ(layers_of(selector.select(410'000, demands, kNow)), (Layers{0, 0, 0, std::nullopt}));
  EXPECT_EQ(layers_of(selector.select(300'000, demands, kNow)), (Layers{0, 0, 0, std::nullopt}));
  EXPECT_EQ(layers_of(selector.select(290'000, demands, kNow)), (Layers{0, 0, std::nullopt, std::nullopt}));
  EXPECT_EQ(layers_of(selector.select(460'000, demands, kNow)), (Layers{0, 0, 0, 0}));
}

TEST(LayerSelector, MovesUpOnlyToALayerThatHasBeenLiveForAWhile) {
  LayerSelector selector;
  std::array<LayerCandidate, 3> layers = kCamera;
  layers[2].live_since = kNow - milliseconds{200};  // the sender just (re)started 720p
  const std::vector<SlotDemand> demands = {{.slot = 0, .layers = layers}};
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow)), (Layers{1}));
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow + milliseconds{700})), (Layers{1}));
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow + milliseconds{800})), (Layers{2}));
}

TEST(LayerSelector, ANewProducerIsShownAtOnceAtItsLowestLayer) {
  LayerSelector selector;
  std::array<LayerCandidate, 3> layers = kCamera;
  for (LayerCandidate& layer : layers) layer.live_since = kNow;
  const std::vector<SlotDemand> demands = {{.slot = 0, .layers = layers}};
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow)), (Layers{0}));
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow + std::chrono::seconds{1})), (Layers{2}));
}

TEST(LayerSelector, ADeadLayerIsNeverChosen) {
  LayerSelector selector;
  std::array<LayerCandidate, 3> layers = kCamera;
  const std::vector<SlotDemand> demands = {{.slot = 0, .layers = layers}};
  ASSERT_EQ(layers_of(selector.select(600'000, demands, kNow)), (Layers{1}));
  layers[1].live_since.reset();  // the sender dropped 360p (its own uplink is short)
  const LayerPlan down = selector.select(600'000, demands, kNow);
  EXPECT_EQ(layers_of(down), (Layers{0})) << "at once, and not up to 720p which does not fit";
  EXPECT_TRUE(down.slots[0].changed);
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow)), (Layers{2})) << "skips the dead middle";
  layers[0].live_since.reset();
  layers[2].live_since.reset();
  const LayerPlan dark = selector.select(3'000'000, demands, kNow);
  EXPECT_EQ(layers_of(dark), (Layers{std::nullopt}));
  EXPECT_EQ(dark.slots[0].dark, DarkReason::kNoLiveLayer);
  EXPECT_EQ(dark.total_bps, 0);
  EXPECT_EQ(dark.wanted_bps, 0);
}

TEST(LayerSelector, AProducerWithoutSimulcastIsOneLayer) {
  LayerSelector selector;
  const std::array<LayerCandidate, 1> room_system = {
      {{.spatial = 0, .bitrate_bps = 800'000, .width = 1280, .height = 720, .live_since = kLongAgo}}};
  const std::vector<SlotDemand> demands = {{.slot = 0, .layers = room_system}};
  EXPECT_EQ(layers_of(selector.select(1'000'000, demands, kNow)), (Layers{0}));
  const LayerPlan plan = selector.select(500'000, demands, kNow);
  EXPECT_EQ(layers_of(plan), (Layers{std::nullopt}));
  EXPECT_EQ(plan.slots[0].dark, DarkReason::kNoBandwidth);
  EXPECT_EQ(plan.wanted_bps, 800'000);
}

TEST(LayerSelector, ACheaperLowerPrioritySlotShowsWhenAHigherOneCannot) {
  LayerSelector selector;
  const std::array<LayerCandidate, 1> expensive = {{{.spatial = 0, .bitrate_bps = 500'000, .live_since = kLongAgo}}};
  const std::vector<SlotDemand> demands = {{.slot = 3, .layers = expensive}, {.slot = 1, .layers = kCamera}};
  const LayerPlan plan = selector.select(300'000, demands, kNow);
  ASSERT_EQ(plan.slots.size(), 2U);
  EXPECT_EQ(plan.slots[0].slot, 3U);
  EXPECT_EQ(plan.slots[0].dark, DarkReason::kNoBandwidth);
  EXPECT_EQ(plan.slots[1].slot, 1U);
  EXPECT_EQ(plan.slots[1].spatial, 0);
}

TEST(LayerSelector, TheSpeakerGetsQualityFirstAndTheOthersGiveWay) {
  LayerSelector selector;
  auto demands = cameras(2);
  ASSERT_EQ(layers_of(selector.select(3'000'000, demands, kNow)), (Layers{2, 2}));
  // The estimate falls to 1.6M: the speaker keeps 720p, the other drops to what is left.
  EXPECT_EQ(layers_of(selector.select(1'600'000, demands, kNow)), (Layers{2, 1}));
  EXPECT_EQ(layers_of(selector.select(1'000'000, demands, kNow)), (Layers{1, 1}));
}

TEST(LayerSelector, StopsAtTheHighestUsefulLayer) {
  const auto plan_for = [&](std::optional<int> max_spatial, std::uint16_t max_height) {
    LayerSelector fresh;
    const std::vector<SlotDemand> demands = {
        {.slot = 0, .layers = kCamera, .max_spatial = max_spatial, .max_height = max_height}};
    const LayerPlan plan = fresh.select(10'000'000, demands, kNow);
    return std::pair{plan.slots[0].spatial, plan.wanted_bps};
  };
  EXPECT_EQ(plan_for(1, 0), (std::pair{std::optional<int>{1}, kMidBps}));
  EXPECT_EQ(plan_for(std::nullopt, 360), (std::pair{std::optional<int>{1}, kMidBps})) << "360p covers a 360 tile";
  EXPECT_EQ(plan_for(std::nullopt, 200), (std::pair{std::optional<int>{1}, kMidBps})) << "180p would be upscaled";
  EXPECT_EQ(plan_for(std::nullopt, 180), (std::pair{std::optional<int>{0}, kLowBps}));
  EXPECT_EQ(plan_for(std::nullopt, 1080), (std::pair{std::optional<int>{2}, kHighBps})) << "nothing covers: the best";
  EXPECT_EQ(plan_for(0, 720), (std::pair{std::optional<int>{0}, kLowBps}));
}

TEST(LayerSelector, ALiveLayerAboveTheCapBeatsADarkSlot) {
  LayerSelector selector;
  std::array<LayerCandidate, 3> layers = kCamera;
  layers[0].live_since.reset();
  const std::vector<SlotDemand> demands = {{.slot = 0, .layers = layers, .max_spatial = 0}};
  EXPECT_EQ(layers_of(selector.select(3'000'000, demands, kNow)), (Layers{1}));
}

TEST(LayerSelector, ReportsWhichSlotsChanged) {
  LayerSelector selector;
  const auto demands = cameras(3);
  const LayerPlan first = selector.select(600'000, demands, kNow);
  for (const SlotLayer& slot : first.slots) EXPECT_TRUE(slot.changed);
  const LayerPlan same = selector.select(600'000, demands, kNow);
  for (const SlotLayer& slot : same.slots) EXPECT_FALSE(slot.changed);
  const LayerPlan fewer = selector.select(250'000, demands, kNow);
  EXPECT_EQ(layers_of(fewer), (Layers{0, 0, std::nullopt}));
  EXPECT_FALSE(fewer.slots[0].changed);
  EXPECT_TRUE(fewer.slots[2].changed);
}

TEST(LayerSelector, ASlotLeftOutOfACallForgetsItsLayer) {
  LayerSelector selector;
  const auto one = cameras(1);
  ASSERT_EQ(layers_of(selector.select(400'000, one, kNow)), (Layers{0}));
  ASSERT_EQ(layers_of(selector.select(420'000, one, kNow)), (Layers{1}));
  ASSERT_EQ(layers_of(selector.select(380'000, one, kNow)), (Layers{1})) << "kept: 350k fits 380k";
  selector.select(380'000, {}, kNow);  // the slot went dark (its participant left)
  // 360p still fits 380k, but lighting again is a move up from dark: 350k × 1.15 > 380k.
  EXPECT_EQ(layers_of(selector.select(380'000, one, kNow)), (Layers{0}));
}

TEST(LayerSelector, BadInputIsIgnoredAndCounted) {
  LayerSelector selector;
  const std::array<LayerCandidate, 6> layers = {{
      {.spatial = -1, .bitrate_bps = 10, .live_since = kLongAgo},
      {.spatial = 2, .bitrate_bps = kMaxLayerBitrateBps + 1, .live_since = kLongAgo},
      {.spatial = kMaxSpatialLayers, .bitrate_bps = 10, .live_since = kLongAgo},
      {.spatial = 1, .bitrate_bps = -5, .live_since = kLongAgo},
      {.spatial = 0, .bitrate_bps = kLowBps, .live_since = kLongAgo},
      {.spatial = 0, .bitrate_bps = 1, .live_since = kLongAgo},  // 0 again
  }};
  const std::vector<SlotDemand> demands = {
      {.slot = 0, .layers = layers},
      {.slot = 0, .layers = kCamera},          // slot 0 twice
      {.slot = kMaxSlots, .layers = kCamera},  // no such slot
  };
  const LayerPlan plan = selector.select(1'000'000, demands, kNow);
  ASSERT_EQ(plan.slots.size(), 3U);
  EXPECT_EQ(plan.slots[0].spatial, 0);
  EXPECT_EQ(plan.slots[0].bitrate_bps, kLowBps);
  EXPECT_EQ(plan.slots[1].dark, DarkReason::kInvalid);
  EXPECT_EQ(plan.slots[2].dark, DarkReason::kInvalid);
  EXPECT_EQ(plan.total_bps, kLowBps);
  EXPECT_EQ(selector.stats().invalid_layers, 5U);
  EXPECT_EQ(selector.stats().invalid_demands, 2U);

  const LayerPlan negative = selector.select(-1, cameras(1), kNow);
  EXPECT_EQ(layers_of(negative), (Layers{std::nullopt}));
  EXPECT_EQ(selector.stats().negative_estimates, 1U);

  const LayerPlan too_many = selector.select(100'000'000, cameras(kMaxSlots + 3), kNow);
  EXPECT_EQ(too_many.slots.size(), kMaxSlots);
  EXPECT_EQ(selector.stats().invalid_demands, 5U);
}

TEST(LayerSelector, NeverExceedsTheEstimateWhateverItDoes) {
  LayerSelector selector;
  const auto demands = cameras(9);
  std::int64_t estimate = 50'000;
  for (int i = 0; i < 400; ++i) {
    // A saw from 50k to 5M and back, with a wobble: every total must stay within the estimate.
    estimate = i < 200 ? estimate + 25'000 : estimate - 25'000;
    const std::int64_t wobbly = estimate + (i % 3 == 0 ? 30'000 : -30'000);
    const LayerPlan plan = selector.select(wobbly, demands, kNow + milliseconds{100 * i});
    EXPECT_LE(plan.total_bps, std::max<std::int64_t>(wobbly, 0)) << "round " << i;
  }
}

}  // namespace layer_selector_test
}  // namespace chorus::sfu
