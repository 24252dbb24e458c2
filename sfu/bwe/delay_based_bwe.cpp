#include "sfu/bwe/delay_based_bwe.hpp"

namespace chorus::sfu::bwe {

void DelayBasedBwe::on_overuse(std::optional<double> acked_bps, Timestamp now) noexcept {
  if (acked_bps) {
    if (aimd_.time_to_reduce_further(now, *acked_bps)) aimd_.update(BandwidthUsage::kOverusing, acked_bps, now);
    return;
  }
  // Congested before anything measured what gets through: back off hard, but not on every
  // feedback, so the queue has time to show the effect.
  if (!last_halving_ || now - *last_halving_ >= kInitialHalvingInterval) {
    aimd_.set_estimate(aimd_.estimate_bps() / 2, now);
    last_halving_ = now;
  }
}

DelayBasedResult DelayBasedBwe::on_feedback(const FeedbackBatch& batch, std::optional<double> acked_bps,
                                            std::optional<double> probe_bps, Timestamp now) noexcept {
  for (const auto& packet : batch.packets) {
    if (!packet.arrival) continue;
    if (const auto delta = inter_arrival_.on_packet(packet.send_time, *packet.arrival, packet.size)) {
      trendline_.update(delta->arrival_delta, delta->send_delta, delta->arrival);
    }
  }
  DelayBasedResult result;
  result.usage = trendline_.state();
  if (result.usage == BandwidthUsage::kOverusing) {
    on_overuse(acked_bps, now);
  } else if (probe_bps && *probe_bps > aimd_.estimate_bps()) {
    aimd_.set_estimate(*probe_bps, now);
    result.probe = true;
  } else {
    aimd_.update(result.usage, acked_bps, now);
  }
  result.estimate_bps = aimd_.estimate_bps();
  return result;
}

}  // namespace chorus::sfu::bwe
