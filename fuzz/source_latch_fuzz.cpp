// libFuzzer target for SourceLatch (media/transport/source_latch.hpp): every datagram a plain-RTP or
// SDES leg receives is read by identify_packet and judged by the latch before anything else.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/source_latch_fuzz.cpp \
//     media/transport/source_latch.cpp media/stun/*.cpp
//   ./a.out -max_total_time=60 -max_len=4096
//
// The input is a configuration byte, then records: [source 1][time step 1][length 1][datagram]. The
// source byte picks one of eight addresses (0: the SDP's, 1: the SDP's IP on another port, 2..7:
// strangers), its top bit marks RTCP; the time step advances the clock by that many 20 ms ticks; a
// length of 0xff re-signals the SDP address (a re-INVITE). Besides crashes it checks the latch's
// promises on every step:
//   - nothing is sent before a proof: destination() stays empty until a packet latched or the
//     signaling proved the SDP address;
//   - a foreign verdict never moves the destination, and on_authenticated after it changes nothing;
//   - after the window, with an SSRC learnt, a source other than the destination moves it only with
//     that SSRC and a sequence number 1..kMaxLatchSequenceGap ahead of the last one seen.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>

#include "media/transport/source_latch.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

TransportAddress address_for(std::uint8_t selector) {
  switch (selector & 7U) {
    case 0:
      return TransportAddress::ipv4({192, 0, 2, 1}, 5000);
    case 1:
      return TransportAddress::ipv4({192, 0, 2, 1}, 5002);
    default:
      return TransportAddress::ipv4({198, 51, 100, static_cast<std::uint8_t>(selector & 7U)}, 40000);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  LatchConfig config;
  config.signalled = address_for(0);
  config.proven_by_signaling = (flags & 1U) != 0;
  config.rtcp_component = (flags & 2U) != 0;
  if ((flags & 4U) != 0) {
    config.payload_types.set(0);
    config.payload_types.set(101);
  }
  config.window = std::chrono::milliseconds(20 * ((flags >> 3) + 1));
  chorus::TimePoint now{std::chrono::hours(1)};
  SourceLatch latch(config, now);
  bool proven = config.proven_by_signaling;
  check(latch.destination().has_value() == proven);

  std::size_t at = 1;
  while (at + 3 <= size) {
    const std::uint8_t selector = data[at];
    now += std::chrono::milliseconds(20) * data[at + 1];
    const std::size_t length = data[at + 2];
    at += 3;
    const auto source = address_for(selector);
    if (length == 0xff) {
      const bool signalled_proven = (selector & 0x40U) != 0;
      latch.on_signalled(source, signalled_proven, now);
      proven = proven || signalled_proven;
      check(latch.destination().has_value() == proven);
      continue;
    }
    const auto datagram = std::span(data + at, std::min(length, size - at));
    at += datagram.size();
    const auto packet = identify_packet(datagram, (selector & 0x80U) == 0);
    if (!packet) continue;

    const auto before = latch.destination();
    const auto ssrc_before = latch.ssrc();
    const bool was_latched = latch.latched();
    const auto verdict = latch.admit(source, *packet, now);
    if (verdict == LatchVerdict::kForeign) {
      check(!latch.on_authenticated(source, *packet, now));
      check(latch.destination() == before);
      continue;
    }
    const bool moved = latch.on_authenticated(source, *packet, now);
    if (moved) {
      check(latch.destination() == source);
      // A latched leg moves only for its own stream (the window is over once something latched).
      if (was_latched && ssrc_before) check(packet->ssrc == *ssrc_before);
    }
    if (latch.latched()) proven = true;
    check(latch.destination().has_value() == proven);
  }
  return 0;
}
