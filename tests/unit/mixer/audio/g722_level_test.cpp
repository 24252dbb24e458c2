// G.722 levels against an independent implementation (issue 15, "G.722 level"): spandsp follows
// the ITU-T G.722 reference and takes 16-bit linear PCM at full scale, as do baresip (whose g722
// module is spandsp) and every softphone we interoperate with. A tone Chorus encodes must come out
// of spandsp's decoder at the level it went in, and a tone spandsp encodes must come out of
// Chorus's decoder at the level it went in: within ±0.5 dB, with no sample at full scale for a
// -3 dBFS sine (the 14-bit/16-bit confusion shows up as 6 dB off and a clipped peak).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <span>
#include <vector>

#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/frame_encoder.hpp"
#include "mixer/audio/participant_decoder.hpp"
#include "tests/unit/mixer/audio/spandsp_g722.hpp"

namespace chorus::mixer {
namespace g722_level_test {

constexpr double kToneHz = 1000.0;
constexpr int kFrames = 50;                // one second of 20 ms frames
constexpr std::size_t kG722Rate = 16'000;  // G.722's sample rate (ITU-T G.722 §1.2)
constexpr std::size_t kG722OctetsPer20ms = 160;
constexpr std::uint8_t kG722PayloadType = 9;  // RFC 3551 §6

double amplitude_of(double dbfs) {
  return 32767.0 * std::pow(10.0, dbfs / 20.0);
}

std::vector<std::int16_t> sine(double dbfs, std::size_t rate, std::size_t samples) {
  std::vector<std::int16_t> out(samples);
  const double amplitude = amplitude_of(dbfs);
  for (std::size_t i = 0; i < samples; ++i)
    out[i] = static_cast<std::int16_t>(
        std::lround(amplitude * std::sin(2.0 * std::numbers::pi * kToneHz * static_cast<double>(i) / rate)));
  return out;
}

// The level of a sine in dBFS (its peak, from its RMS), over the steady middle of the signal: the
// codec's and the resampler's start-up transients are skipped.
double sine_level_dbfs(std::span<const std::int16_t> samples) {
  const auto steady = samples.subspan(samples.size() / 4, samples.size() / 2);
  double sum = 0.0;
  for (const std::int16_t s : steady) sum += static_cast<double>(s) * s;
  const double rms = std::sqrt(sum / static_cast<double>(steady.size()));
  return 20.0 * std::log10(rms * std::numbers::sqrt2 / 32767.0);
}

// Samples within 1 dB of full scale: none for a -3 dBFS sine at level (its peak is 23,197), most
// of its crests when a decoder is 6 dB hot and saturates.
std::size_t near_full_scale_samples(std::span<const std::int16_t> samples) {
  const double threshold = amplitude_of(-1.0);
  std::size_t count = 0;
  for (const std::int16_t s : samples) count += std::abs(static_cast<double>(s)) >= threshold ? 1 : 0;
  return count;
}

// Chorus's encoder (48 kHz frames of the mixing domain → G.722) → spandsp's decoder (64 kbit/s,
// unpacked octets, 16 kHz).
std::vector<std::int16_t> chorus_encode_spandsp_decode(double dbfs) {
  FrameEncoder encoder(AudioCodec::kG722);
  const auto pcm = sine(dbfs, kSampleRateHz, kFrameSamples * kFrames);
  std::vector<std::uint8_t> octets;
  for (int i = 0; i < kFrames; ++i) {
    const auto payload =
        encoder.encode(FrameView(pcm).subspan(static_cast<std::size_t>(i) * kFrameSamples, kFrameSamples));
    octets.insert(octets.end(), payload.begin(), payload.end());
  }
  return spandsp_g722::decode(octets);
}

std::vector<std::uint8_t> rtp_packet(std::uint16_t sequence, std::uint32_t timestamp,
                                     std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> packet(12 + payload.size());
  media::RtpHeaderFields fields;
  fields.payload_type = kG722PayloadType;
  fields.sequence_number = sequence;
  fields.timestamp = timestamp;
  fields.ssrc = 0x0722'0722;
  EXPECT_EQ(media::write_rtp_header(packet, fields), 12u);
  std::copy(payload.begin(), payload.end(), packet.begin() + 12);
  return packet;
}

// spandsp's encoder (16 kHz → G.722 octets) → RTP → Chorus's decoder (→ 48 kHz frames), one packet
// a tick as the room drives it.
std::vector<std::int16_t> spandsp_encode_chorus_decode(double dbfs) {
  const auto pcm = sine(dbfs, kG722Rate, kG722Rate * kFrames / 50);
  const std::vector<std::uint8_t> octets = spandsp_g722::encode(pcm);
  EXPECT_EQ(octets.size(), pcm.size() / 2);

  std::vector<std::int16_t> decoded;
  {
    ParticipantDecoder decoder(AudioCodec::kG722);
    AudioFrame frame{};
    std::uint32_t timestamp = 4000;
    for (int i = 0; i < kFrames + 4; ++i) {
      if (i < kFrames) {
        const auto payload = std::span<const std::uint8_t>(octets).subspan(
            static_cast<std::size_t>(i) * kG722OctetsPer20ms, kG722OctetsPer20ms);
        auto bytes = rtp_packet(static_cast<std::uint16_t>(i), timestamp, payload);
        decoder.push_rtp(*media::RtpPacket::parse(bytes));
        timestamp += 160;  // RFC 3551 §4.5.2: G.722's RTP clock is 8 kHz
      }
      if (decoder.pull_frame(frame)) decoded.insert(decoded.end(), frame.begin(), frame.end());
    }
  }
  return decoded;
}

TEST(G722Level, ChorusEncoderIsAtLevelThroughTheReferenceDecoder) {
  for (const double dbfs : {-20.0, -6.0}) {
    const auto decoded = chorus_encode_spandsp_decode(dbfs);
    ASSERT_GE(decoded.size(), kG722Rate / 2);
    const double level = sine_level_dbfs(decoded);
    std::cout << "Chorus encode → spandsp decode: " << dbfs << " dBFS in, " << level << " dBFS out\n";
    EXPECT_NEAR(level, dbfs, 0.5);
  }
}

TEST(G722Level, ChorusDecoderIsAtLevelFromTheReferenceEncoder) {
  for (const double dbfs : {-20.0, -6.0}) {
    const auto decoded = spandsp_encode_chorus_decode(dbfs);
    ASSERT_GE(decoded.size(), kFrameSamples * (kFrames / 2));
    const double level = sine_level_dbfs(decoded);
    std::cout << "spandsp encode → Chorus decode: " << dbfs << " dBFS in, " << level << " dBFS out\n";
    EXPECT_NEAR(level, dbfs, 0.5);
  }
}

TEST(G722Level, MinusThreeDbfsSineIsNotClippedInEitherDirection) {
  const auto out = chorus_encode_spandsp_decode(-3.0);
  const auto in = spandsp_encode_chorus_decode(-3.0);
  ASSERT_FALSE(out.empty());
  ASSERT_FALSE(in.empty());
  EXPECT_EQ(near_full_scale_samples(out), 0u) << "what a softphone hears from Chorus";
  EXPECT_EQ(near_full_scale_samples(in), 0u) << "what Chorus hears from a softphone";
  EXPECT_NEAR(sine_level_dbfs(out), -3.0, 0.5);
  EXPECT_NEAR(sine_level_dbfs(in), -3.0, 0.5);
}

}  // namespace g722_level_test
}  // namespace chorus::mixer
