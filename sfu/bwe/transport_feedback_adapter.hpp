// TransportFeedbackAdapter: one parsed transport-cc packet (draft-holmer-rmcat-transport-wide-
// cc-extensions-01 §3.1) plus the SendHistory → a result per packet we remember: sent size and
// time, and the arrival on the receiver's clock or "lost".
//
// - Sequence numbers are unwrapped against the newest one we sent (ours only go forward), so a
//   feedback across the 16-bit wrap maps to the right packets; numbers we never sent or have
//   forgotten are skipped and counted.
// - Arrivals: the 24-bit reference time (64 ms units) is unwrapped across feedbacks, then each
//   received packet's delta is added in order (§3.1.5), giving a time line on the receiver's
//   clock whose origin is meaningless but whose differences are exact to 250 µs.
// - Duplicates: a packet already reported received is never reported again (a repeated or
//   overlapping feedback), and a loss is reported once; a packet first reported lost and later
//   received (the receiver saw it late) comes through as received.
//
// The result is a view into a list kept by the adapter, valid until the next on_feedback().
// Threading: a plain value owned by the media worker of its transport; use it from that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/transport_cc.hpp"
#include "sfu/bwe/bwe_types.hpp"
#include "sfu/bwe/send_history.hpp"

namespace chorus::sfu::bwe {

struct FeedbackBatch {
  Timestamp feedback_time{};
  std::span<const PacketResult> packets;  // in sequence (= send) order
  std::size_t received = 0;
  std::size_t lost = 0;
  // Now minus the send time of the newest packet reported received: the round trip plus however
  // long the receiver held the arrival before reporting it (up to its feedback interval).
  std::optional<std::chrono::microseconds> rtt;
};

struct TransportFeedbackCounters {
  std::uint64_t feedbacks = 0;
  std::uint64_t unknown_packets = 0;    // never sent, or no longer in the history
  std::uint64_t duplicate_reports = 0;  // already reported received, or a loss reported again
  std::uint64_t useless_feedbacks = 0;  // nothing in it matched a packet we remember
};

class TransportFeedbackAdapter {
 public:
  TransportFeedbackAdapter();

  // nullopt when no reported packet is one we remember (counted). Marks the history's entries.
  std::optional<FeedbackBatch> on_feedback(const media::rtcp::TransportCc& feedback, SendHistory& history,
                                           Timestamp now);

  [[nodiscard]] const TransportFeedbackCounters& counters() const noexcept { return counters_; }

 private:
  RemoteTime unwrap_reference(std::int32_t reference_time) noexcept;

  std::vector<PacketResult> results_;  // capacity kept across feedbacks
  std::optional<std::int64_t> last_reference_;
  TransportFeedbackCounters counters_;
};

}  // namespace chorus::sfu::bwe
