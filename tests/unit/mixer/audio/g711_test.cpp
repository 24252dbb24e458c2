// G.711 on the worker (mixer/audio/g711.*): the expansion against GStreamer's own mulawdec/alawdec,
// octet for octet, and the decoder against mulawdec ! audioresample on the same μ-law stream: the
// passband as flat, the images of the 8 kHz stream at least as far down. The interpolator's own
// figures are resampler_test.cpp's.
#include "mixer/audio/g711.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "tests/unit/mixer/audio/codec_test_support.hpp"

namespace chorus::mixer {
namespace g711_test {

using testing::amplitude_at;
using testing::as_bytes;
using testing::as_samples;
using testing::decibels;
using testing::run_pipeline;

// Every octet through GStreamer's decoder `element` (on `caps`) and through `expand`: equal.
void expect_expansion_as_gstreamers(const std::string& caps, const std::string& element,
                                    Sample (*expand)(std::uint8_t)) {
  std::vector<std::uint8_t> octets(256);
  for (std::size_t i = 0; i < octets.size(); ++i) octets[i] = static_cast<std::uint8_t>(i);
  const auto reference = as_samples(run_pipeline(
      "appsrc name=in format=time caps=" + caps + " ! " + element + " ! appsink name=out sync=false", octets));
  ASSERT_EQ(reference.size(), 256U);
  for (std::size_t i = 0; i < octets.size(); ++i) EXPECT_EQ(expand(octets[i]), reference[i]) << "octet " << i;
}

TEST(G711, ExpandsEveryMuLawOctetAsGStreamersMulawdecDoes) {
  expect_expansion_as_gstreamers("audio/x-mulaw,rate=8000,channels=1", "mulawdec", pcmu_to_linear);
  EXPECT_EQ(pcmu_to_linear(0xFF), 0);
  EXPECT_EQ(pcmu_to_linear(0x80), 32124);
  EXPECT_EQ(pcmu_to_linear(0x00), -32124);
}

TEST(G711, ExpandsEveryALawOctetAsGStreamersAlawdecDoes) {
  expect_expansion_as_gstreamers("audio/x-alaw,rate=8000,channels=1", "alawdec", pcma_to_linear);
  EXPECT_EQ(pcma_to_linear(0xD5), 8);
  EXPECT_EQ(pcma_to_linear(0xAA), 32256);
  EXPECT_EQ(pcma_to_linear(0x2A), -32256);
}

// Every 16-bit value through GStreamer's encoder `element` and through `compress`: equal.
void expect_compression_as_gstreamers(const std::string& element, std::uint8_t (*compress)(Sample)) {
  std::vector<Sample> every(65'536);
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = static_cast<Sample>(static_cast<int>(i) - 32'768);
  const auto reference = run_pipeline(
      "appsrc name=in format=time caps=audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1 ! " + element +
          " ! appsink name=out sync=false",
      as_bytes(every));
  ASSERT_EQ(reference.size(), every.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < every.size(); ++i) {
    if (compress(every[i]) == reference[i]) continue;
    if (++differing <= 5)
      ADD_FAILURE() << element << ": " << every[i] << " gives " << int{compress(every[i])} << ", GStreamer "
                    << int{reference[i]};
  }
  EXPECT_EQ(differing, 0U);
}

TEST(G711, CompressesEverySampleAsGStreamersMulawencDoes) {
  expect_compression_as_gstreamers("mulawenc", linear_to_pcmu);
}

TEST(G711, CompressesEverySampleAsGStreamersAlawencDoes) {
  expect_compression_as_gstreamers("alawenc", linear_to_pcma);
}

TEST(G711, EveryOctetSurvivesExpansionAndCompression) {
  for (int octet = 0; octet < 256; ++octet) {
    const auto code = static_cast<std::uint8_t>(octet);
    if (code != 0x7F) EXPECT_EQ(linear_to_pcmu(pcmu_to_linear(code)), code) << octet;  // 0x7F: μ-law's −0
    EXPECT_EQ(linear_to_pcma(pcma_to_linear(code)), code) << octet;
  }
}

TEST(G711Encoder, GivesATonesOctetsThatDecodeToItsLevelAndNoAlias) {
  // 1 kHz at −12 dBFS and 6 kHz (above 4 kHz: it must not come back as 2 kHz), one second.
  G711Encoder encoder(AudioCodec::kPcmu);
  G711Decoder decoder(AudioCodec::kPcmu);
  std::vector<Sample> frame(kFrameSamples);
  std::vector<std::uint8_t> octets;
  std::vector<Sample> decoded;
  for (std::size_t f = 0; f < 50; ++f) {
    testing::two_tone_frame(frame, f, 1'000.0, 6'000.0, 8'000.0);
    encoder.encode(frame, octets);
    ASSERT_EQ(octets.size(), 160U);
    decoder.decode(octets, decoded);
  }
  EXPECT_NEAR(decibels(amplitude_at(decoded, 1'000.0) / 8'000.0), 0.0, 0.2);
  // μ-law's own quantisation noise sits around −40 dB under a −12 dBFS tone; the alias must be lost in it.
  EXPECT_LT(decibels(amplitude_at(decoded, 2'000.0) / 8'000.0), -40.0);
}

TEST(G711Decoder, MatchesMulawdecAndAudioresampleOnTheSameStream) {
  // A 1 kHz and a 3 kHz tone, μ-law encoded by GStreamer's own mulawenc, decoded both ways.
  std::vector<Sample> linear(8'000);
  for (std::size_t n = 0; n < linear.size(); ++n)
    linear[n] =
        static_cast<Sample>(8'000.0 * std::sin(2.0 * std::numbers::pi * 1'000.0 * static_cast<double>(n) / 8e3) +
                            4'000.0 * std::sin(2.0 * std::numbers::pi * 3'000.0 * static_cast<double>(n) / 8e3));
  const auto octets = run_pipeline(
      "appsrc name=in format=time caps=audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1 ! mulawenc"
      " ! appsink name=out sync=false",
      as_bytes(linear));
  ASSERT_EQ(octets.size(), linear.size());
  const auto gstreamer = as_samples(
      run_pipeline("appsrc name=in format=time caps=audio/x-mulaw,rate=8000,channels=1 ! mulawdec ! audioresample"
                   " ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=false",
                   octets));
  G711Decoder decoder(AudioCodec::kPcmu);
  std::vector<Sample> ours;
  for (std::size_t start = 0; start < octets.size(); start += 160)
    decoder.decode(std::span<const std::uint8_t>(octets).subspan(start, 160), ours);
  ASSERT_EQ(ours.size(), 48'000U);
  ASSERT_GE(gstreamer.size(), 47'000U);

  for (const double hz : {1'000.0, 3'000.0})
    EXPECT_NEAR(decibels(amplitude_at(ours, hz) / amplitude_at(gstreamer, hz)), 0.0, 0.1) << hz << " Hz";
  for (const double image : {5'000.0, 7'000.0, 9'000.0, 11'000.0, 13'000.0, 15'000.0}) {
    const double ours_db = decibels(amplitude_at(ours, image) / amplitude_at(ours, 1'000.0));
    const double theirs_db = decibels(amplitude_at(gstreamer, image) / amplitude_at(gstreamer, 1'000.0));
    // μ-law's own quantisation noise floor lies under both; ours is at least as clean.
    EXPECT_LE(ours_db, theirs_db + 1.0) << "image at " << image << " Hz: ours " << ours_db << " dB, audioresample "
                                        << theirs_db << " dB";
  }
}

TEST(G711Decoder, RingsOutThroughALossThenFallsSilent) {
  G711Decoder decoder(AudioCodec::kPcma);
  std::vector<Sample> out;
  decoder.decode(std::vector<std::uint8_t>(160, 0xAA), out);  // full-scale positive: a step
  decoder.decode_silence(160, out);
  ASSERT_EQ(out.size(), 2U * 960);
  EXPECT_GT(out[959], 30'000);   // the step, settled
  EXPECT_NE(out[960], 0);        // the filter's tail crosses into the concealed packet
  EXPECT_EQ(out[960 + 200], 0);  // and has rung out well within it (32 taps at 8 kHz: 4 ms)
  EXPECT_EQ(out.back(), 0);
}

TEST(G711Decoder, RefusesACodecThatIsNotG711) {
  EXPECT_THROW(G711Decoder{AudioCodec::kOpus}, std::invalid_argument);
  EXPECT_THROW(G711Decoder{AudioCodec::kG722}, std::invalid_argument);
}

}  // namespace g711_test
}  // namespace chorus::mixer
