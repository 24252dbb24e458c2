// libopus's own encoder for the mixer's Opus tests: 20 ms packets of tones, as a VOIP sender makes
// them (with in-band FEC when asked), so a test can check what the decoder makes of them.
#pragma once

#include <gtest/gtest.h>
#include <opus/opus.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <numbers>
#include <vector>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer::testing {

inline constexpr double kOpusToneAmplitude = 8000.0;  // about -12 dBFS

struct OpusToneSettings {
  int channels = 1;
  int bitrate = 32'000;
  bool inband_fec = false;  // with 20% expected loss, wideband: SILK, which carries the LBRR frames
  std::function<double(int frame)> amplitude_of;  // kOpusToneAmplitude when empty
  std::size_t packet_samples = kFrameSamples;     // 20 ms; libopus takes 2.5 to 60 ms
};

// Packets (20 ms unless settings say otherwise) of `hz_of(packet)` tones (each channel the same), from libopus's VOIP
// encoder.
inline std::vector<std::vector<std::uint8_t>> encode_opus_tones(int frames, const auto& hz_of,
                                                                OpusToneSettings settings = {}) {
  struct Destroy {
    void operator()(OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
  };
  int error = OPUS_OK;
  std::unique_ptr<OpusEncoder, Destroy> encoder(
      opus_encoder_create(static_cast<opus_int32>(kSampleRateHz), settings.channels, OPUS_APPLICATION_VOIP, &error));
  EXPECT_EQ(error, OPUS_OK);
  if (!encoder) return {};
  opus_encoder_ctl(encoder.get(), OPUS_SET_BITRATE(settings.bitrate));
  if (settings.inband_fec) {
    opus_encoder_ctl(encoder.get(), OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(encoder.get(), OPUS_SET_PACKET_LOSS_PERC(20));
    opus_encoder_ctl(encoder.get(), OPUS_SET_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND));
  }
  const auto channels = static_cast<std::size_t>(settings.channels);
  std::vector<std::vector<std::uint8_t>> packets;
  const std::size_t length = settings.packet_samples;
  std::vector<opus_int16> pcm(length * channels);
  double phase = 0.0;
  for (int frame = 0; frame < frames; ++frame) {
    const double step = 2.0 * std::numbers::pi * hz_of(frame) / kSampleRateHz;
    const double amplitude = settings.amplitude_of ? settings.amplitude_of(frame) : kOpusToneAmplitude;
    for (std::size_t i = 0; i < length; ++i, phase += step)
      for (std::size_t channel = 0; channel < channels; ++channel)
        pcm[i * channels + channel] = static_cast<opus_int16>(amplitude * std::sin(phase));
    std::vector<std::uint8_t> packet(1500);
    const int bytes = opus_encode(encoder.get(), pcm.data(), static_cast<int>(length), packet.data(),
                                  static_cast<opus_int32>(packet.size()));
    EXPECT_GT(bytes, 0);
    packet.resize(static_cast<std::size_t>(std::max(bytes, 0)));
    packets.push_back(std::move(packet));
  }
  return packets;
}

}  // namespace chorus::mixer::testing
