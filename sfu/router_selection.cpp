// Router, the decisions (router.hpp has the picture), taken on the 20 ms tick and when feedback
// arrives: who fills each receiver's slots (the last-N speakers among those who send video, never
// oneself, stable: SlotAllocator), which simulcast layer each slot takes within the receiver's
// bandwidth (LayerSelector under min(estimate, cap)), keyframe requests to producers (PLI, FIR, or
// SIP INFO through the listener; rate limited per layer), NACKs towards producers (RFC 4585
// §6.2.1), bandwidth probes towards receivers, and the slot maps sent to the listener.
#include <algorithm>
#include <limits>
#include <numeric>

#include "common/log.hpp"
#include "sfu/router.hpp"

namespace chorus::sfu {
namespace {

constexpr std::uint64_t kSelectEveryTicks = 10;          // layer choice every 200 ms
constexpr std::uint64_t kLivenessEveryTicks = 5;         // producers' liveness every 100 ms
constexpr std::uint64_t kReportEveryTicks = 250;         // a debug line per receiver every 5 s
constexpr std::chrono::milliseconds kTargetRetry{1000};  // a keyframe that never came is asked again
constexpr std::chrono::milliseconds kProbePacing{5};
constexpr std::chrono::milliseconds kDefaultRtt{100};
constexpr std::size_t kMaxNackBatch = 64;

}  // namespace

void Router::tick() {
  tick_timer_ = timers_->schedule(kTick, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->tick();
  });
  const auto at = now();
  ++ticks_;
  if (ticks_ % kLivenessEveryTicks == 0) check_liveness(at);
  const bool reassign = speakers_.version() != ranked_speaker_version_ || producers_changed_;
  if (reassign) assign_slots(at);
  if (reassign || ticks_ % kSelectEveryTicks == 0) select_layers(at);
  for (auto& [id, slot] : slots_)  // a target whose keyframe never came
    if (slot->target && slot->target_since && at - *slot->target_since > kTargetRetry) {
      slot->target_since = at;
      if (auto producer = producers_.find(slot->target->producer); producer != producers_.end())
        request_keyframe(*producer->second, slot->target->layer, at);
    }
  send_nacks(at);
  for (auto& [id, transport] : transports_) {
    if (!transport.estimator || transport.probe) continue;
    if (auto cluster = transport.estimator->next_probe(at)) {
      transport.probe = *cluster;
      transport.probe_sent_bytes = 0;
      transport.probe_sent_packets = 0;
      transport.probe_started = at;
      send_probe_padding(transport, at);
      pace_probes();
    }
  }
  send_slot_maps();
  if (ticks_ % kReportEveryTicks == 0) log_receivers(at);
}

void Router::log_receivers(TimePoint at) {
  if (!log_enabled(LogLevel::kDebug)) return;
  for (const auto& [participant, receiver] : receivers_) {
    std::string layers;
    for (SlotId id : receiver.slots)
      if (const Slot* slot = slot_by_id(id)) {
        if (!layers.empty()) layers += ',';
        layers += slot->current ? std::to_string(slot->current->producer) + "/" + std::to_string(slot->current->layer)
                                : std::string("-");
        const auto& c = slot->rewriter.counters();
        layers += "[fwd " + std::to_string(c.forwarded) + " sw " + std::to_string(c.switches) + " nosrc " +
                  std::to_string(c.dropped_no_source) + " notcur " + std::to_string(c.dropped_not_current_source) +
                  " before " + std::to_string(c.dropped_before_switch_point) + " dup " +
                  std::to_string(slot->duplicates) + "]";
      }
    const bwe::BandwidthEstimator* estimator = nullptr;
    for (SlotId id : receiver.slots)
      if (const Slot* slot = slot_by_id(id))
        if (auto transport = transports_.find(slot->session().id());
            transport != transports_.end() && transport->second.estimator)
          estimator = &*transport->second.estimator;
    CHORUS_LOG(kDebug, "sfu", "receiver", {"room", name_}, {"participant", participant},
               {"available_bps", receiver_available_bps(receiver)},
               {"estimate_bps", estimator ? estimator->estimate_bps() : 0},
               {"delay_based_bps", estimator ? estimator->delay_based_bps() : 0},
               {"loss_based_bps", estimator ? estimator->loss_based_bps().value_or(0) : 0},
               {"acknowledged_bps", estimator ? estimator->acknowledged_bps().value_or(0) : 0},
               {"loss_permille", estimator ? static_cast<int>(estimator->loss_fraction().value_or(0) * 1000) : 0},
               {"feedbacks", estimator ? estimator->counters().feedbacks_used : 0},
               {"probes", estimator ? estimator->counters().probe_packets_sent : 0}, {"slots", layers});
  }
  (void)at;
}

void Router::pace_probes() {
  if (probe_timer_) return;
  probe_timer_ = timers_->schedule(kProbePacing, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->probe_timer_.reset();
    bool active = false;
    const auto at = self->now();
    for (auto& [id, transport] : self->transports_) {
      self->send_probe_padding(transport, at);
      active = active || transport.probe.has_value();
    }
    if (active) self->pace_probes();
  });
}

bool Router::admitted(ParticipantId participant) const {
  auto it = members_.find(participant);
  return it != members_.end() && it->second.admitted;
}

void Router::check_liveness(TimePoint at) {
  producing_.clear();
  for (const auto& [id, producer] : producers_)
    if (producer->codec() && producer->live(at, config_.producer_idle_after) && admitted(producer->participant()))
      producing_.push_back(producer->participant());
  std::ranges::sort(producing_);
  const auto ranked = ranked_.ranked();
  std::vector<ParticipantId> listed(ranked.begin(), ranked.end());
  std::ranges::sort(listed);
  if (listed != producing_) producers_changed_ = true;  // a camera started or stopped
}

void Router::assign_slots(TimePoint at) {
  ranked_speaker_version_ = speakers_.version();
  producers_changed_ = false;
  producing_.clear();
  for (const auto& [id, producer] : producers_)
    if (producer->codec() && producer->live(at, config_.producer_idle_after) && admitted(producer->participant()))
      producing_.push_back(producer->participant());
  ranked_.rebuild(speakers_.order(), producing_);
  for (auto& [participant, receiver] : receivers_) {
    if (!receiver.allocator) continue;
    const auto changed = receiver.allocator->assign(admitted(participant) ? offer_for(receiver) : nobody_);
    for (std::size_t index : changed) {
      if (index >= receiver.slots.size()) continue;
      Slot* slot = slot_by_id(receiver.slots[index]);
      if (slot == nullptr) continue;
      slot->shown = receiver.allocator->slots()[index];
      std::optional<LayerRef> target;
      if (slot->shown)
        if (Producer* producer = producer_of(*slot->shown)) {
          // Until the layer choice runs, the lowest layer: it fits any receiver and comes first.
          const auto order = producer->layers_by_resolution();
          target = LayerRef{producer->id(), order.empty() ? 0 : order.front()};
        }
      set_target(*slot, target, at);
      receiver.map_dirty = true;
    }
  }
}

bool Router::takes(const Receiver& receiver, VideoCodec codec) const {
  return std::ranges::any_of(receiver.slots, [&](SlotId id) {
    auto slot = slots_.find(id);
    return slot != slots_.end() && slot->second->receiver_codec(codec) != nullptr;
  });
}

const RankedProducers& Router::offer_for(Receiver& receiver) {
  // An SFU forwards, never transcodes: a producer whose codec the receiver did not negotiate
  // (an H.264-only room system, a VP8 camera) is passed over, so the slot shows the next speaker
  // it can decode rather than staying dark. Once per pair: a log line and a counter.
  std::vector<ParticipantId> usable;
  bool mismatch = false;
  for (ParticipantId id : producing_) {
    const Producer* producer = producer_of(id);
    if (producer == nullptr || !producer->codec() || takes(receiver, *producer->codec())) {
      usable.push_back(id);
      continue;
    }
    mismatch = true;
    if (std::ranges::find(receiver.passed_over, id) != receiver.passed_over.end()) continue;
    receiver.passed_over.push_back(id);
    counters_->codec_mismatches.fetch_add(1, std::memory_order_relaxed);
    CHORUS_LOG(kInfo, "sfu", "no common video codec: producer not shown", {"room", name_},
               {"receiver", receiver.participant}, {"producer", id}, {"codec", to_string(*producer->codec())});
  }
  if (!mismatch) return ranked_;
  receiver.compatible.rebuild(speakers_.order(), usable);
  return receiver.compatible;
}

std::uint64_t Router::receiver_available_bps(const Receiver& receiver) const {
  std::uint64_t total = 0;
  std::vector<std::uint64_t> seen;
  for (SlotId id : receiver.slots) {
    auto slot = slots_.find(id);
    if (slot == slots_.end()) continue;
    const auto session = slot->second->session().id();
    if (std::ranges::find(seen, session) != seen.end()) continue;
    seen.push_back(session);
    auto transport = transports_.find(session);
    std::uint64_t bps =
        slot->second->spec().max_bitrate_bps > 0 ? slot->second->spec().max_bitrate_bps : config_.default_receive_bps;
    if (transport != transports_.end()) {
      if (transport->second.estimator)
        bps = transport->second.estimator->estimate_bps();
      else if (transport->second.remb_bps)
        bps = *transport->second.remb_bps;
    }
    total += bps;
  }
  if (auto member = members_.find(receiver.participant); member != members_.end() && member->second.receive_cap_bps > 0)
    total = std::min(total, member->second.receive_cap_bps);
  return total;
}

void Router::select_layers(TimePoint at) {
  for (auto& [participant, receiver] : receivers_) {
    // Candidates live in `layers` for the call; the demands view them.
    std::vector<std::array<LayerCandidate, Producer::kMaxLayers>> layers;
    std::vector<SlotDemand> demands;
    std::vector<std::pair<Slot*, Producer*>> owners;
    layers.reserve(receiver.slots.size());
    for (std::size_t index = 0; index < receiver.slots.size(); ++index) {
      Slot* slot = slot_by_id(receiver.slots[index]);
      if (slot == nullptr || !slot->shown) continue;
      Producer* producer = producer_of(*slot->shown);
      if (producer == nullptr || !producer->codec() || slot->receiver_codec(*producer->codec()) == nullptr) continue;
      auto& candidates = layers.emplace_back();
      const auto order = producer->layers_by_resolution();
      std::size_t count = 0;
      for (std::size_t rank = 0; rank < order.size() && count < candidates.size(); ++rank) {
        const auto& layer = producer->layers()[order[rank]];
        const bool live = layer.last_packet && at - *layer.last_packet < config_.producer_idle_after;
        candidates[count++] = LayerCandidate{static_cast<int>(rank), layer.meter.rate_bps(at), layer.width,
                                             layer.height, live ? layer.meter.live_since(at) : std::nullopt};
      }
      demands.push_back(SlotDemand{index, std::span(candidates).first(count), std::nullopt, 0});
      owners.emplace_back(slot, producer);
    }
    // LayerSelector serves demands in priority order: the most recent speakers first.
    std::vector<std::size_t> by_priority(demands.size());
    std::iota(by_priority.begin(), by_priority.end(), std::size_t{0});
    std::ranges::stable_sort(by_priority, [&](std::size_t a, std::size_t b) {
      const auto rank = [&](std::size_t i) {
        return ranked_.rank_of(*owners[i].first->shown).value_or(std::numeric_limits<std::size_t>::max());
      };
      return rank(a) < rank(b);
    });
    std::vector<SlotDemand> ordered;
    for (std::size_t i : by_priority) ordered.push_back(demands[i]);
    const auto available = static_cast<std::int64_t>(receiver_available_bps(receiver));
    const LayerPlan plan = receiver.selector.select(available, ordered, at);
    for (std::size_t i = 0; i < plan.slots.size() && i < by_priority.size(); ++i) {
      auto [slot, producer] = owners[by_priority[i]];
      const auto& choice = plan.slots[i];
      const auto order = producer->layers_by_resolution();
      std::optional<std::size_t> rank;
      if (choice.spatial) {
        rank = static_cast<std::size_t>(*choice.spatial);
      } else if (choice.dark == DarkReason::kNoBandwidth && i == 0) {
        // The first speaker stays visible at its lowest layer whatever the estimate says (an estimate
        // is a guess, and a receiver seeing nobody cannot show what it would take): its demand's
        // first live layer.
        for (const auto& candidate : ordered[0].layers)
          if (candidate.live_since && (!rank || static_cast<std::size_t>(candidate.spatial) < *rank))
            rank = static_cast<std::size_t>(candidate.spatial);
      } else if (choice.dark == DarkReason::kNoBandwidth) {
        set_target(*slot, std::nullopt, at);
        continue;
      }
      if (rank && *rank < order.size()) set_target(*slot, LayerRef{producer->id(), order[*rank]}, at);
    }
    for (SlotId id : receiver.slots)  // what the receiver's transports would carry at the best layers
      if (Slot* slot = slot_by_id(id))
        if (auto transport = transports_.find(slot->session().id());
            transport != transports_.end() && transport->second.estimator)
          transport->second.estimator->set_wanted_bitrate(
              static_cast<std::uint64_t>(std::max<std::int64_t>(plan.wanted_bps, 0)));
  }
}

void Router::set_target(Slot& slot, std::optional<LayerRef> target, TimePoint at) {
  if (target && slot.current && *target == *slot.current) {  // back to what flows: no switch pending
    if (slot.target) {
      const LayerRef old = *slot.target;
      slot.target.reset();
      unsubscribe(slot, old);
    }
    return;
  }
  if (target == slot.target && (target || !slot.current)) return;
  if (slot.target) {
    const LayerRef old = *slot.target;
    slot.target.reset();
    unsubscribe(slot, old);
  }
  if (!target) {  // dark: stop forwarding now
    if (slot.current) {
      const LayerRef old = *slot.current;
      slot.current.reset();
      unsubscribe(slot, old);
    }
    slot.rewriter.reset_source();
    return;
  }
  slot.target = target;
  slot.target_since = at;
  subscribe(slot, *target);
  if (auto producer = producers_.find(target->producer); producer != producers_.end())
    request_keyframe(*producer->second, target->layer, at);
}

void Router::request_keyframe(Producer& producer, std::size_t index, TimePoint at) {
  auto& layer = producer.layers()[index];
  if (layer.last_keyframe_request && at - *layer.last_keyframe_request < config_.keyframe_request_interval) return;
  layer.last_keyframe_request = at;
  bump(counters_->keyframe_requests);
  const auto& feedback = producer.spec().feedback;
  const std::uint32_t sender = producer.session().spec().local_ssrc;
  if (layer.ssrc && feedback.pli) {  // RFC 4585 §6.3.1
    send_rtcp(producer.session(), media::rtcp::Pli{sender, *layer.ssrc}.write(rtcp_));
  } else if (layer.ssrc && feedback.fir) {  // RFC 5104 §4.3.1
    send_rtcp(producer.session(), media::rtcp::Fir{sender, {{*layer.ssrc, fir_sequence_++}}}.write(rtcp_));
  } else if (listener_) {  // RFC 5168: the endpoint asks for no RTCP feedback; SIP INFO instead
    listener_->on_keyframe_request(producer.participant());
  }
}

void Router::send_nacks(TimePoint at) {
  std::array<std::uint16_t, kMaxNackBatch> lost{};
  std::array<media::rtcp::NackItem, kMaxNackBatch> items{};
  for (auto& [id, producer] : producers_) {
    if (!producer->spec().feedback.nack) continue;
    const auto rtt = producer->session().quality().rtt;
    const auto wait = rtt ? std::chrono::duration_cast<std::chrono::milliseconds>(*rtt) : kDefaultRtt;
    for (auto& layer : producer->layers()) {
      if (!layer.ssrc || layer.nacks.missing_count() == 0) continue;
      const std::size_t count = layer.nacks.collect(at, wait, lost);
      if (count == 0) continue;
      const auto packed = pack_nack_items(std::span(lost).first(count), items);
      const media::rtcp::FeedbackSsrcs ssrcs{producer->session().spec().local_ssrc, *layer.ssrc};
      send_rtcp(producer->session(), write_generic_nack(rtcp_, ssrcs, std::span(items).first(packed.items)));
      bump(counters_->nacks_sent, count);
    }
  }
}

void Router::send_slot_maps() {
  if (!listener_) return;
  for (auto& [participant, receiver] : receivers_) {
    if (!receiver.map_dirty) continue;
    receiver.map_dirty = false;
    listener_->on_slots_changed(participant, slots_of(participant));
  }
}

void Router::on_slot_feedback(SlotId id, const media::RtcpFeedback& feedback) {
  Slot* slot = slot_by_id(id);
  if (slot == nullptr) return;
  const auto at = now();
  if (const auto* nack = std::get_if<media::rtcp::GenericNack>(&feedback)) {
    answer_nack(*slot, *nack, at);
    return;
  }
  // PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1): the receiver's decoder needs a refresh of what
  // the slot shows (or is about to show). TMMBR (RFC 5104 §4.2.1) is not taken: a slot forwards a
  // publisher's layers, which the receiver's bandwidth estimate (REMB, transport-cc) chooses among.
  if (!std::holds_alternative<media::rtcp::Pli>(feedback) && !std::holds_alternative<media::rtcp::Fir>(feedback))
    return;
  const auto& source = slot->target ? slot->target : slot->current;
  if (!source) return;
  if (auto producer = producers_.find(source->producer); producer != producers_.end())
    request_keyframe(*producer->second, source->layer, at);
}

bool Router::on_transport_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) {
  auto it = transports_.find(session.id());
  if (it == transports_.end()) return false;
  Transport& transport = it->second;
  if (const auto* cc = std::get_if<media::rtcp::TransportCc>(&feedback)) {
    if (transport.estimator) transport.estimator->on_transport_feedback(*cc, now());
    return true;
  }
  if (const auto* remb = std::get_if<media::rtcp::Remb>(&feedback)) {
    transport.remb_bps = remb->bitrate_bps;
    if (transport.estimator) transport.estimator->on_remb(remb->bitrate_bps);
    return true;
  }
  return false;
}

void Router::on_audio_levels(std::span<const SpeakerLevel> levels) {
  speakers_.update(levels);
}

}  // namespace chorus::sfu
