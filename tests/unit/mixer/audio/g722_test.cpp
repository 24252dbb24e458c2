// G.722 on the worker (mixer/audio/g722.*): spandsp's decoder and the 16 → 48 kHz interpolator
// against GStreamer's avdec_g722 ! audioresample (the chain it replaced) on the same stream: the
// tones at the same level, the images at least as far down; a loss rings out, then silence. And the
// encoder's octets through avdec_g722: at level, nothing folded back from above 8 kHz.
#include "mixer/audio/g722.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "tests/unit/mixer/audio/codec_test_support.hpp"
#include "tests/unit/mixer/audio/spandsp_g722.hpp"

namespace chorus::mixer {
namespace g722_test {

using testing::amplitude_at;
using testing::as_samples;
using testing::decibels;
using testing::run_pipeline;

constexpr std::size_t kOctetsPer20ms = 160;

// One second of a 1 kHz and a 5 kHz tone at 16 kHz, G.722-encoded by spandsp (the ITU-T reference's
// algorithm, as baresip sends it).
std::vector<std::uint8_t> encoded_tones() {
  std::vector<std::int16_t> pcm(16'000);
  for (std::size_t n = 0; n < pcm.size(); ++n) {
    const double t = static_cast<double>(n) / 16e3;
    pcm[n] = static_cast<std::int16_t>(8'000.0 * std::sin(2.0 * std::numbers::pi * 1'000.0 * t) +
                                       4'000.0 * std::sin(2.0 * std::numbers::pi * 5'000.0 * t));
  }
  auto octets = spandsp_g722::encode(pcm);
  EXPECT_EQ(octets.size(), pcm.size() / 2);
  return octets;
}

TEST(G722Decoder, MatchesAvdecG722AndAudioresampleOnTheSameStream) {
  const auto octets = encoded_tones();
  const auto gstreamer = as_samples(
      run_pipeline("appsrc name=in format=time caps=audio/G722,rate=16000,channels=1 ! avdec_g722 ! audioresample"
                   " ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=false",
                   octets));
  G722Decoder decoder;
  std::vector<Sample> ours;
  for (std::size_t start = 0; start < octets.size(); start += kOctetsPer20ms)
    decoder.decode(std::span<const std::uint8_t>(octets).subspan(start, kOctetsPer20ms), ours);
  ASSERT_EQ(ours.size(), 48'000U);
  ASSERT_GE(gstreamer.size(), 47'000U);

  for (const double hz : {1'000.0, 5'000.0})
    EXPECT_NEAR(decibels(amplitude_at(ours, hz) / amplitude_at(gstreamer, hz)), 0.0, 0.1) << hz << " Hz";
  for (const double image : {11'000.0, 15'000.0, 17'000.0, 21'000.0}) {  // 16 kHz ± 1 and ± 5 kHz
    const double ours_db = decibels(amplitude_at(ours, image) / amplitude_at(ours, 1'000.0));
    const double theirs_db = decibels(amplitude_at(gstreamer, image) / amplitude_at(gstreamer, 1'000.0));
    EXPECT_LE(ours_db, theirs_db + 1.0) << "image at " << image << " Hz: ours " << ours_db << " dB, audioresample "
                                        << theirs_db << " dB";
  }
}

TEST(G722Decoder, GivesSixSamplesAt48kHzPerOctetWhateverThePacketSize) {
  const auto octets = encoded_tones();
  G722Decoder decoder;
  std::vector<Sample> out;
  decoder.decode(std::span<const std::uint8_t>(octets).first(1), out);
  EXPECT_EQ(out.size(), 6U);
  decoder.decode({}, out);
  EXPECT_EQ(out.size(), 6U);
  decoder.decode(std::span<const std::uint8_t>(octets).subspan(1, 1'499), out);  // the largest datagram's payload
  EXPECT_EQ(out.size(), 6U * 1'500);
}

TEST(G722Decoder, RingsOutThroughALossThenFallsSilent) {
  const auto octets = encoded_tones();
  G722Decoder decoder;
  std::vector<Sample> out;
  decoder.decode(std::span<const std::uint8_t>(octets).first(kOctetsPer20ms * 5), out);
  const std::size_t heard = out.size();
  decoder.decode_silence(2 * kOctetsPer20ms, out);  // 20 ms at 16 kHz
  ASSERT_EQ(out.size(), heard + 960);
  EXPECT_NE(out[heard], 0);        // the filter's tail crosses into the concealed packet
  EXPECT_EQ(out[heard + 200], 0);  // and has rung out well within it (48 taps at 16 kHz: 3 ms)
  EXPECT_EQ(out.back(), 0);
}

TEST(G722Encoder, ItsOctetsDecodeThroughAvdecG722AtTheirLevelWithoutAlias) {
  // 1 kHz at −12 dBFS and 10 kHz (above G.722's 8 kHz Nyquist: it must not come back as 6 kHz),
  // one second, decoded by libavcodec's G.722 decoder: an implementation independent of ours.
  G722Encoder encoder;
  std::vector<Sample> frame(kFrameSamples);
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> octets;
  for (std::size_t f = 0; f < 50; ++f) {
    testing::two_tone_frame(frame, f, 1'000.0, 10'000.0, 8'000.0);
    encoder.encode(frame, payload);
    ASSERT_EQ(payload.size(), kOctetsPer20ms);
    octets.insert(octets.end(), payload.begin(), payload.end());
  }
  const auto decoded = as_samples(
      run_pipeline("appsrc name=in format=time caps=audio/G722,rate=16000,channels=1 ! avdec_g722 ! audioresample"
                   " ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=false",
                   octets));
  ASSERT_GE(decoded.size(), 47'000U);
  EXPECT_NEAR(decibels(amplitude_at(decoded, 1'000.0) / 8'000.0), 0.0, 0.3);
  EXPECT_LT(decibels(amplitude_at(decoded, 6'000.0) / 8'000.0), -40.0);
}

}  // namespace g722_test
}  // namespace chorus::mixer
