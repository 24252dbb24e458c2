// Router: lifecycle, control and the membership of producers, slots and receivers. The packet path
// is in router_forward.cpp, the decisions (who in which slot, which layer, keyframes, NACKs,
// probes) in router_selection.cpp.
#include "sfu/router.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace chorus::sfu {

std::optional<VideoCodec> video_codec_from_name(std::string_view name) {
  auto equals = [name](std::string_view other) {
    return name.size() == other.size() && std::ranges::equal(name, other, [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  if (equals("VP8")) return VideoCodec::kVp8;
  if (equals("H264")) return VideoCodec::kH264;
  return std::nullopt;
}

std::string_view to_string(VideoCodec codec) {
  return codec == VideoCodec::kVp8 ? "VP8" : "H264";
}

Router::Router(std::string name, RouterConfig config, std::shared_ptr<RouterListener> listener,
               std::shared_ptr<SfuCounters> counters)
    : name_(std::move(name)),
      config_(config),
      listener_(std::move(listener)),
      counters_(counters ? std::move(counters) : std::make_shared<SfuCounters>()) {}

Router::~Router() {
  if (timers_ == nullptr) return;
  timers_->cancel(tick_timer_);
  if (probe_timer_) timers_->cancel(*probe_timer_);
}

Router::TimePoint Router::now() const {
  return timers_ != nullptr ? timers_->now() : std::chrono::steady_clock::now();
}

void Router::start_timer(media::MediaSession& session) {
  if (timers_ != nullptr) return;
  timers_ = &session.environment().timers;
  tick_timer_ = timers_->schedule(kTick, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->tick();
  });
}

void Router::add_participant(ParticipantId participant, std::string display_name, bool admitted) {
  members_[participant].display_name = std::move(display_name);
  members_[participant].admitted = admitted;
  if (auto added = speakers_.add(participant); !added)
    CHORUS_LOG(kWarn, "sfu", "participant not tracked for speaking", {"room", name_}, {"participant", participant},
               {"error", to_string(added.error())});
  producers_changed_ = true;
}

void Router::remove_participant(ParticipantId participant) {
  // Its sessions went first (the conference removes them before this): what is left is defensive.
  std::vector<ProducerId> producers;
  for (const auto& [id, producer] : producers_)
    if (producer->participant() == participant) producers.push_back(id);
  for (auto id : producers) remove_producer(id);
  std::vector<SlotId> slots;
  for (const auto& [id, slot] : slots_)
    if (slot->spec().receiver == participant) slots.push_back(id);
  for (auto id : slots) remove_slot(id);
  (void)speakers_.remove(participant);
  members_.erase(participant);
  producers_changed_ = true;
}

void Router::set_admitted(ParticipantId participant, bool admitted) {
  auto it = members_.find(participant);
  if (it == members_.end() || it->second.admitted == admitted) return;
  it->second.admitted = admitted;
  producers_changed_ = true;
}

void Router::set_receive_cap(ParticipantId receiver, std::uint64_t bps) {
  members_[receiver].receive_cap_bps = bps;
  if (timers_ != nullptr) select_layers(now());
}

void Router::request_keyframes_for(ParticipantId receiver) {
  auto it = receivers_.find(receiver);
  if (it == receivers_.end()) return;
  const auto at = now();
  for (SlotId id : it->second.slots) {
    Slot* slot = slot_by_id(id);
    if (slot == nullptr) continue;
    const auto& source = slot->target ? slot->target : slot->current;
    if (!source) continue;
    if (auto producer = producers_.find(source->producer); producer != producers_.end())
      request_keyframe(*producer->second, source->layer, at);
  }
}

ProducerId Router::add_producer(media::MediaSession& session, const ProducerSpec& spec) {
  const ProducerId id = next_producer_++;
  producers_.emplace(id, std::make_unique<Producer>(id, session, spec, next_source_));
  start_timer(session);
  producers_changed_ = true;
  CHORUS_LOG(kInfo, "sfu", "producer added", {"room", name_}, {"participant", spec.participant}, {"producer", id},
             {"layers", std::max<std::size_t>(spec.rids.size(), 1)});
  return id;
}

void Router::remove_producer(ProducerId producer) {
  auto it = producers_.find(producer);
  if (it == producers_.end()) return;
  for (auto& [id, slot] : slots_) {
    if (slot->target && slot->target->producer == producer) {
      const LayerRef old = *slot->target;
      slot->target.reset();
      unsubscribe(*slot, old);
    }
    if (slot->current && slot->current->producer == producer) {
      const LayerRef old = *slot->current;
      slot->current.reset();
      slot->rewriter.reset_source();
      unsubscribe(*slot, old);
    }
  }
  producers_.erase(it);
  producers_changed_ = true;
}

SlotId Router::add_slot(media::MediaSession& session, const SlotSpec& spec) {
  const SlotId id = next_slot_++;
  auto& slot = *slots_.emplace(id, std::make_unique<Slot>(id, session, spec)).first->second;
  Receiver& receiver = receivers_[spec.receiver];
  receiver.participant = spec.receiver;
  auto position = std::ranges::find_if(receiver.slots, [&](SlotId other) {
    const Slot* existing = slot_by_id(other);
    return existing != nullptr && existing->spec().order > spec.order;
  });
  receiver.slots.insert(position, id);
  if (!receiver.allocator) {
    if (auto made = SlotAllocator::create(spec.receiver, 1)) receiver.allocator.emplace(std::move(*made));
  }
  if (receiver.allocator && receiver.slots.size() <= kMaxSlots) (void)receiver.allocator->resize(receiver.slots.size());
  Transport& transport = transports_[session.id()];
  transport.session = &session;
  ++transport.slots;
  if (!transport.estimator && spec.extensions.transport_cc != 0 && spec.feedback.transport_cc) {
    bwe::BandwidthEstimatorConfig estimator;
    estimator.start_bps = config_.start_estimate_bps;
    transport.estimator.emplace(estimator);
  }
  receiver.map_dirty = true;
  producers_changed_ = true;  // the allocator must fill the new slot
  start_timer(session);
  (void)slot;
  return id;
}

void Router::remove_slot(SlotId id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  Slot& slot = *it->second;
  const auto current = slot.current;
  const auto target = slot.target;
  slot.current.reset();
  slot.target.reset();
  if (current) unsubscribe(slot, *current);
  if (target) unsubscribe(slot, *target);
  if (auto transport = transports_.find(slot.session().id());
      transport != transports_.end() && --transport->second.slots == 0)
    transports_.erase(transport);
  if (auto receiver = receivers_.find(slot.spec().receiver); receiver != receivers_.end()) {
    std::erase(receiver->second.slots, id);
    if (receiver->second.slots.empty()) {
      receivers_.erase(receiver);
    } else if (receiver->second.allocator && receiver->second.slots.size() <= kMaxSlots) {
      (void)receiver->second.allocator->resize(receiver->second.slots.size());
      receiver->second.map_dirty = true;
      producers_changed_ = true;
    }
  }
  slots_.erase(it);
}

Slot* Router::slot_by_id(SlotId id) {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : it->second.get();
}

Producer* Router::producer_of(ParticipantId participant) {
  // A participant's camera: its first producer (content, when it comes, is a second one).
  Producer* found = nullptr;
  for (auto& [id, producer] : producers_)
    if (producer->participant() == participant && (found == nullptr || id < found->id())) found = producer.get();
  return found;
}

std::optional<std::pair<Producer*, std::size_t>> Router::layer_of_source(SourceId source) {
  for (auto& [id, producer] : producers_)
    for (std::size_t i = 0; i < producer->layers().size(); ++i)
      if (producer->layers()[i].source == source) return std::pair{producer.get(), i};
  return std::nullopt;
}

namespace {
std::uint64_t subscription_key(const LayerRef& layer) {
  return (std::uint64_t{layer.producer} << 8) | static_cast<std::uint64_t>(layer.layer);
}
}  // namespace

void Router::subscribe(Slot& slot, const LayerRef& layer) {
  auto& list = subscribers_[subscription_key(layer)];
  if (std::ranges::find(list, &slot) == list.end()) list.push_back(&slot);
}

// Called after the slot let go of `layer` as current or target: it stays subscribed while the other
// role still names the layer.
void Router::unsubscribe(Slot& slot, const LayerRef& layer) {
  if ((slot.current && *slot.current == layer) || (slot.target && *slot.target == layer)) return;
  auto it = subscribers_.find(subscription_key(layer));
  if (it == subscribers_.end()) return;
  std::erase(it->second, &slot);
  if (it->second.empty()) subscribers_.erase(it);
}

std::vector<SlotView> Router::slots_of(ParticipantId receiver) const {
  std::vector<SlotView> out;
  auto it = receivers_.find(receiver);
  if (it == receivers_.end()) return out;
  for (SlotId id : it->second.slots) {
    auto slot = slots_.find(id);
    if (slot == slots_.end()) continue;
    SlotView view{slot->second->spec().mid, slot->second->shown, {}};
    if (view.participant)
      if (auto member = members_.find(*view.participant); member != members_.end())
        view.display_name = member->second.display_name;
    out.push_back(std::move(view));
  }
  return out;
}

std::optional<LayerRef> Router::slot_source(ParticipantId receiver, std::size_t order) const {
  auto it = receivers_.find(receiver);
  if (it == receivers_.end() || order >= it->second.slots.size()) return std::nullopt;
  auto slot = slots_.find(it->second.slots[order]);
  return slot == slots_.end() ? std::nullopt : slot->second->current;
}

std::optional<std::uint64_t> Router::available_bps(ParticipantId receiver) const {
  auto it = receivers_.find(receiver);
  if (it == receivers_.end()) return std::nullopt;
  return receiver_available_bps(it->second);
}

void Router::send_rtcp(media::MediaSession& session, std::optional<std::size_t> length) {
  if (length && *length > 0) session.send_rtcp(rtcp_, *length);
}

}  // namespace chorus::sfu
