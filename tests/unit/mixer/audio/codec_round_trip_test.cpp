// The audio MCU's codecs, end to end for every one: FrameEncoder turns 48 kHz
// frames of a tone into payloads, which travel as RTP into a ParticipantDecoder (playout buffer →
// the codec's decoder → 48 kHz mono); what comes out is the same tone.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/frame_encoder.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/g722.hpp"
#include "mixer/audio/participant_decoder.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/talker_detector.hpp"
#include "tests/unit/mixer/audio/opus_test_encoder.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"
#include "tests/unit/mixer/mixer_test_support.hpp"

namespace chorus::mixer {
namespace codec_round_trip_test {

using testing::goertzel_power;
using testing::sine_frame;

constexpr double kToneHz = 440.0;
constexpr double kOtherHz = 1100.0;
constexpr int kFrames = 50;  // one second

std::vector<std::uint8_t> rtp_packet(std::uint8_t payload_type, std::uint16_t sequence, std::uint32_t timestamp,
                                     std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> packet(12 + payload.size());
  media::RtpHeaderFields fields;
  fields.payload_type = payload_type;
  fields.sequence_number = sequence;
  fields.timestamp = timestamp;
  fields.ssrc = 0x1234'5678;
  auto header = media::write_rtp_header(packet, fields);
  EXPECT_EQ(header, 12u);
  std::copy(payload.begin(), payload.end(), packet.begin() + 12);
  return packet;
}

struct RoundTrip {
  std::vector<Sample> decoded;  // every frame the decoder gave back
  DecoderCounters counters;
};

// Sends a second of the tone, one packet a tick. Every `late_every`-th packet (0: none) comes just
// after its tick instead of before it: 20 ms of jitter. The decoder keeps no time of its own (the
// room's tick drives it), so nothing here sleeps.
RoundTrip round_trip(AudioCodec codec, std::uint8_t payload_type, int late_every = 0) {
  FrameEncoder encoder(codec);
  ParticipantDecoder decoder(codec);
  const auto& info = codec_info(codec);
  RoundTrip result;
  AudioFrame out{};
  std::uint32_t timestamp = 1000;
  for (int i = 0; i < kFrames + 10; ++i) {
    std::vector<std::uint8_t> bytes;
    if (i < kFrames) {
      auto frame = sine_frame(kToneHz, 8000.0, static_cast<std::size_t>(i) * kFrameSamples);
      auto payload = encoder.encode(frame);
      if (!payload.empty()) bytes = rtp_packet(payload_type, static_cast<std::uint16_t>(i), timestamp, payload);
      timestamp += rtp_ticks(info, kFrameDuration);
    }
    auto deliver = [&] {
      if (bytes.empty()) return;
      auto packet = media::RtpPacket::parse(bytes);
      EXPECT_TRUE(packet.has_value());
      if (packet) decoder.push_rtp(*packet);
    };
    const bool late = late_every > 0 && i % late_every == late_every - 1;
    if (!late) deliver();
    if (decoder.pull_frame(out)) result.decoded.insert(result.decoded.end(), out.begin(), out.end());
    if (late) deliver();
  }
  result.counters = decoder.counters();
  EXPECT_EQ(result.counters.packets_refused, 0u);
  return result;
}

class CodecRoundTrip : public ::testing::TestWithParam<std::pair<AudioCodec, std::uint8_t>> {};

TEST_P(CodecRoundTrip, ToneSurvivesEncodePlayoutAndDecode) {
  const auto [codec, payload_type] = GetParam();
  auto decoded = round_trip(codec, payload_type).decoded;
  // Priming holds the first packet two ticks; every other frame comes back.
  ASSERT_GE(decoded.size(), kFrameSamples * (kFrames - 4)) << codec_info(codec).encoding_name;
  const std::span<const Sample> middle(decoded.data() + kFrameSamples * 5, kFrameSamples * 15);
  const double tone = goertzel_power(middle, kToneHz, kSampleRateHz);
  const double other = goertzel_power(middle, kOtherHz, kSampleRateHz);
  EXPECT_GT(tone, other * 1000.0) << codec_info(codec).encoding_name;  // 30 dB
}

TEST_P(CodecRoundTrip, PacketsUpTo20MsLateNeitherUnderrunNorAreLost) {
  // The priming buys one packet of margin; a talkspurt's first packet, short by the resampler's
  // delay, must not spend it.
  const auto [codec, payload_type] = GetParam();
  const auto result = round_trip(codec, payload_type, /*late_every=*/5);
  EXPECT_EQ(result.counters.playout.lost, 0u) << codec_info(codec).encoding_name;
  EXPECT_EQ(result.counters.playout.late, 0u) << codec_info(codec).encoding_name;
  EXPECT_EQ(result.counters.playout.underruns, 1u) << "only at the stream's end";
  EXPECT_GE(result.decoded.size(), kFrameSamples * (kFrames - 4)) << codec_info(codec).encoding_name;
}

TEST(ParticipantDecoder, PublishesThePacketsItDroppedAndConcealed) {
  auto published = std::make_shared<MixerCounters>();
  ParticipantDecoder decoder(AudioCodec::kPcmu, published);
  const std::vector<std::uint8_t> silence(160, 0xFF);  // 20 ms of PCMU silence
  auto deliver = [&](std::uint16_t sequence) {
    auto bytes = rtp_packet(0, sequence, 1000 + 160u * sequence, silence);
    decoder.push_rtp(*media::RtpPacket::parse(bytes));
  };
  for (std::uint16_t sequence : {0, 1, 1, 2, 4, 5}) deliver(sequence);  // 1 twice, 3 never
  AudioFrame out{};
  for (int tick = 0; tick < 8; ++tick) decoder.pull_frame(out);
  EXPECT_EQ(published->input_packets_dropped.load(), 1u) << "the duplicate";
  EXPECT_EQ(published->input_packets_concealed.load(), 1u) << "packet 3";
  deliver(3);  // long after its turn
  decoder.pull_frame(out);
  EXPECT_EQ(published->input_packets_dropped.load(), 2u) << "the late one";
}

// A caller sending Opus payloads libopus refuses (RFC 6716 §3.2.5 R5: a code 3 packet of zero
// frames) gets nothing into the mix; each one is counted on /metrics, and its good packets still play.
TEST(ParticipantDecoder, MalformedOpusPayloadsAreCountedAndTheGoodOnesStillPlay) {
  constexpr std::uint8_t kOpusPayloadType = 111;
  const auto good = testing::encode_opus_tones(6, [](int) { return 1000.0; });
  const std::vector<std::uint8_t> malformed{0x03, 0x00};
  auto published = std::make_shared<MixerCounters>();
  ParticipantDecoder decoder(AudioCodec::kOpus, published);
  AudioFrame out{};
  int frames = 0;
  for (int i = 0; i < 12; ++i) {
    const bool is_good = i % 2 == 0;
    auto bytes = rtp_packet(kOpusPayloadType, static_cast<std::uint16_t>(i), 1000 + 960u * static_cast<unsigned>(i),
                            is_good ? std::span<const std::uint8_t>(good[static_cast<std::size_t>(i / 2)]) : malformed);
    decoder.push_rtp(*media::RtpPacket::parse(bytes));
    if (decoder.pull_frame(out)) ++frames;
  }
  for (int tick = 0; tick < 4; ++tick)
    if (decoder.pull_frame(out)) ++frames;
  EXPECT_EQ(decoder.counters().packets_refused, 6u);
  EXPECT_EQ(published->input_packets_dropped.load(), 6u) << "each refusal on /metrics";
  EXPECT_EQ(decoder.counters().packets_decoded, 6u) << "the good packets between them still decode";
  EXPECT_GE(frames, 6);
}

// The tone steps from 400 to 800 Hz at packet kLost, which never comes: the tick that plays its
// turn rebuilds it from packet kLost + 1's in-band FEC (queued by then), so that frame is 800 Hz,
// where concealment alone would have continued the 400 Hz before it.
TEST(ParticipantDecoder, AnOpusLossIsRebuiltFromTheNextPacketsFec) {
  constexpr int kLost = 30;
  constexpr std::uint8_t kOpusPayloadType = 111;
  const auto payloads = testing::encode_opus_tones(
      kLost + 6, [](int frame) { return frame < kLost ? 400.0 : 800.0; },
      testing::OpusToneSettings{.bitrate = 24'000, .inband_fec = true});
  ParticipantDecoder decoder(AudioCodec::kOpus);
  std::vector<AudioFrame> frames;
  AudioFrame out{};
  for (int i = 0; i < static_cast<int>(payloads.size()) + 4; ++i) {
    if (i < static_cast<int>(payloads.size()) && i != kLost) {
      auto bytes = rtp_packet(kOpusPayloadType, static_cast<std::uint16_t>(i), 1000 + 960u * static_cast<unsigned>(i),
                              payloads[static_cast<std::size_t>(i)]);
      decoder.push_rtp(*media::RtpPacket::parse(bytes));
    }
    if (decoder.pull_frame(out)) frames.push_back(out);
  }
  EXPECT_EQ(decoder.counters().playout.lost, 1u);
  ASSERT_GT(frames.size(), static_cast<std::size_t>(kLost)) << "Opus frames are packet-aligned: frame n is packet n";
  const std::span<const Sample> lost_turn = std::span<const Sample>(frames[kLost]).subspan(kFrameSamples / 2);
  const auto candidates = testing::candidate_frequencies();
  EXPECT_EQ(testing::dominant_frequency(lost_turn, candidates, kSampleRateHz), 800.0);
  EXPECT_EQ(testing::dominant_frequency(std::span<const Sample>(frames[kLost - 1]), candidates, kSampleRateHz), 400.0);
}

// G.711 and G.722 members are interpolated to 48 kHz only for the frames the mixer mixes
// (render()). A decoder rendered on some ticks only gives, on those ticks, exactly the frames of one
// rendered on every tick, and those are the codec's continuous decode (a lost packet as its
// silence); the level pull() reports is the rendered frame's within 1 dB.
TEST(ParticipantDecoder, NarrowbandFramesRenderedOnlySometimesAreExactlyTheContinuousDecode) {
  constexpr int kLost = 20;
  for (const auto& [codec, payload_type] :
       {std::pair{AudioCodec::kPcmu, std::uint8_t{0}}, std::pair{AudioCodec::kG722, std::uint8_t{9}}}) {
    SCOPED_TRACE(codec_info(codec).encoding_name);
    FrameEncoder encoder(codec);
    ParticipantDecoder every_tick(codec);
    ParticipantDecoder some_ticks(codec);
    std::optional<G711Decoder> g711;
    std::optional<G722Decoder> g722;
    if (codec == AudioCodec::kG722)
      g722.emplace();
    else
      g711.emplace(codec);
    std::vector<Sample> continuous;
    std::vector<AudioFrame> frames;
    AudioFrame out{};
    int rendered = 0;
    for (int i = 0; i < kFrames; ++i) {
      const auto payload = encoder.encode(
          sine_frame(i < kLost ? kToneHz : kOtherHz, 8000.0, static_cast<std::size_t>(i) * kFrameSamples));
      if (i == kLost) {  // never sent: the decoders conceal it with silence
        if (g711) g711->decode_silence(160, continuous);
        if (g722) g722->decode_silence(320, continuous);
      } else {
        if (g711) g711->decode(payload, continuous);
        if (g722) g722->decode(payload, continuous);
        auto bytes =
            rtp_packet(payload_type, static_cast<std::uint16_t>(i), 1000 + 160u * static_cast<unsigned>(i), payload);
        every_tick.push_rtp(*media::RtpPacket::parse(bytes));
        some_ticks.push_rtp(*media::RtpPacket::parse(bytes));
      }
      const bool pulled = every_tick.pull_frame(out);
      ASSERT_EQ(some_ticks.pull(), pulled) << "tick " << i;
      if (!pulled) continue;
      frames.push_back(out);
      if (i % 3 != 0) continue;  // not mixed this tick: never interpolated
      const FrameView frame = some_ticks.render();
      ASSERT_TRUE(std::ranges::equal(frame, out)) << "tick " << i;
      EXPECT_NEAR(some_ticks.level_dbov(), frame_level_dbov(frame), 1) << "tick " << i;
      ++rendered;
    }
    EXPECT_GE(rendered, kFrames / 3 - 2);
    ASSERT_GE(frames.size(), static_cast<std::size_t>(kFrames - 3));
    for (std::size_t f = 0; f < frames.size(); ++f)
      ASSERT_TRUE(
          std::ranges::equal(frames[f], std::span<const Sample>(continuous).subspan(f * kFrameSamples, kFrameSamples)))
          << "frame " << f;
    EXPECT_EQ(every_tick.counters().playout.lost, 1U);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCodec, CodecRoundTrip,
                         ::testing::Values(std::pair{AudioCodec::kPcmu, std::uint8_t{0}},
                                           std::pair{AudioCodec::kPcma, std::uint8_t{8}},
                                           std::pair{AudioCodec::kG722, std::uint8_t{9}},
                                           std::pair{AudioCodec::kOpus, std::uint8_t{111}}),
                         [](const auto& info) { return std::string(codec_info(info.param.first).encoding_name); });

TEST(FrameEncoder, SampleCodecsGiveExactly20MsPerFrame) {
  for (auto codec : {AudioCodec::kPcmu, AudioCodec::kPcma, AudioCodec::kG722}) {
    FrameEncoder encoder(codec);
    for (int i = 0; i < 10; ++i) {
      auto payload = encoder.encode(sine_frame(kToneHz, 8000.0, static_cast<std::size_t>(i) * kFrameSamples));
      EXPECT_EQ(payload.size(), 160u) << codec_info(codec).encoding_name << ", frame " << i << " (the first too)";
    }
  }
}

TEST(FrameEncoder, OpusGivesOnePacketPerFrame) {
  FrameEncoder encoder(AudioCodec::kOpus);
  for (int i = 0; i < 10; ++i) {
    auto payload = encoder.encode(sine_frame(kToneHz, 8000.0, static_cast<std::size_t>(i) * kFrameSamples));
    ASSERT_FALSE(payload.empty());
    // RFC 6716 §3.1: the TOC byte's top five bits are the configuration; 20 ms frames are
    // configurations 1, 5, 9 (SILK), 13, 15 (hybrid) and 19, 23, 27, 31 (CELT); code 0 = one frame.
    const int config = payload[0] >> 3;
    EXPECT_TRUE(config == 1 || config == 5 || config == 9 || config == 13 || config == 15 || config == 19 ||
                config == 23 || config == 27 || config == 31)
        << "TOC config " << config;
    EXPECT_EQ(payload[0] & 0x3, 0) << "one frame per packet";
  }
}

TEST(FrameEncoder, RefusesFramesOfTheWrongLength) {
  FrameEncoder encoder(AudioCodec::kPcmu);
  std::vector<Sample> short_frame(100, 0);
  EXPECT_TRUE(encoder.encode(short_frame).empty());
}

TEST(AudioCodec, NamesAreCaseInsensitive) {
  EXPECT_EQ(audio_codec_from_name("opus"), AudioCodec::kOpus);
  EXPECT_EQ(audio_codec_from_name("pcmu"), AudioCodec::kPcmu);
  EXPECT_EQ(audio_codec_from_name("G722"), AudioCodec::kG722);
  EXPECT_EQ(audio_codec_from_name("G729"), std::nullopt);
  EXPECT_EQ(rtp_ticks(codec_info(AudioCodec::kG722), kFrameDuration), 160u);  // RFC 3551 §4.5.2
  EXPECT_EQ(rtp_ticks(codec_info(AudioCodec::kOpus), kFrameDuration), 960u);  // RFC 7587 §4.1
}

}  // namespace codec_round_trip_test
}  // namespace chorus::mixer
