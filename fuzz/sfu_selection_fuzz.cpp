// libFuzzer target for the SFU's selection logic (sfu/active_speaker, slot_allocator,
// layer_selector, bitrate_meter). None of it parses bytes, but all of it runs on what remote
// parties send — RFC 6464 levels from any sender's header extension, layer bitrates measured from
// their packets, joins and leaves in any order — so the input is a script of such events:
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/sfu_selection_fuzz.cpp \
//     sfu/active_speaker.cpp sfu/slot_allocator.cpp sfu/layer_selector.cpp sfu/bitrate_meter.cpp
//   ./a.out -max_total_time=60
//
// Each event is an opcode byte and its operands (missing bytes read as 0). Besides crashes it
// checks after every event:
//   - the speaker order is a permutation of the members, the dominant speaker is a member and
//     first in it, and version() moved whenever order or dominant changed;
//   - every receiver's slots hold exactly its top K (the pinned producer first, never itself, no
//     one twice), a participant still in the top K kept its slot index, and the reported changes
//     are exactly the slots whose occupant differs;
//   - a layer plan never exceeds the estimate, sums to its total, lights only live, valid layers
//     and has one entry per demand up to kMaxSlots;
//   - the meter's rate is never negative and is zero once a window passed without packets.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "sfu/active_speaker.hpp"
#include "sfu/bitrate_meter.hpp"
#include "sfu/layer_selector.hpp"
#include "sfu/slot_allocator.hpp"

namespace {

using namespace chorus::sfu;
using Clock = std::chrono::steady_clock;

void check(bool condition) {
  if (!condition) std::abort();
}

class Script {
 public:
  explicit Script(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  [[nodiscard]] bool done() const { return at_ >= bytes_.size(); }
  std::uint8_t u8() { return at_ < bytes_.size() ? bytes_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
};

struct Receiver {
  SlotAllocator slots;
  SlotAllocator::Slots previous;
};

struct World {
  ActiveSpeakerDetector detector;
  std::set<ParticipantId> producers;
  std::vector<Receiver> receivers;
  RankedProducers ranked;
  LayerSelector selector;
  BitrateMeter meter;
  Clock::time_point now = Clock::time_point{} + std::chrono::hours{1};
  std::optional<Clock::time_point> last_meter_add;
};

void check_detector(const ActiveSpeakerDetector& detector) {
  const auto order = detector.order();
  check(order.size() == detector.size());
  std::set<ParticipantId> seen;
  for (const ParticipantId id : order) {
    check(detector.contains(id));
    check(seen.insert(id).second);
  }
  if (const auto dominant = detector.dominant()) check(!order.empty() && order.front() == *dominant);
}

void feed_levels(World& world, Script& script) {
  std::vector<SpeakerLevel> levels(script.u8() % 16);
  for (SpeakerLevel& level : levels) {
    level.id = script.u8() % 64;
    level.level = script.u8();
    level.voiced = (level.level & 1) != 0;
  }
  const int frames = 1 + script.u8() % 64;
  for (int i = 0; i < frames; ++i) {
    const std::vector<ParticipantId> order_before(world.detector.order().begin(), world.detector.order().end());
    const auto dominant_before = world.detector.dominant();
    const auto version_before = world.detector.version();
    const bool changed = world.detector.update(levels);
    const bool differs = !std::equal(order_before.begin(), order_before.end(), world.detector.order().begin(),
                                     world.detector.order().end()) ||
                         dominant_before != world.detector.dominant();
    check(changed == differs);
    check(differs == (world.detector.version() != version_before));
  }
}

void assign_all(World& world, std::optional<ParticipantId> pinned) {
  const std::vector<ParticipantId> producers(world.producers.begin(), world.producers.end());
  world.ranked.rebuild(world.detector.order(), producers);
  check(world.ranked.ranked().size() == producers.size());
  for (Receiver& receiver : world.receivers) {
    const auto changed = receiver.slots.assign(world.ranked, pinned);
    const auto& now = receiver.slots.slots();
    const ParticipantId self = receiver.slots.receiver();
    std::vector<ParticipantId> wanted;
    const bool pin = pinned && *pinned != self && world.producers.contains(*pinned);
    check(pin == receiver.slots.pinned_shown());
    if (pin) wanted.push_back(*pinned);
    for (const ParticipantId id : world.ranked.ranked()) {
      if (wanted.size() == now.size()) break;
      if (id != self && !(pin && id == *pinned)) wanted.push_back(id);
    }
    std::multiset<ParticipantId> shown;
    for (const auto& occupant : now) {
      if (occupant) shown.insert(*occupant);
    }
    check(shown == std::multiset<ParticipantId>(wanted.begin(), wanted.end()));
    std::vector<std::size_t> differs;
    for (std::size_t slot = 0; slot < now.size(); ++slot) {
      const auto was = slot < receiver.previous.size() ? receiver.previous[slot] : std::nullopt;
      if (was && std::find(wanted.begin(), wanted.end(), *was) != wanted.end()) check(now[slot] == was);
      if (now[slot] != was) differs.push_back(slot);
    }
    check(std::equal(changed.begin(), changed.end(), differs.begin(), differs.end()));
    check(receiver.slots.last_examined() <= now.size() + 2);
    receiver.previous = now;
  }
}

void receiver_event(World& world, Script& script) {
  const ParticipantId id = script.u8() % 64;
  const std::size_t k = script.u8() % (kMaxSlots + 4);
  const bool valid = k >= 1 && k <= kMaxSlots;
  const auto it = std::find_if(world.receivers.begin(), world.receivers.end(),
                               [&](const Receiver& r) { return r.slots.receiver() == id; });
  if (it != world.receivers.end()) {
    check(it->slots.resize(k).has_value() == valid);
    if (valid) it->previous.resize(k);
    check(it->slots.slots().size() == it->previous.size());
    return;
  }
  auto created = SlotAllocator::create(id, k);
  check(created.has_value() == valid);
  if (created && world.receivers.size() < 8) {
    world.receivers.push_back({std::move(*created), SlotAllocator::Slots(k)});
  }
}

void select_layers(World& world, Script& script) {
  const std::int64_t estimate = (static_cast<std::int64_t>(script.u16()) - 2000) * 1000;
  std::vector<std::vector<LayerCandidate>> layers(script.u8() % (kMaxSlots + 4));
  std::vector<SlotDemand> demands;
  for (auto& slot_layers : layers) {
    slot_layers.resize(script.u8() % 6);
    for (LayerCandidate& layer : slot_layers) {
      layer.spatial = static_cast<int>(script.u8() % 7) - 1;
      const std::uint8_t rate = script.u8();
      layer.bitrate_bps =
          rate == 0xFF ? std::numeric_limits<std::int64_t>::max() : (static_cast<std::int64_t>(rate) - 8) * 10'000;
      layer.height = static_cast<std::uint16_t>(script.u8() * 8);
      const std::uint8_t live = script.u8();
      if (live != 0) layer.live_since = world.now - std::chrono::milliseconds{(live - 1) * 20};
    }
    SlotDemand demand{.slot = script.u8() % (kMaxSlots + 2), .layers = slot_layers};
    const std::uint8_t cap = script.u8();
    if (cap & 0x80) demand.max_spatial = cap % 5;
    if (cap & 0x40) demand.max_height = static_cast<std::uint16_t>(script.u8() * 8);
    demands.push_back(demand);
  }
  world.now += std::chrono::milliseconds{script.u8() * 10};
  const LayerPlan plan = world.selector.select(estimate, demands, world.now);
  check(plan.slots.size() == std::min(demands.size(), kMaxSlots));
  check(plan.total_bps <= std::max<std::int64_t>(estimate, 0));
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < plan.slots.size(); ++i) {
    const SlotLayer& chosen = plan.slots[i];
    check(chosen.slot == demands[i].slot);
    check(chosen.spatial.has_value() == (chosen.dark == DarkReason::kNone));
    if (!chosen.spatial) continue;
    sum += chosen.bitrate_bps;
    const auto& offered = demands[i].layers;
    const bool live_and_valid = std::any_of(offered.begin(), offered.end(), [&](const LayerCandidate& layer) {
      return layer.spatial == *chosen.spatial && layer.live_since && layer.bitrate_bps == chosen.bitrate_bps &&
             layer.bitrate_bps >= 0 && layer.bitrate_bps <= kMaxLayerBitrateBps;
    });
    check(live_and_valid);
  }
  check(sum == plan.total_bps);
  check(plan.wanted_bps >= 0);
}

void meter_event(World& world, Script& script) {
  const std::size_t bytes = script.u16();
  const int step_ms = static_cast<int>(script.u8()) - 32;  // mostly forward, sometimes back
  world.now += std::chrono::milliseconds{step_ms * 5};
  world.meter.add(bytes, world.now);
  if (!world.last_meter_add || world.now > *world.last_meter_add) world.last_meter_add = world.now;
  check(world.meter.rate_bps(world.now) >= 0);
  if (const auto live = world.meter.live_since(world.now)) check(*live <= *world.last_meter_add);
  const auto later = *world.last_meter_add + world.meter.window() + std::chrono::milliseconds{1};
  check(world.meter.rate_bps(later) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script({data, size});
  World world;
  // Each event consumes at least its opcode byte, so the loop ends within `size` rounds.
  while (!script.done()) {
    switch (script.u8() % 8) {
      case 0: {
        const ParticipantId id = script.u8() % 64;
        const bool member = world.detector.contains(id);
        check(world.detector.add(id).has_value() == !member);  // 64 ids: the room never fills
        check(world.detector.contains(id));
        break;
      }
      case 1: {
        const ParticipantId id = script.u8() % 64;
        const bool member = world.detector.contains(id);
        check(world.detector.remove(id).has_value() == member);
        check(!world.detector.contains(id));
        break;
      }
      case 2:
        feed_levels(world, script);
        break;
      case 3: {
        const ParticipantId id = script.u8() % 64;
        if (!world.producers.erase(id)) world.producers.insert(id);
        break;
      }
      case 4:
        receiver_event(world, script);
        break;
      case 5: {
        const std::uint8_t pin = script.u8();
        assign_all(world, pin & 0x80 ? std::optional<ParticipantId>(pin % 64) : std::nullopt);
        break;
      }
      case 6:
        select_layers(world, script);
        break;
      case 7:
        meter_event(world, script);
        break;
    }
    check_detector(world.detector);
  }
  return 0;
}
