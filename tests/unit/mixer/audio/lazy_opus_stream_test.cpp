// An Opus member whose packets carry the sender's RFC 6464 level: its frames are decoded only when
// the mixer mixes them (ParticipantDecoder::render, LazyOpusStream), and what is mixed is what a
// decoder that decoded every packet gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/lazy_opus_stream.hpp"
#include "mixer/audio/participant_decoder.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/talker_detector.hpp"
#include "tests/unit/mixer/audio/opus_test_encoder.hpp"

namespace chorus::mixer {
namespace lazy_opus_stream_test {

constexpr std::uint8_t kOpusPayloadType = 111;
constexpr std::uint8_t kToneLevel = 15;   // kOpusToneAmplitude's -12 dBFS, as an RMS level
constexpr std::uint8_t kQuietLevel = 64;  // kQuietAmplitude's, under the talker threshold (45)
constexpr double kQuietHz = 250.0;        // a room's hum: periodic, the hardest case for the state
constexpr double kQuietAmplitude = 30.0;  // -61 dBFS
constexpr double kSilentHz = 0.0;         // a 0 Hz "tone" is digital silence

std::vector<std::uint8_t> rtp_packet(int index, std::span<const std::uint8_t> payload,
                                     std::uint32_t samples_per_packet = kFrameSamples) {
  std::vector<std::uint8_t> packet(12 + payload.size());
  media::RtpHeaderFields fields;
  fields.payload_type = kOpusPayloadType;
  fields.sequence_number = static_cast<std::uint16_t>(index);
  fields.timestamp = 1000 + samples_per_packet * static_cast<unsigned>(index);
  fields.ssrc = 0x1234'5678;
  EXPECT_EQ(media::write_rtp_header(packet, fields), 12u);
  std::copy(payload.begin(), payload.end(), packet.begin() + 12);
  return packet;
}

int max_difference(std::span<const Sample> a, std::span<const Sample> b) {
  int most = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) most = std::max(most, std::abs(a[i] - b[i]));
  return most;
}

// Talkspurts (a tone, marked loud) between stretches of silence (marked quiet), a lost packet in
// each kind. One decoder gets no levels and decodes everything; the other gets the levels and is
// rendered, as the mixer would, only for loud frames.
struct Scenario {
  std::vector<double> tone_hz;  // per packet; kSilentHz: quiet
  std::vector<int> lost;        // packets never delivered
  std::size_t packet_samples = kFrameSamples;
};

bool quiet(const Scenario& scenario, int packet) {
  const double hz = scenario.tone_hz[static_cast<std::size_t>(packet)];
  return hz == kQuietHz || hz == kSilentHz;
}

struct Outcome {
  int frames = 0;
  int rendered = 0;
  int exact = 0;
  int worst = 0;               // the largest sample difference of a rendered frame, in 16-bit steps
  double signal_energy = 0.0;  // of the continuous decode's rendered frames
  double error_energy = 0.0;   // of the differences
  DecoderCounters counters;

  [[nodiscard]] double snr_db() const { return 10.0 * std::log10(signal_energy / std::max(error_energy, 1e-9)); }
};

Outcome play(const Scenario& scenario) {
  const auto payloads = testing::encode_opus_tones(
      static_cast<int>(scenario.tone_hz.size()), [&](int i) { return scenario.tone_hz[static_cast<std::size_t>(i)]; },
      testing::OpusToneSettings{
          .bitrate = 24'000,
          .inband_fec = true,
          .amplitude_of = [&](int i) { return quiet(scenario, i) ? kQuietAmplitude : testing::kOpusToneAmplitude; },
          .packet_samples = scenario.packet_samples});
  ParticipantDecoder every_packet(AudioCodec::kOpus);
  auto published = std::make_shared<MixerCounters>();
  ParticipantDecoder lazy(AudioCodec::kOpus, published);
  Outcome outcome;
  AudioFrame reference{};
  // Each packet comes when a sender would send it (its start before the tick's end), then enough
  // ticks to play what is queued.
  const auto packets = static_cast<int>(payloads.size());
  const int ticks = static_cast<int>(payloads.size() * scenario.packet_samples / kFrameSamples) + 8;
  int next = 0;
  for (int i = 0; i < ticks; ++i) {
    for (; next < packets &&
           static_cast<std::size_t>(next) * scenario.packet_samples < static_cast<std::size_t>(i + 1) * kFrameSamples;
         ++next) {
      if (std::ranges::find(scenario.lost, next) != scenario.lost.end()) continue;
      auto bytes = rtp_packet(next, payloads[static_cast<std::size_t>(next)],
                              static_cast<std::uint32_t>(scenario.packet_samples));
      const auto packet = media::RtpPacket::parse(bytes);
      every_packet.push_rtp(*packet);
      lazy.push_rtp(*packet, quiet(scenario, next) ? kQuietLevel : kToneLevel);
    }
    const bool pulled = every_packet.pull_frame(reference);
    EXPECT_EQ(lazy.pull(), pulled) << "tick " << i;
    if (!pulled) continue;
    ++outcome.frames;
    if (lazy.level_dbov() == kQuietLevel) continue;  // the mixer would not mix it
    const FrameView frame = lazy.render();
    ++outcome.rendered;
    const int difference = max_difference(frame, reference);
    for (std::size_t k = 0; k < kFrameSamples; ++k) {
      const double error = frame[k] - reference[k];
      outcome.signal_energy += static_cast<double>(reference[k]) * reference[k];
      outcome.error_energy += error * error;
    }
    outcome.worst = std::max(outcome.worst, difference);
    if (difference == 0) ++outcome.exact;
  }
  outcome.counters = lazy.counters();
  EXPECT_EQ(published->input_packets_never_decoded.load(), outcome.counters.opus.never_decoded) << "on /metrics";
  return outcome;
}

std::vector<double> stretches(std::initializer_list<std::pair<int, double>> parts) {
  std::vector<double> hz;
  for (const auto& [count, tone] : parts) hz.insert(hz.end(), static_cast<std::size_t>(count), tone);
  return hz;
}

// Skipped stretches no longer than the warm-up are decoded in full before the next talkspurt:
// every rendered frame is the continuous decode's, sample for sample, the FEC-rebuilt loss too.
TEST(LazyOpusStream, AfterAShortSkipTheMixedFramesAreExactlyTheContinuousDecode) {
  const int gap = static_cast<int>(LazyOpusStream::kWarmupSteps);
  const Outcome outcome = play({.tone_hz = stretches({{20, 400.0}, {gap, kQuietHz}, {20, 700.0}}), .lost = {30, 45}});
  EXPECT_EQ(outcome.rendered, 40) << "40 loud packets, one lost: its level is its neighbours'";
  EXPECT_EQ(outcome.exact, outcome.rendered);
  EXPECT_EQ(outcome.counters.opus.decoder_resets, 0u);
  EXPECT_EQ(outcome.counters.opus.never_decoded, 0u);
  EXPECT_GE(outcome.counters.opus.warmup_decodes, static_cast<std::uint64_t>(gap - 1));
}

// A long quiet stretch is never decoded but for its last kWarmupSteps packets, from a reset
// decoder. The talkspurts after it are not bit-identical to the continuous decode (SILK's pitch
// predictor carries the difference through a steady tone), but within 45 dB of it: far under the
// codec's own coding noise. Without the reset, the warm-up from the stale state gave 24 dB and a
// click of 8,643 steps. After digital silence the warm-up is exact.
TEST(LazyOpusStream, AfterALongSkipOnlyTheWarmUpIsDecodedAndTheTalkspurtSoundsTheSame) {
  for (const double background : {kQuietHz, kSilentHz}) {
    SCOPED_TRACE(background);
    const Outcome outcome =
        play({.tone_hz = stretches({{20, 400.0}, {200, background}, {20, 700.0}, {100, background}, {20, 1000.0}}),
              .lost = {100, 150}});
    EXPECT_EQ(outcome.frames, 360);
    EXPECT_EQ(outcome.rendered, 60);
    EXPECT_GE(outcome.exact, 20) << "the first talkspurt, before any skip";
    EXPECT_GE(outcome.snr_db(), 45.0);
    if (background == kSilentHz) EXPECT_EQ(outcome.exact, outcome.rendered);
    EXPECT_EQ(outcome.counters.opus.decoder_resets, 2u);
    EXPECT_EQ(outcome.counters.opus.warmup_decodes, 2 * LazyOpusStream::kWarmupSteps);
    EXPECT_EQ(outcome.counters.opus.never_decoded, 300 - 2 * LazyOpusStream::kWarmupSteps);
    EXPECT_LE(outcome.counters.packets_decoded, 60 + 2 * LazyOpusStream::kWarmupSteps)
        << "of 360 packets, the talkspurts and the warm-ups";
  }
}

// Without levels every frame is decoded when it is pulled, as before; with a level on some
// packets only, a frame is left undecoded only when every packet it lies on carries one.
TEST(LazyOpusStream, FramesWithoutASenderLevelAreDecodedWhenPulled) {
  const auto payloads = testing::encode_opus_tones(40, [](int) { return kSilentHz; });
  ParticipantDecoder decoder(AudioCodec::kOpus);
  int pulled = 0;
  for (int i = 0; i < 40; ++i) {
    auto bytes = rtp_packet(i, payloads[static_cast<std::size_t>(i)]);
    decoder.push_rtp(*media::RtpPacket::parse(bytes), i % 2 == 0 ? kQuietLevel : kNoSenderLevel);
    if (decoder.pull()) ++pulled;
  }
  EXPECT_GE(pulled, 37);
  // Pulled frames alternate: a marked one (left, then let go or decoded for the next one's
  // state) and an unmarked one, decoded: nothing is lost for good since no skip is longer than one.
  EXPECT_EQ(decoder.counters().opus.never_decoded, 0u);
  EXPECT_GE(decoder.counters().packets_decoded, static_cast<std::uint64_t>(pulled) - 1);
}

// The stream's own bounds: a packet libopus would refuse is refused when it is added, and what a
// packet adds past the capacity is counted, not kept.
TEST(LazyOpusStream, RefusesBadFramingAndKeepsItsCapacity) {
  LazyOpusStream stream(2 * kFrameSamples);
  EXPECT_FALSE(stream.add_packet(std::vector<std::uint8_t>{0x03, 0x00}, kQuietLevel));  // code 3, no frames
  EXPECT_FALSE(stream.add_packet({}, kQuietLevel));
  const auto payloads = testing::encode_opus_tones(3, [](int) { return 400.0; });
  for (const auto& payload : payloads) EXPECT_TRUE(stream.add_packet(payload, kToneLevel));
  EXPECT_EQ(stream.size(), 2 * kFrameSamples);
  EXPECT_EQ(stream.counters().samples_dropped, kFrameSamples);
  EXPECT_EQ(stream.counters().packets_refused, 2u);
  EXPECT_EQ(stream.sender_level_ahead(kFrameSamples), kToneLevel);
  EXPECT_EQ(stream.counters().packets_decoded, 0u) << "nothing decoded until wanted";
  EXPECT_EQ(stream.front(kFrameSamples).size(), kFrameSamples);
  EXPECT_EQ(stream.counters().packets_decoded, 1u);
  EXPECT_EQ(stream.sender_level_ahead(kFrameSamples), kNoSenderLevel) << "decoded samples are measured, not marked";
}

// Packets of 10, 40 and 60 ms: a frame lies on two packets, or on part of one, and what a rendered
// packet leaves over is measured, not marked. The mixed frames are still the continuous decode's.
TEST(LazyOpusStream, PacketsShorterAndLongerThanAFrameGiveTheSameMixedFrames) {
  for (const std::size_t packet_samples : {kFrameSamples / 2, 2 * kFrameSamples, 3 * kFrameSamples}) {
    SCOPED_TRACE(packet_samples);
    const int per_second = static_cast<int>(kSampleRateHz / packet_samples);
    const Outcome outcome = play({.tone_hz = stretches({{per_second / 2, 400.0},
                                                        {4, kQuietHz},
                                                        {per_second / 2, 700.0},
                                                        {2 * per_second, kQuietHz},
                                                        {per_second / 2, 1000.0}}),
                                  .lost = {per_second / 2 + 2 * per_second},
                                  .packet_samples = packet_samples});
    EXPECT_GE(outcome.rendered, 70) << "1.5 s of tone";
    EXPECT_GE(outcome.snr_db(), 45.0);
    EXPECT_GE(outcome.exact, outcome.rendered / 3) << "at least the talkspurts before the long skip";
    EXPECT_EQ(outcome.counters.opus.decoder_resets, 1u) << "the long skip's";
    EXPECT_GT(outcome.counters.opus.never_decoded, 0u);
  }
}

// The level is the caller's word. A sender that marks its tone quiet is only muting itself: those
// frames are never decoded. One that marks its silence loud costs what every Opus member cost
// before (a decode a frame) and gets back its own silence: nothing beyond that is bought by lying.
TEST(LazyOpusStream, ALyingSenderLevelCostsNoMoreThanDecodingEveryFrame) {
  const auto tone = testing::encode_opus_tones(100, [](int) { return 400.0; });
  const auto silence = testing::encode_opus_tones(100, [](int) { return kSilentHz; });
  ParticipantDecoder hides_its_tone(AudioCodec::kOpus);
  ParticipantDecoder shouts_silence(AudioCodec::kOpus);
  int loud_frames = 0;
  int quiet_frames = 0;
  for (int i = 0; i < 100; ++i) {
    auto tone_bytes = rtp_packet(i, tone[static_cast<std::size_t>(i)]);
    auto silence_bytes = rtp_packet(i, silence[static_cast<std::size_t>(i)]);
    hides_its_tone.push_rtp(*media::RtpPacket::parse(tone_bytes), kQuietLevel);
    shouts_silence.push_rtp(*media::RtpPacket::parse(silence_bytes), 0);  // 0 dBov: as loud as can be
    hides_its_tone.pull();                                                // never mixed: the mixer sees a quiet member
    if (!shouts_silence.pull()) continue;
    ++loud_frames;
    EXPECT_EQ(shouts_silence.level_dbov(), 0);
    const FrameView frame = shouts_silence.render();
    if (frame_level_dbov(frame) >= 90) ++quiet_frames;  // libopus's silence: a few steps of noise at most
  }
  EXPECT_EQ(hides_its_tone.counters().packets_decoded, 0u) << "nothing decoded: its frames were never wanted";
  EXPECT_GE(hides_its_tone.counters().opus.never_decoded, 100u - LazyOpusStream::kWarmupSteps - 3);
  EXPECT_GE(loud_frames, 97);
  EXPECT_EQ(shouts_silence.counters().packets_decoded, static_cast<std::uint64_t>(loud_frames));
  EXPECT_EQ(quiet_frames, loud_frames) << "what is mixed is its real silence";
}

}  // namespace lazy_opus_stream_test
}  // namespace chorus::mixer
