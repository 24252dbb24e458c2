// G.722 decoding of one 160-octet packet (20 ms at 64 kbit/s), what the audio MCU does for every G.722
// member every tick: spandsp's g722_decode (Debian libspandsp 0.0.6, 64 kbit/s, no options; the
// decoder the worker used until issue 13) against our G722AdpcmDecoder (mixer/audio/
// g722_adpcm_decoder.hpp, bit-exact with it), same packets, same run. Time per iteration is time per
// packet. `build/bin/bench_g722_decode`; the figures are in mixer/README.md.
//
// The packets are spandsp's encoding of two seconds of a voice-band signal (a tone swept by an
// envelope, with noise), decoded in turn by one continuous state, as one member's stream would be.
// spandsp writes 16-bit samples, ours floats (what G722Decoder hands on): ours also pays the conversion.
extern "C" {
#include <spandsp.h>
}

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "mixer/audio/g722_adpcm_decoder.hpp"

namespace {

constexpr int kBitRate = 64'000;
constexpr std::size_t kPacketOctets = 160;
constexpr std::size_t kPackets = 200;

std::vector<std::uint8_t> encoded_stream() {
  std::vector<std::int16_t> pcm(2 * kPacketOctets * kPackets);
  std::mt19937 random(5);
  for (std::size_t n = 0; n < pcm.size(); ++n) {
    const double t = static_cast<double>(n);
    const double voice = 9'000.0 * std::sin(0.05 * t + 0.00002 * t * t) * std::sin(0.0007 * t);
    pcm[n] = static_cast<std::int16_t>(voice + static_cast<double>(random() % 2'001) - 1'000.0);
  }
  std::vector<std::uint8_t> octets(pcm.size() / 2);
  g722_encode_state_t* encoder = g722_encode_init(nullptr, kBitRate, 0);
  g722_encode(encoder, octets.data(), pcm.data(), static_cast<int>(pcm.size()));
  g722_encode_free(encoder);
  return octets;
}

std::span<const std::uint8_t> packet(const std::vector<std::uint8_t>& stream, std::size_t index) {
  return std::span(stream).subspan((index % kPackets) * kPacketOctets, kPacketOctets);
}

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("160-octet packets");
}

void BM_SpandspG722Decode(benchmark::State& state) {
  const std::vector<std::uint8_t> stream = encoded_stream();
  g722_decode_state_t* decoder = g722_decode_init(nullptr, kBitRate, 0);
  std::vector<std::int16_t> out(2 * kPacketOctets);
  std::size_t index = 0;
  for (auto _ : state) {
    const auto payload = packet(stream, index++);
    const int samples = g722_decode(decoder, out.data(), payload.data(), static_cast<int>(payload.size()));
    benchmark::DoNotOptimize(samples);
    benchmark::DoNotOptimize(out.data());
  }
  g722_decode_free(decoder);
  set_counters(state);
}

void BM_OurG722Decode(benchmark::State& state) {
  const std::vector<std::uint8_t> stream = encoded_stream();
  chorus::mixer::G722AdpcmDecoder decoder;
  std::vector<float> out(2 * kPacketOctets);
  std::size_t index = 0;
  for (auto _ : state) {
    const std::size_t samples = decoder.decode(packet(stream, index++), out);
    benchmark::DoNotOptimize(samples);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state);
}

BENCHMARK(BM_SpandspG722Decode);
BENCHMARK(BM_OurG722Decode);

}  // namespace
