#include "sfu/bwe/transport_feedback_adapter.hpp"

namespace chorus::sfu::bwe {

namespace {
constexpr std::int64_t kReferenceModulus = std::int64_t{1} << 24;  // §3.1: 24-bit reference time
constexpr std::size_t kInitialResults = 1024;
}  // namespace

TransportFeedbackAdapter::TransportFeedbackAdapter() {
  results_.reserve(kInitialResults);
}

// §3.1: the reference time wraps every 2^24 × 64 ms (~12 days); a step of less than half that
// either way is taken as the true one.
RemoteTime TransportFeedbackAdapter::unwrap_reference(std::int32_t reference_time) noexcept {
  const std::int64_t field = reference_time & (kReferenceModulus - 1);
  if (!last_reference_) {
    last_reference_ = field;
  } else {
    std::int64_t step = (field - *last_reference_) % kReferenceModulus;
    if (step < 0) step += kReferenceModulus;
    if (step >= kReferenceModulus / 2) step -= kReferenceModulus;
    *last_reference_ += step;
  }
  return *last_reference_ * media::rtcp::TransportCc::kReferenceTimeTick;
}

std::optional<FeedbackBatch> TransportFeedbackAdapter::on_feedback(const media::rtcp::TransportCc& feedback,
                                                                   SendHistory& history, Timestamp now) {
  ++counters_.feedbacks;
  results_.clear();
  FeedbackBatch batch;
  batch.feedback_time = now;
  RemoteTime arrival = unwrap_reference(feedback.reference_time);
  std::optional<Timestamp> newest_acked_send;
  for (const auto& reported : feedback.packets) {
    // Deltas chain through every received packet, remembered or not (§3.1.5).
    if (reported.received()) arrival += reported.receive_delta;
    const auto sequence = history.unwrap(reported.sequence_number);
    SentPacket* sent = sequence ? history.find(*sequence, now) : nullptr;
    if (sent == nullptr) {
      ++counters_.unknown_packets;
      continue;
    }
    if (sent->acked || (sent->reported && !reported.received())) {
      ++counters_.duplicate_reports;
      continue;
    }
    sent->reported = true;
    PacketResult result{sent->sequence, sent->send_time, sent->size, sent->probe_cluster, std::nullopt};
    if (reported.received()) {
      sent->acked = true;
      result.arrival = arrival;
      ++batch.received;
      if (!newest_acked_send || sent->send_time > *newest_acked_send) newest_acked_send = sent->send_time;
    } else {
      ++batch.lost;
    }
    results_.push_back(result);
  }
  if (results_.empty()) {
    ++counters_.useless_feedbacks;
    return std::nullopt;
  }
  if (newest_acked_send) {
    batch.rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - *newest_acked_send);
  }
  batch.packets = results_;
  return batch;
}

}  // namespace chorus::sfu::bwe
