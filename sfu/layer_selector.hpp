// LayerSelector: which simulcast layer each of a receiver's visible slots forwards, so that the
// sum fits the receiver's bandwidth estimate.
//
// Input per call: the available bitrate (the estimate, already min'ed with any cap) and the visible
// slots in priority order (speaker rank), each with its producer's layers — spatial index,
// measured bitrate, size, and since when the layer has been live (BitrateMeter::live_since;
// nullopt: the sender stopped it) — and optionally the highest useful layer (an index, or the
// tile's height in pixels: a layer taller than the smallest one covering the tile is wasted).
//
// Two passes, both in priority order:
//  1. Every slot gets its lowest live layer while the running total fits; a slot that does not fit
//     even there stays dark (kNoBandwidth) and the pass goes on, so a cheaper lower-priority slot
//     may still show.
//  2. Each slot in turn moves to the highest useful live layer that still fits.
// Hysteresis, per slot index: keeping or lowering a layer needs only that the total fits (so an
// estimate that drops below the total takes effect at once); moving up — to a higher layer, or
// lighting a slot that was dark — needs the estimate to exceed the new total by `up_margin`, and
// a higher layer must have been live for `up_min_live`. An estimate oscillating around a
// threshold therefore switches down once and does not come back until it is clearly above.
// A layer that is not live is never chosen; a producer without simulcast is one layer.
//
// The plan also carries wanted_bps — the total at every slot's best useful live layer — which is
// what a probe controller needs to know when the estimate is what holds the slots back.
//
// Cost: O(slots · layers) per call, no allocation after construction.
// Threading: plain value; one per receiver, owned by the room's router on its media worker.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sfu/slot_allocator.hpp"

namespace chorus::sfu {

inline constexpr int kMaxSpatialLayers = 4;  // a named limit: simulcast sends 3, we accept one more
// A layer measured above this is a broken measurement, not video; the limit also keeps every sum
// of kMaxSlots layers far from overflow.
inline constexpr std::int64_t kMaxLayerBitrateBps = 10'000'000'000;

struct LayerCandidate {
  int spatial = 0;                                                  // 0 = lowest resolution, < kMaxSpatialLayers
  std::int64_t bitrate_bps = 0;                                     // measured (BitrateMeter::rate_bps), ≥ 0
  std::uint16_t width = 0;                                          // 0 when unknown
  std::uint16_t height = 0;                                         // 0 when unknown
  std::optional<std::chrono::steady_clock::time_point> live_since;  // nullopt: not arriving now
};

struct SlotDemand {
  std::size_t slot = 0;                    // the receiver's slot index (SlotAllocator), < kMaxSlots
  std::span<const LayerCandidate> layers;  // any order, each spatial index once
  std::optional<int> max_spatial;          // highest useful layer
  std::uint16_t max_height = 0;            // tile height in pixels; 0: no limit
};

enum class DarkReason : std::uint8_t {
  kNone,         // the slot forwards `spatial`
  kNoLiveLayer,  // the producer sends no layer now
  kNoBandwidth,  // even the lowest live layer does not fit the estimate
  kInvalid,      // bad slot index, a slot given twice, or more than kMaxSlots demands
};

struct SlotLayer {
  std::size_t slot = 0;
  std::optional<int> spatial;  // nullopt: dark, see `dark`
  std::int64_t bitrate_bps = 0;
  DarkReason dark = DarkReason::kNone;
  bool changed = false;  // spatial differs from this slot's previous plan
};

struct LayerPlan {
  std::span<const SlotLayer> slots;  // one per demand, in the demands' order
  std::int64_t total_bps = 0;        // ≤ the available bitrate
  std::int64_t wanted_bps = 0;       // at every slot's best useful live layer
  std::size_t dark_for_bandwidth = 0;
};

struct LayerSelectorConfig {
  double up_margin = 0.15;                      // moving up needs estimate ≥ new total × 1.15
  std::chrono::milliseconds up_min_live{1000};  // and the higher layer live this long
};

// What the selector ignored, for the room's metrics.
struct LayerSelectorStats {
  std::uint64_t invalid_layers = 0;   // spatial out of range, given twice, or a bitrate out of range
  std::uint64_t invalid_demands = 0;  // see DarkReason::kInvalid
  std::uint64_t negative_estimates = 0;
};

class LayerSelector {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LayerSelector(const LayerSelectorConfig& config = {});

  // The plan is valid until the next call. Slots not among `demands` forget their layer (they are
  // dark now, and lighting them again counts as moving up).
  LayerPlan select(std::int64_t available_bps, std::span<const SlotDemand> demands, Clock::time_point now);

  [[nodiscard]] const LayerSelectorStats& stats() const noexcept { return stats_; }

 private:
  // One demand's usable layers, sorted by spatial index.
  struct Usable {
    std::array<const LayerCandidate*, kMaxSpatialLayers> layers{};
    int count = 0;   // live layers
    int useful = 0;  // layers [0, useful) are worth sending (at least 1 when count > 0)
    bool valid = false;
  };

  void prepare(std::span<const SlotDemand> demands);
  Usable usable_layers(const SlotDemand& demand);
  void place_lowest(std::int64_t available, std::span<const SlotDemand> demands);
  void upgrade(std::int64_t available, std::span<const SlotDemand> demands, Clock::time_point now);
  [[nodiscard]] bool fits_up(std::int64_t total, std::int64_t available) const noexcept;

  LayerSelectorConfig config_;
  std::array<std::optional<int>, kMaxSlots> previous_{};  // by slot index
  std::vector<Usable> usable_;                            // by demand
  std::vector<SlotLayer> plan_;                           // by demand
  std::int64_t total_ = 0;
  LayerSelectorStats stats_;
};

}  // namespace chorus::sfu
