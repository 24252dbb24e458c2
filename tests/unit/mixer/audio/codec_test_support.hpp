// For the decoder tests (g711_test, g722_test, resampler_test): a GStreamer pipeline run over a
// buffer as the reference to compare with, and the spectral measures the comparisons use.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"

namespace chorus::mixer::testing {

// Runs `description` ("appsrc name=in … ! appsink name=out") over `input` and returns every byte
// the appsink pulled until EOS.
inline std::vector<std::uint8_t> run_pipeline(const std::string& description, const std::vector<std::uint8_t>& input) {
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

inline std::vector<Sample> as_samples(const std::vector<std::uint8_t>& bytes) {
  std::vector<Sample> samples(bytes.size() / sizeof(Sample));
  std::memcpy(samples.data(), bytes.data(), samples.size() * sizeof(Sample));
  return samples;
}

inline std::vector<std::uint8_t> as_bytes(const std::vector<Sample>& samples) {
  std::vector<std::uint8_t> bytes(samples.size() * sizeof(Sample));
  std::memcpy(bytes.data(), samples.data(), bytes.size());
  return bytes;
}

// `samples` of a sine of `hz` at `amplitude`, sampled at `rate_hz`.
inline std::vector<float> tone(double hz, double amplitude, double rate_hz, std::size_t samples) {
  std::vector<float> out(samples);
  for (std::size_t n = 0; n < samples; ++n)
    out[n] = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(n) / rate_hz));
  return out;
}

// Frame number `index` of two sines at 48 kHz, `amplitude` each: a tone in the band and one a
// resampler must keep from folding back into it.
inline void two_tone_frame(std::vector<Sample>& frame, std::size_t index, double hz, double other_hz,
                           double amplitude) {
  frame.resize(kFrameSamples);
  for (std::size_t n = 0; n < kFrameSamples; ++n) {
    const double t = static_cast<double>(index * kFrameSamples + n) / kSampleRateHz;
    frame[n] = static_cast<Sample>(amplitude * std::sin(2.0 * std::numbers::pi * hz * t) +
                                   amplitude * std::sin(2.0 * std::numbers::pi * other_hz * t));
  }
}

// The amplitude of `hz` in the steady part of a 48 kHz signal (the first and last 50 ms skipped:
// the filter's start and end), from one Goertzel bin over a whole number of periods' worth.
inline double amplitude_at(const std::vector<Sample>& signal, double hz) {
  constexpr std::size_t kSkip = 2'400;
  const std::span<const Sample> steady = std::span<const Sample>(signal).subspan(kSkip, signal.size() - 2 * kSkip);
  return 2.0 * std::sqrt(goertzel_power(steady, hz, kSampleRateHz)) / static_cast<double>(steady.size());
}

inline double decibels(double ratio) {
  return 20.0 * std::log10(ratio);
}

}  // namespace chorus::mixer::testing
