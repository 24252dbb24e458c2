// libFuzzer target for the send-side bandwidth estimator (sfu/bwe) fed with transport-cc
// feedback a receiver controls: RTCP bytes → CompoundView → TransportCc::parse →
// BandwidthEstimator::on_transport_feedback (history lookup, feedback adapter, groups,
// trendline, AIMD, loss bound, probe measurement).
//
//   make fuzz-build && build-fuzz/bin/bwe_feedback_fuzz -max_total_time=60 fuzz/seeds/bwe_feedback_fuzz
//
// Input: a sequence of records. Each starts with an octet: its low 6 bits times 8 is how many
// packets we send first (1200 octets every 2 ms, some tagged with the probe cluster in flight);
// the top 2 bits choose what follows: 0 → a 2-octet length and that many RTCP octets, delivered
// as feedback 10 ms later; 1 → a REMB value (4 octets); 2 → a wanted bitrate (4 octets);
// 3 → nothing. Besides crashes it checks that the estimate always stays within [min, max] and
// that a probe cluster asked for is one the controller can describe (non-zero rate and bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "sfu/bwe/bandwidth_estimator.hpp"

namespace {

using namespace chorus;
using namespace std::chrono_literals;

void check(bool condition) {
  if (!condition) std::abort();
}

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr sfu::bwe::BandwidthEstimatorConfig kConfig{.start_bps = 500'000, .min_bps = 50'000, .max_bps = 10'000'000};
  sfu::bwe::BandwidthEstimator estimator(kConfig);
  estimator.set_wanted_bitrate(4'000'000);
  sfu::bwe::Timestamp now{std::chrono::seconds(1000)};
  std::optional<sfu::bwe::ProbeCluster> probe;

  std::size_t at = 0;
  while (at < size) {
    const std::uint8_t head = data[at++];
    for (int i = 0; i < (head & 0x3F) * 8; ++i) {
      estimator.on_packet_sent(now, 1200, probe && (i % 2 == 0) ? std::optional(probe->id) : std::nullopt);
      now += 2ms;
    }
    if (auto next = estimator.next_probe(now)) {
      check(next->bitrate_bps > 0 && next->bytes > 0 && next->min_packets > 0);
      probe = next;
    }
    const int kind = head >> 6;
    if (kind == 0) {
      if (size - at < 2) break;
      const std::size_t length = (std::size_t{data[at]} << 8) | data[at + 1];
      at += 2;
      if (size - at < length) break;
      now += 10ms;
      if (const auto compound = media::rtcp::CompoundView::parse(std::span(data + at, length))) {
        for (const auto header : *compound) {
          if (const auto feedback = media::rtcp::TransportCc::parse(header)) {
            estimator.on_transport_feedback(*feedback, now);
          }
        }
      }
      at += length;
    } else if (kind == 1 || kind == 2) {
      if (size - at < 4) break;
      const std::uint32_t value = read_u32(data + at);
      at += 4;
      if (kind == 1)
        estimator.on_remb(value);
      else
        estimator.set_wanted_bitrate(value);
    }
    const auto estimate = estimator.estimate_bps();
    check(estimate >= kConfig.min_bps && estimate <= kConfig.max_bps);
  }
  return 0;
}
