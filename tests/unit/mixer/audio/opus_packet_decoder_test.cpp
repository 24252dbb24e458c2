// Opus on the worker (mixer/audio/opus_packet_decoder.*): packets from libopus's own encoder decode
// to the tone that went in, a stereo stream comes out as one channel, a refused packet leaves the
// stream going, and a lost packet is rebuilt from the next one's in-band FEC rather than guessed.
#include "mixer/audio/opus_packet_decoder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "tests/unit/mixer/audio/opus_test_encoder.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"

namespace chorus::mixer {
namespace opus_packet_decoder_test {

using testing::candidate_frequencies;
using testing::dominant_frequency;
using testing::encode_opus_tones;
using testing::kOpusToneAmplitude;
using testing::OpusToneSettings;

// The decoder's views, gathered the way ParticipantDecoder gathers them into its FIFO.
bool decode_into(OpusPacketDecoder& decoder, std::span<const std::uint8_t> payload, std::vector<Sample>& out) {
  const auto samples = decoder.decode(payload);
  if (samples) out.insert(out.end(), samples->begin(), samples->end());
  return samples.has_value();
}
void conceal_into(OpusPacketDecoder& decoder, std::size_t samples, std::span<const std::uint8_t> next,
                  std::vector<Sample>& out) {
  const auto made = decoder.conceal(samples, next);
  out.insert(out.end(), made.begin(), made.end());
}

double rms(std::span<const Sample> samples) {
  double sum = 0.0;
  for (const Sample s : samples) sum += static_cast<double>(s) * s;
  return samples.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(samples.size()));
}

double hz_dominant(std::span<const Sample> samples) {
  const auto candidates = candidate_frequencies();
  return dominant_frequency(samples, candidates, kSampleRateHz);
}

TEST(OpusPacketDecoder, DecodesATonesFrequencyAndLevel) {
  const auto packets = encode_opus_tones(50, [](int) { return 1000.0; });
  OpusPacketDecoder decoder;
  std::vector<Sample> out;
  for (const auto& packet : packets) ASSERT_TRUE(decode_into(decoder, packet, out));
  ASSERT_EQ(out.size(), 50 * kFrameSamples) << "20 ms a packet, at 48 kHz";
  const std::span<const Sample> settled(out.begin() + 25 * kFrameSamples, out.end());  // past the codec's start
  EXPECT_EQ(hz_dominant(settled), 1000.0);
  const double level_db = 20.0 * std::log10(rms(settled) / (kOpusToneAmplitude / std::numbers::sqrt2));
  EXPECT_NEAR(level_db, 0.0, 1.0) << "the tone's level, within 1 dB";
}

TEST(OpusPacketDecoder, AStereoStreamComesOutAsOneChannel) {
  const auto packets =
      encode_opus_tones(50, [](int) { return 600.0; }, OpusToneSettings{.channels = 2, .bitrate = 64'000});
  OpusPacketDecoder decoder;
  std::vector<Sample> out;
  for (const auto& packet : packets) ASSERT_TRUE(decode_into(decoder, packet, out));
  ASSERT_EQ(out.size(), 50 * kFrameSamples) << "one channel: 960 samples a packet, not 1,920";
  const std::span<const Sample> settled(out.begin() + 25 * kFrameSamples, out.end());
  EXPECT_EQ(hz_dominant(settled), 600.0);
  EXPECT_NEAR(20.0 * std::log10(rms(settled) / (kOpusToneAmplitude / std::numbers::sqrt2)), 0.0, 1.5);
}

TEST(OpusPacketDecoder, ARefusedPacketAddsNothingAndTheStreamGoesOn) {
  const auto packets = encode_opus_tones(3, [](int) { return 1000.0; });
  OpusPacketDecoder decoder;
  std::vector<Sample> out;
  ASSERT_TRUE(decode_into(decoder, packets[0], out));
  // RFC 6716 §3.2.5: a code 3 packet must say how many frames it holds; zero is malformed (R5).
  const std::vector<std::uint8_t> no_frames{0x03, 0x00};
  EXPECT_FALSE(decode_into(decoder, no_frames, out));
  EXPECT_FALSE(decode_into(decoder, {}, out)) << "an empty payload is not a packet";
  EXPECT_EQ(out.size(), kFrameSamples);
  EXPECT_TRUE(decode_into(decoder, packets[1], out));
  EXPECT_EQ(out.size(), 2 * kFrameSamples);
}

TEST(OpusPacketDecoder, ConcealsTheMissingDurationInWholeSteps) {
  const auto packets = encode_opus_tones(2, [](int) { return 1000.0; });
  OpusPacketDecoder decoder;
  std::vector<Sample> out;
  ASSERT_TRUE(decode_into(decoder, packets[0], out));
  out.clear();
  conceal_into(decoder, kFrameSamples, {}, out);
  EXPECT_EQ(out.size(), kFrameSamples);
  out.clear();
  conceal_into(decoder, 1000, {}, out);
  EXPECT_EQ(out.size(), 960u) << "rounded down to 2.5 ms steps";
  out.clear();
  conceal_into(decoder, 100'000, {}, out);
  EXPECT_EQ(out.size(), OpusPacketDecoder::kMaxPacketSamples) << "at most 120 ms at once";
  out.clear();
  conceal_into(decoder, 100, {}, out);
  EXPECT_TRUE(out.empty()) << "less than one step: nothing";
  EXPECT_TRUE(decode_into(decoder, packets[1], out));
}

// The tone changes from 400 to 800 Hz with the packet that is lost. Concealment alone can only
// extrapolate what it heard before; the next packet's FEC carries the lost one's audio (800 Hz).
TEST(OpusPacketDecoder, ALostPacketIsRebuiltFromTheNextPacketsFec) {
  constexpr int kLost = 40;
  const auto packets = encode_opus_tones(
      kLost + 5, [](int frame) { return frame < kLost ? 400.0 : 800.0; },
      OpusToneSettings{.bitrate = 24'000, .inband_fec = true});
  OpusPacketDecoder with_fec;
  OpusPacketDecoder without_fec;
  std::vector<Sample> ignored;
  for (int frame = 0; frame < kLost; ++frame) {
    ASSERT_TRUE(decode_into(with_fec, packets[frame], ignored));
    ASSERT_TRUE(decode_into(without_fec, packets[frame], ignored));
  }
  std::vector<Sample> rebuilt;
  conceal_into(with_fec, kFrameSamples, packets[kLost + 1], rebuilt);
  std::vector<Sample> guessed;
  conceal_into(without_fec, kFrameSamples, {}, guessed);
  ASSERT_EQ(rebuilt.size(), kFrameSamples);
  ASSERT_EQ(guessed.size(), kFrameSamples);
  // The second half of the lost 20 ms: past the crossfade from the previous packet.
  const auto half = [](const std::vector<Sample>& v) { return std::span<const Sample>(v).subspan(kFrameSamples / 2); };
  EXPECT_EQ(hz_dominant(half(rebuilt)), 800.0) << "the lost packet's own audio, from the FEC";
  EXPECT_NE(hz_dominant(half(guessed)), 800.0) << "without it, concealment cannot know the new tone";
  EXPECT_GT(rms(half(rebuilt)), kOpusToneAmplitude / std::numbers::sqrt2 / 4) << "FEC at a useful level (within 12 dB)";
  EXPECT_TRUE(decode_into(with_fec, packets[kLost + 1], ignored)) << "the FEC's packet then plays in its turn";
}

}  // namespace opus_packet_decoder_test
}  // namespace chorus::mixer
