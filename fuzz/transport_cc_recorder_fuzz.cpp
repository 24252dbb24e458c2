// libFuzzer target for TransportCcRecorder (media/rtcp): the arrival side of transport-cc is
// driven by sequence numbers and times a peer chooses, and its output goes back on the wire.
//
//   make fuzz-build && build-fuzz/bin/transport_cc_recorder_fuzz -max_total_time=60
//   fuzz/seeds/transport_cc_recorder_fuzz
//
// Input: one config octet (window and packet-size budget), then 4-octet records: a transport-wide
// sequence number (16 bits) and a signed time step (16 bits, 100 µs units; 0x7FFF builds feedback
// now instead of recording). Besides crashes it checks that every feedback written:
//   - is a compound of transport-cc packets that TransportCc::parse accepts, each within the budget;
//   - reports as received only packets the recorder accepted, each once, at its arrival (250 µs
//     ticks), so never more than it accepted in total;
//   - leaves nothing pending once build_feedback() returns 0.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "media/rtcp/transport_cc_recorder.hpp"

namespace {

using namespace chorus::media::rtcp;
using Clock = TransportCcRecorder::Clock;
using Ticks = std::chrono::duration<std::int64_t, std::ratio<1, 4000>>;

void check(bool condition) {
  if (!condition) std::abort();
}

struct Model {
  std::array<std::optional<Clock::time_point>, 65536> accepted{};  // the latest accepted arrival per number
  std::uint64_t accepted_count = 0;
  std::uint64_t reported_received = 0;
};

constexpr std::chrono::microseconds kReferencePeriod{(std::int64_t{1} << 24) * 64'000};
std::chrono::microseconds wrapped(std::chrono::microseconds v) {
  return ((v % kReferencePeriod) + kReferencePeriod) % kReferencePeriod;
}

void check_feedback(std::span<const std::uint8_t> bytes, std::size_t budget, Model& model) {
  const auto compound = CompoundView::parse(bytes);
  check(compound.has_value());
  for (const RtcpHeader header : *compound) {
    check(header.size() <= budget);
    const auto feedback = TransportCc::parse(header);
    check(feedback.has_value());
    auto at = std::chrono::duration_cast<std::chrono::microseconds>(feedback->reference_time_ms());
    for (const auto& packet : feedback->packets) {
      if (!packet.received()) continue;
      at += packet.receive_delta;
      ++model.reported_received;
      auto& arrival = model.accepted[packet.sequence_number];
      check(arrival.has_value());  // accepted, and not reported before
      // The wire carries the reference time modulo 2^24 × 64 ms: compare within that period.
      const auto expected =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::floor<Ticks>(arrival->time_since_epoch()));
      check(wrapped(at) == wrapped(expected));
      arrival.reset();
    }
  }
  check(model.reported_received <= model.accepted_count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  TransportCcRecorderConfig config;
  config.max_pending = std::size_t{1} + (data[0] & 0x0F) * 64;  // 1 .. 961
  config.max_packet_size = TransportCcRecorder::kMinPacketSize + (data[0] >> 4) * 80;
  TransportCcRecorder recorder(config);
  static Model model;
  model = Model{};
  std::vector<std::uint8_t> out(1500);

  Clock::time_point now{std::chrono::seconds(1000)};
  for (std::size_t at = 1; at + 4 <= size; at += 4) {
    const auto sequence = static_cast<std::uint16_t>((data[at] << 8) | data[at + 1]);
    const auto step = static_cast<std::int16_t>((data[at + 2] << 8) | data[at + 3]);
    if (step == 0x7FFF) {
      const auto written = recorder.build_feedback(now, 1, 2, out);
      if (written > 0) check_feedback(std::span(out).first(written), config.max_packet_size, model);
      continue;
    }
    now += step * std::chrono::microseconds(100);
    if (recorder.on_packet(sequence, now)) {
      model.accepted[sequence] = now;
      ++model.accepted_count;
    }
  }
  while (const auto written = recorder.build_feedback(now, 1, 2, out)) {
    check_feedback(std::span(out).first(written), config.max_packet_size, model);
  }
  check(!recorder.has_pending());
  return 0;
}
