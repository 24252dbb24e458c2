// G722AdpcmDecoder (mixer/audio/g722_adpcm_decoder.*) against spandsp's g722_decode (64 kbit/s, no
// options), the decoder it replaced on the worker, sample for sample: a million random codewords in
// random packet sizes (every codeword of both bands, from every kind of state), spandsp's own
// encodings of full-scale, quiet, silent, square and clipped signals (the full-scale ones drive the
// predictors into their saturations and the QMF into 16-bit overflow, which spandsp wraps around
// and ours clips: the one place the two may differ), a
// reset, and an output shorter than the payload.
#include "mixer/audio/g722_adpcm_decoder.hpp"
#include "tests/unit/mixer/audio/spandsp_g722.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace chorus::mixer {
namespace g722_adpcm_decoder_test {

constexpr std::size_t kRate = 16'000;
constexpr std::size_t kOctetsPer20ms = 160;

// spandsp's decoder with one continuous state: the oracle.
class SpandspDecoder {
 public:
  SpandspDecoder() : state_(g722_decode_init(nullptr, spandsp_g722::kBitRate, 0)) {}

  std::vector<float> decode(std::span<const std::uint8_t> payload) {
    std::vector<std::int16_t> pcm(2 * payload.size());
    const int count = g722_decode(state_.get(), pcm.data(), payload.data(), static_cast<int>(payload.size()));
    return {pcm.begin(), pcm.begin() + std::max(count, 0)};
  }

 private:
  struct Free {
    void operator()(g722_decode_state_t* state) const { g722_decode_free(state); }
  };
  std::unique_ptr<g722_decode_state_t, Free> state_;
};

std::vector<float> decode_all(G722AdpcmDecoder& decoder, std::span<const std::uint8_t> payload) {
  std::vector<float> out(2 * payload.size());
  out.resize(decoder.decode(payload, out));
  return out;
}

// An output overload: the QMF's sum past 16 bits, which ours clips to the rail and spandsp 0.0.6
// truncates, so that it comes out with the opposite sign.
bool clipped_where_spandsp_wrapped(float ours, float reference) {
  return (ours == 32767.0F && reference < 0.0F) || (ours == -32768.0F && reference >= 0.0F);
}

// Equal sample for sample, but for overloads (counted in `clipped` when given); else where the
// first difference is.
::testing::AssertionResult same_samples(std::span<const float> ours, std::span<const float> reference,
                                        std::size_t* clipped = nullptr) {
  if (ours.size() != reference.size())
    return ::testing::AssertionFailure() << ours.size() << " samples, spandsp " << reference.size();
  for (std::size_t i = 0; i < ours.size(); ++i) {
    if (ours[i] == reference[i]) continue;
    if (clipped_where_spandsp_wrapped(ours[i], reference[i])) {
      if (clipped) ++*clipped;
      continue;
    }
    return ::testing::AssertionFailure() << "sample " << i << ": " << ours[i] << ", spandsp " << reference[i];
  }
  return ::testing::AssertionSuccess();
}

std::int16_t clip16(double value) {
  return static_cast<std::int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

// Four seconds of a full-scale exponential sweep from 50 Hz to 7.9 kHz: the predictors at their
// bounds, the reconstructed signals at their limits.
std::vector<std::int16_t> full_scale_sweep() {
  const std::size_t samples = 4 * kRate;
  std::vector<std::int16_t> pcm(samples);
  double phase = 0.0;
  for (std::size_t n = 0; n < samples; ++n) {
    const double hz = 50.0 * std::pow(7'900.0 / 50.0, static_cast<double>(n) / samples);
    phase += 2.0 * std::numbers::pi * hz / kRate;
    pcm[n] = clip16(32767.0 * std::sin(phase));
  }
  return pcm;
}

// A second of noise within ±32 (about −60 dBFS): the scale factors near their floor.
std::vector<std::int16_t> low_level_noise() {
  std::mt19937 random(7);
  std::vector<std::int16_t> pcm(kRate);
  for (std::int16_t& sample : pcm) sample = static_cast<std::int16_t>(static_cast<int>(random() % 65) - 32);
  return pcm;
}

// Full-scale square waves (500 Hz, then 2 kHz): edges from one rail to the other.
std::vector<std::int16_t> full_scale_squares() {
  std::vector<std::int16_t> pcm;
  for (const std::size_t period : {32U, 8U})
    for (std::size_t n = 0; n < kRate; ++n) pcm.push_back(n % period < period / 2 ? 32767 : -32768);
  return pcm;
}

// Voiced bursts (a glottal pulse train at a gliding pitch through three formant resonators), four
// times too loud and clipped, between 100 ms silences.
std::vector<std::int16_t> clipped_speech_bursts() {
  std::vector<std::int16_t> pcm;
  std::mt19937 random(11);
  for (int burst = 0; burst < 8; ++burst) {
    const std::size_t length = (kRate / 5 + random() % (kRate / 5)) & ~std::size_t{1};  // whole octets
    const double pitch = 100.0 + static_cast<double>(random() % 150);
    std::array<std::array<double, 2>, 3> memory{};
    constexpr std::array<double, 3> kFormants = {600.0, 1'700.0, 2'600.0};
    double phase = 0.0;
    for (std::size_t n = 0; n < length; ++n) {
      const double hz = pitch * (1.0 + 0.3 * static_cast<double>(n) / length);
      phase += hz / kRate;
      double x = phase >= 1.0 ? 4'000.0 : 0.0;  // one pulse a pitch period
      if (phase >= 1.0) phase -= 1.0;
      double y = 0.0;
      for (std::size_t f = 0; f < kFormants.size(); ++f) {  // two-pole resonators, 0.97 radius
        const double c = 2.0 * 0.97 * std::cos(2.0 * std::numbers::pi * kFormants[f] / kRate);
        const double out = x + c * memory[f][0] - 0.97 * 0.97 * memory[f][1];
        memory[f][1] = memory[f][0];
        memory[f][0] = out;
        y += out;
      }
      pcm.push_back(clip16(4.0 * y));
    }
    pcm.insert(pcm.end(), kRate / 10, 0);
  }
  return pcm;
}

TEST(G722AdpcmDecoder, MatchesSpandspOverAMillionRandomCodewordsInRandomPacketSizes) {
  std::mt19937 random(20'240'613);
  SpandspDecoder reference;
  G722AdpcmDecoder decoder;
  std::bitset<64> lower_codes;
  std::bitset<4> upper_codes;
  std::size_t octets = 0;
  std::size_t packets = 0;
  std::size_t clipped = 0;
  std::vector<std::uint8_t> payload;
  while (octets < 1'000'000) {
    // Every 97th packet empty: nothing written, nothing advanced.
    payload.resize(packets % 97 == 0 ? 0 : 1 + random() % 400);
    for (std::uint8_t& octet : payload) {
      octet = static_cast<std::uint8_t>(random());
      lower_codes.set(octet & 0x3FU);
      upper_codes.set(octet >> 6);
    }
    ASSERT_TRUE(same_samples(decode_all(decoder, payload), reference.decode(payload), &clipped))
        << "packet " << packets << " of " << payload.size() << " octets, after " << octets << " octets";
    octets += payload.size();
    ++packets;
  }
  // A wrong entry in any table, or a wrong update rule, would have shown: every codeword of both
  // bands was decoded, many times, from every kind of state. (Such a stream also reaches what
  // speech never does: a million octets bring thousands of saturated 4·A1 negations in UPPOL2
  // and of QMF sums that overflow 16 bits, which spandsp wraps and ours clips.)
  EXPECT_TRUE(lower_codes.all()) << lower_codes;
  EXPECT_TRUE(upper_codes.all()) << upper_codes;
  EXPECT_GT(clipped, 1'000U) << "overloads clipped";
}

TEST(G722AdpcmDecoder, MatchesSpandspOnSpandspsOwnEncodings) {
  struct Signal {
    std::string name;
    std::vector<std::int16_t> pcm;
  };
  const std::vector<Signal> signals = {{"full-scale sweep 50 Hz-7.9 kHz", full_scale_sweep()},
                                       {"noise at -60 dBFS", low_level_noise()},
                                       {"silence", std::vector<std::int16_t>(kRate, 0)},
                                       {"full-scale squares", full_scale_squares()},
                                       {"clipped speech-like bursts", clipped_speech_bursts()}};
  for (const Signal& signal : signals) {
    SCOPED_TRACE(signal.name);
    const std::vector<std::uint8_t> octets = spandsp_g722::encode(signal.pcm);
    ASSERT_EQ(octets.size(), signal.pcm.size() / 2);
    SpandspDecoder reference;
    G722AdpcmDecoder decoder;
    float peak = 0.0F;
    std::size_t clipped = 0;
    for (std::size_t start = 0; start < octets.size(); start += kOctetsPer20ms) {
      const auto packet = std::span(octets).subspan(start, std::min(kOctetsPer20ms, octets.size() - start));
      const std::vector<float> ours = decode_all(decoder, packet);
      ASSERT_TRUE(same_samples(ours, reference.decode(packet), &clipped)) << "packet at octet " << start;
      for (const float sample : ours) peak = std::max(peak, std::abs(sample));
    }
    if (signal.name.starts_with("full-scale")) {
      EXPECT_GT(peak, 30'000.0F);  // it did reach the rails
    }
    // Where spandsp's output would click (a wrapped overload), ours is at the rail; quiet signals
    // never get there. A decoder that wrapped as spandsp does would count none.
    if (signal.name.starts_with("full-scale") || signal.name.starts_with("clipped")) {
      EXPECT_GT(clipped, 0U);
    } else {
      EXPECT_EQ(clipped, 0U);
    }
  }
}

TEST(G722AdpcmDecoder, ResetGivesWhatAFreshDecoderGives) {
  std::mt19937 random(3);
  std::vector<std::uint8_t> before(4'000);
  std::vector<std::uint8_t> after(4'000);
  for (std::uint8_t& octet : before) octet = static_cast<std::uint8_t>(random());
  for (std::uint8_t& octet : after) octet = static_cast<std::uint8_t>(random());
  G722AdpcmDecoder used;
  decode_all(used, before);
  used.reset();
  G722AdpcmDecoder fresh;
  const std::vector<float> expected = decode_all(fresh, after);
  EXPECT_TRUE(same_samples(decode_all(used, after), expected));
  SpandspDecoder reference;
  EXPECT_TRUE(same_samples(expected, reference.decode(after)));
}

TEST(G722AdpcmDecoder, AShortOutputGetsThePrefixAndTheStateStillAdvancesOverTheWholePayload) {
  const std::vector<std::uint8_t> octets = spandsp_g722::encode(clipped_speech_bursts());
  SpandspDecoder reference;
  G722AdpcmDecoder decoder;
  // Room for none, one, an odd number, all but one of the samples, then all of them, in turn.
  const std::vector<std::size_t> rooms = {0, 1, 37, 2 * kOctetsPer20ms - 1, 2 * kOctetsPer20ms};
  std::vector<float> out(2 * kOctetsPer20ms);
  for (std::size_t start = 0, packet = 0; start + kOctetsPer20ms <= octets.size(); start += kOctetsPer20ms, ++packet) {
    const auto payload = std::span(octets).subspan(start, kOctetsPer20ms);
    const std::vector<float> expected = reference.decode(payload);
    const std::size_t room = rooms[packet % rooms.size()];
    const std::size_t written = decoder.decode(payload, std::span(out).first(room));
    ASSERT_EQ(written, room);
    ASSERT_TRUE(same_samples(std::span(out).first(written), std::span(expected).first(room)))
        << "packet " << packet << ", room for " << room;
  }
}

}  // namespace g722_adpcm_decoder_test
}  // namespace chorus::mixer
