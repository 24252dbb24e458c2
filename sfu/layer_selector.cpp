#include "sfu/layer_selector.hpp"

#include <algorithm>

namespace chorus::sfu {

LayerSelector::LayerSelector(const LayerSelectorConfig& config) : config_(config) {
  const LayerSelectorConfig defaults;
  if (!(config_.up_margin >= 0.0 && config_.up_margin <= 10.0)) config_.up_margin = defaults.up_margin;
  config_.up_min_live = std::max(config_.up_min_live, std::chrono::milliseconds{0});
  usable_.reserve(kMaxSlots);
  plan_.reserve(kMaxSlots);
}

LayerPlan LayerSelector::select(std::int64_t available_bps, std::span<const SlotDemand> demands,
                                Clock::time_point now) {
  if (available_bps < 0) {
    ++stats_.negative_estimates;
    available_bps = 0;
  }
  if (demands.size() > kMaxSlots) {
    stats_.invalid_demands += demands.size() - kMaxSlots;
    demands = demands.first(kMaxSlots);
  }
  prepare(demands);
  place_lowest(available_bps, demands);
  upgrade(available_bps, demands, now);

  LayerPlan plan{.slots = plan_, .total_bps = total_};
  std::array<std::optional<int>, kMaxSlots> next{};
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    SlotLayer& layer = plan_[i];
    if (layer.dark == DarkReason::kNoBandwidth) ++plan.dark_for_bandwidth;
    if (layer.dark == DarkReason::kInvalid) continue;
    layer.changed = layer.spatial != previous_[layer.slot];
    next[layer.slot] = layer.spatial;
    const Usable& usable = usable_[i];
    if (usable.count > 0) plan.wanted_bps += usable.layers[static_cast<std::size_t>(usable.useful - 1)]->bitrate_bps;
  }
  previous_ = next;
  return plan;
}

// Validates the demands and finds each one's live layers; every demand gets a (dark) plan entry.
void LayerSelector::prepare(std::span<const SlotDemand> demands) {
  plan_.clear();
  usable_.clear();
  std::array<bool, kMaxSlots> seen{};
  for (const SlotDemand& demand : demands) {
    SlotLayer& layer = plan_.emplace_back(SlotLayer{.slot = demand.slot});
    if (demand.slot >= kMaxSlots || seen[demand.slot]) {
      ++stats_.invalid_demands;
      layer.dark = DarkReason::kInvalid;
      usable_.push_back(Usable{});
      continue;
    }
    seen[demand.slot] = true;
    usable_.push_back(usable_layers(demand));
    layer.dark = DarkReason::kNoLiveLayer;  // until a pass places it
  }
}

LayerSelector::Usable LayerSelector::usable_layers(const SlotDemand& demand) {
  std::array<const LayerCandidate*, kMaxSpatialLayers> by_spatial{};
  std::array<bool, kMaxSpatialLayers> seen{};
  for (const LayerCandidate& candidate : demand.layers) {
    if (candidate.spatial < 0 || candidate.spatial >= kMaxSpatialLayers || candidate.bitrate_bps < 0 ||
        candidate.bitrate_bps > kMaxLayerBitrateBps || seen[static_cast<std::size_t>(candidate.spatial)]) {
      ++stats_.invalid_layers;
      continue;
    }
    seen[static_cast<std::size_t>(candidate.spatial)] = true;
    if (candidate.live_since) by_spatial[static_cast<std::size_t>(candidate.spatial)] = &candidate;
  }
  Usable usable{.valid = true};
  for (const LayerCandidate* candidate : by_spatial) {
    if (candidate != nullptr) usable.layers[static_cast<std::size_t>(usable.count++)] = candidate;
  }
  usable.useful = usable.count;
  for (int i = 0; i < usable.count; ++i) {
    const LayerCandidate& candidate = *usable.layers[static_cast<std::size_t>(i)];
    const bool above_cap = demand.max_spatial && candidate.spatial > *demand.max_spatial;
    if (above_cap) {
      usable.useful = i;
      break;
    }
    // The smallest layer that covers the tile is the last useful one.
    if (demand.max_height != 0 && candidate.height >= demand.max_height) {
      usable.useful = i + 1;
      break;
    }
  }
  // Whatever the cap says, a live layer beats a dark slot.
  if (usable.count > 0) usable.useful = std::max(usable.useful, 1);
  return usable;
}

bool LayerSelector::fits_up(std::int64_t total, std::int64_t available) const noexcept {
  return static_cast<double>(total) * (1.0 + config_.up_margin) <= static_cast<double>(available);
}

// Pass 1: the lowest live layer of every slot, in priority order, while it fits. Lighting a slot
// that was dark is a move up and needs the margin; keeping a lit one does not.
void LayerSelector::place_lowest(std::int64_t available, std::span<const SlotDemand> demands) {
  total_ = 0;
  for (std::size_t i = 0; i < demands.size(); ++i) {
    const Usable& usable = usable_[i];
    SlotLayer& layer = plan_[i];
    if (!usable.valid || usable.count == 0) continue;
    const LayerCandidate& lowest = *usable.layers[0];
    const std::int64_t total = total_ + lowest.bitrate_bps;
    const bool was_lit = previous_[layer.slot].has_value();
    if (was_lit ? total <= available : fits_up(total, available)) {
      layer.spatial = lowest.spatial;
      layer.bitrate_bps = lowest.bitrate_bps;
      layer.dark = DarkReason::kNone;
      total_ = total;
    } else {
      layer.dark = DarkReason::kNoBandwidth;
    }
  }
}

// Pass 2: each lit slot, in priority order, takes the highest useful layer that fits: at once when
// it is not above the slot's previous layer, with the margin and a settled layer when it is.
void LayerSelector::upgrade(std::int64_t available, std::span<const SlotDemand> demands, Clock::time_point now) {
  for (std::size_t i = 0; i < demands.size(); ++i) {
    const Usable& usable = usable_[i];
    SlotLayer& layer = plan_[i];
    if (!layer.spatial) continue;
    const std::optional<int> previous = previous_[layer.slot];
    const std::int64_t base = total_ - layer.bitrate_bps;
    for (int at = usable.useful - 1; at > 0; --at) {
      const LayerCandidate& candidate = *usable.layers[static_cast<std::size_t>(at)];
      const std::int64_t total = base + candidate.bitrate_bps;
      const bool up = !previous || candidate.spatial > *previous;
      const bool fits =
          up ? fits_up(total, available) && now - *candidate.live_since >= config_.up_min_live : total <= available;
      if (!fits) continue;
      layer.spatial = candidate.spatial;
      layer.bitrate_bps = candidate.bitrate_bps;
      total_ = total;
      break;
    }
  }
}

}  // namespace chorus::sfu
