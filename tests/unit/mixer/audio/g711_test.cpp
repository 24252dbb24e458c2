// G.711 on the worker (mixer/audio/g711.*): the expansion against GStreamer's own mulawdec/alawdec,
// octet for octet, and the interpolator against audioresample on the same μ-law stream: the
// passband as flat, the images of the 8 kHz stream at least as far down.
#include "mixer/audio/g711.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"

namespace chorus::mixer {
namespace {

using testing::goertzel_power;

// Runs `description` ("appsrc name=in … ! appsink name=out") over `input` and returns every byte
// the appsink pulled until EOS.
std::vector<std::uint8_t> run_pipeline(const std::string& description, const std::vector<std::uint8_t>& input) {
  gst::ensure_gst_initialized();
  GError* error = nullptr;
  auto pipeline = gst::gst_adopt_floating(gst_parse_launch(description.c_str(), &error));
  if (error != nullptr) {
    ADD_FAILURE() << error->message;
    g_error_free(error);
    return {};
  }
  auto source = gst::gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "in"));
  auto sink = gst::gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  gst_app_src_push_buffer(GST_APP_SRC(source.get()), gst_buffer_new_memdup(input.data(), input.size()));
  gst_app_src_end_of_stream(GST_APP_SRC(source.get()));
  std::vector<std::uint8_t> output;
  // Bounded: a pipeline that stalls gives up after 10 s per pull rather than hanging the test.
  while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND)) {
    GstMapInfo map;
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      output.insert(output.end(), map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return output;
}

std::vector<Sample> as_samples(const std::vector<std::uint8_t>& bytes) {
  std::vector<Sample> samples(bytes.size() / sizeof(Sample));
  std::memcpy(samples.data(), bytes.data(), samples.size() * sizeof(Sample));
  return samples;
}

std::vector<std::uint8_t> as_bytes(const std::vector<Sample>& samples) {
  std::vector<std::uint8_t> bytes(samples.size() * sizeof(Sample));
  std::memcpy(bytes.data(), samples.data(), bytes.size());
  return bytes;
}

std::vector<float> tone_8k(double hz, double amplitude, std::size_t samples) {
  std::vector<float> tone(samples);
  for (std::size_t n = 0; n < samples; ++n)
    tone[n] = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(n) / 8000.0));
  return tone;
}

// The amplitude of `hz` in the steady part of a 48 kHz signal (the first and last 50 ms skipped:
// the filter's start and end), from one Goertzel bin over a whole number of periods' worth.
double amplitude_at(const std::vector<Sample>& signal, double hz) {
  constexpr std::size_t kSkip = 2'400;
  const std::span<const Sample> steady = std::span<const Sample>(signal).subspan(kSkip, signal.size() - 2 * kSkip);
  return 2.0 * std::sqrt(goertzel_power(steady, hz, kSampleRateHz)) / static_cast<double>(steady.size());
}

double decibels(double ratio) {
  return 20.0 * std::log10(ratio);
}

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

TEST(Upsampler8kTo48k, KeepsTheVoiceBandFlatWithin0Point1Db) {
  for (const double hz : {300.0, 1'000.0, 2'000.0, 3'000.0}) {
    Upsampler8kTo48k upsampler;
    std::vector<Sample> out;
    upsampler.process(tone_8k(hz, 10'000.0, 3'200), out);
    ASSERT_EQ(out.size(), 6U * 3'200);
    EXPECT_NEAR(decibels(amplitude_at(out, hz) / 10'000.0), 0.0, 0.1) << hz << " Hz";
  }
}

TEST(Upsampler8kTo48k, PutsTheImagesOfThe8kHzStream80DbDown) {
  for (const double hz : {1'000.0, 3'000.0}) {
    Upsampler8kTo48k upsampler;
    std::vector<Sample> out;
    upsampler.process(tone_8k(hz, 20'000.0, 3'200), out);
    const double wanted = amplitude_at(out, hz);
    // Zero-stuffing by 6 puts copies of the tone at k · 8 kHz ± f up to 24 kHz.
    for (const double image : {8'000.0 - hz, 8'000.0 + hz, 16'000.0 - hz, 16'000.0 + hz, 24'000.0 - hz})
      EXPECT_LT(decibels(amplitude_at(out, image) / wanted), -80.0) << hz << " Hz, image at " << image;
  }
}

TEST(Upsampler8kTo48k, TurnsAConstantIntoTheSameConstantAtEveryPhase) {
  Upsampler8kTo48k upsampler;
  std::vector<Sample> out;
  upsampler.process(std::vector<float>(400, 1'000.0F), out);
  for (std::size_t n = 600; n < out.size(); ++n) ASSERT_EQ(out[n], 1'000) << "sample " << n;
}

TEST(Upsampler8kTo48k, GivesTheSameOutputInPiecesAsInOneGo) {
  const auto tone = tone_8k(700.0, 8'000.0, 1'000);
  Upsampler8kTo48k whole;
  std::vector<Sample> at_once;
  whole.process(tone, at_once);  // longer than kMaxInput: taken in parts inside
  Upsampler8kTo48k pieces;
  std::vector<Sample> in_pieces;
  for (std::size_t start = 0; start < tone.size(); start += 160)
    pieces.process(std::span<const float>(tone).subspan(start, std::min<std::size_t>(160, tone.size() - start)),
                   in_pieces);
  EXPECT_EQ(at_once, in_pieces);
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

}  // namespace
}  // namespace chorus::mixer
