// MediaCounters: what one media worker has received, sent and dropped, and why.
//
// Threading: each counter has one writer, the worker thread that owns it, which bumps it with a
// relaxed atomic add; the control loop reads totals for the status line and /metrics. Relaxed
// order is enough: the numbers are statistics, never used to synchronise anything.
#pragma once

#include <atomic>
#include <cstdint>

namespace chorus::media {

// A plain copy of the counters, for readers on other threads.
struct MediaCountersSnapshot {
  std::uint64_t packets_in = 0;                // RTP/RTCP delivered to a sink after every check
  std::uint64_t packets_out = 0;               // RTP/RTCP handed to the kernel
  std::uint64_t dropped_auth = 0;              // SRTP/SRTCP authentication failed (forged, wrong key)
  std::uint64_t dropped_replay = 0;            // SRTP/SRTCP index seen before (RFC 3711 §3.3.2)
  std::uint64_t dropped_source = 0;            // from an address neither latched nor ICE-validated
  std::uint64_t foreign_source_drops = 0;      // of those, plain RTP/SDES from a source the latch refused
  std::uint64_t dropped_dtls_unvalidated = 0;  // DTLS from an address ICE has not validated
  std::uint64_t dropped_malformed = 0;         // not RTP/RTCP/STUN/DTLS, truncated, keys not ready
  std::uint64_t dropped_unroutable = 0;        // bundled RTP that no m= section claims (RFC 8843 §9.2)
  std::uint64_t feedback_unmatched = 0;        // RTCP feedback (PLI, FIR, NACK, TMMBR) naming an SSRC we never sent
  std::uint64_t dropped_send = 0;              // the kernel refused, no destination yet, consent expired
  std::uint64_t dtls_connected = 0;            // DTLS-SRTP handshakes completed with a matching fingerprint
  std::uint64_t dtls_failed = 0;               // handshakes that failed or whose fingerprint did not match
  std::uint64_t stun_answered = 0;             // STUN Binding requests answered (success or error)
  std::uint64_t source_changes = 0;            // latching or ICE nomination moved a destination
  std::uint64_t media_timeouts = 0;            // sessions whose peer sent nothing for the media timeout
  std::uint64_t sessions = 0;                  // a gauge: sessions alive on the worker(s) now

  MediaCountersSnapshot& operator+=(const MediaCountersSnapshot& other);
};

class MediaCounters {
 public:
  using Counter = std::atomic<std::uint64_t>;
  static void bump(Counter& counter, std::uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  [[nodiscard]] MediaCountersSnapshot snapshot() const;

  Counter packets_in{0};
  Counter packets_out{0};
  Counter dropped_auth{0};
  Counter dropped_replay{0};
  Counter dropped_source{0};
  Counter foreign_source_drops{0};
  Counter dropped_dtls_unvalidated{0};
  Counter dropped_malformed{0};
  Counter dropped_unroutable{0};
  Counter feedback_unmatched{0};
  Counter dropped_send{0};
  Counter dtls_connected{0};
  Counter dtls_failed{0};
  Counter stun_answered{0};
  Counter source_changes{0};
  Counter media_timeouts{0};
  Counter sessions{0};
};

}  // namespace chorus::media
