// libFuzzer target for what a caller's audio payloads reach in the audio MCU (mixer/audio): the
// G.711 expansion, our G.722 decoder (G722AdpcmDecoder) and libopus, each followed by the resampler to 48 kHz,
// with the packet sizes and losses the caller chooses; and the encoders on frames of any content.
//
//   make fuzz-build && build-fuzz/fuzz/audio_payload_fuzz -max_total_time=60
//
// The input: a codec byte (0 PCMU, 1 PCMA, 2 G.722, 3 Opus), then packets, each a length byte and
// that many payload bytes (the last takes what is left); a length byte of 0 is a lost packet of
// 20 ms. Besides crashes and sanitizer reports it checks:
//   - G.711 and G.722 give exactly 6 samples at 48 kHz per payload octet, and a loss exactly its
//     duration (the interpolator neither drops nor invents samples);
//   - Opus gives at most 120 ms a packet (RFC 6716 §3.2.5), a whole number of 2.5 ms steps, and a
//     concealment at most what was lost;
//   - the encoders give 160 octets a frame for G.711/G.722 and at most 1,275 for Opus, from a frame
//     built of the input's bytes;
//   - the same packets as RTP through a ParticipantDecoder (playout buffer, FIFO at the codec's
//     rate, deferred interpolation), pulled once a packet and rendered on every other pull (or, with
//     sender levels, every 23rd: Opus frames left undecoded, warm-ups and resets): a rendered frame
//     is 20 ms at 48 kHz and a level is on the RFC 6464 scale.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/frame_encoder.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/g722.hpp"
#include "mixer/audio/opus_packet_decoder.hpp"
#include "mixer/audio/participant_decoder.hpp"

namespace {

using chorus::fuzz::check;
using namespace chorus::mixer;

constexpr std::size_t kLossSamples8k = 160;  // a lost packet: 20 ms at the RTP clock of G.711/G.722

struct Decoders {
  explicit Decoders(std::uint8_t codec) : which(codec % 4) {
    if (which == 0) g711.emplace(AudioCodec::kPcmu);
    if (which == 1) g711.emplace(AudioCodec::kPcma);
    if (which == 2) g722.emplace();
    if (which == 3) opus.emplace();
  }
  void packet(std::span<const std::uint8_t> payload, std::span<const std::uint8_t> next) {
    std::vector<Sample> out;
    if (g711 || g722) {
      if (payload.empty()) {
        if (g711) g711->decode_silence(kLossSamples8k, out);
        if (g722) g722->decode_silence(2 * kLossSamples8k, out);
        check(out.size() == 6 * kLossSamples8k);
      } else {
        if (g711) g711->decode(payload, out);
        if (g722) g722->decode(payload, out);
        check(out.size() == 6 * payload.size());
      }
      return;
    }
    if (payload.empty()) {
      const auto concealed = opus->conceal(kSampleRateHz / 50, next);
      check(concealed.size() <= kSampleRateHz / 50 && concealed.size() % OpusPacketDecoder::kConcealStepSamples == 0);
      return;
    }
    if (const auto samples = opus->decode(payload))
      check(samples->size() <= OpusPacketDecoder::kMaxPacketSamples &&
            samples->size() % OpusPacketDecoder::kConcealStepSamples == 0);
  }

  std::uint8_t which;
  std::optional<G711Decoder> g711;
  std::optional<G722Decoder> g722;
  std::optional<OpusPacketDecoder> opus;
};

void encode_frames(std::uint8_t codec, std::span<const std::uint8_t> bytes) {
  static constexpr AudioCodec kCodecs[] = {AudioCodec::kPcmu, AudioCodec::kPcma, AudioCodec::kG722, AudioCodec::kOpus};
  FrameEncoder encoder(kCodecs[codec % 4]);
  std::vector<Sample> frame(kFrameSamples);
  // Two frames: the input's bytes as samples, repeated to fill them (the filters' history carries over).
  for (int f = 0; f < 2 && !bytes.empty(); ++f) {
    for (std::size_t i = 0; i < frame.size(); ++i) {
      const std::size_t at = (2 * (i + f * frame.size())) % bytes.size();
      frame[i] = static_cast<Sample>(bytes[at] | (bytes[(at + 1) % bytes.size()] << 8));
    }
    const auto payload = encoder.encode(frame);
    if (codec % 4 == 3)
      check(payload.size() <= 1'275);
    else
      check(payload.size() == 160);
  }
}

// Each packet as RTP (a lost one leaves a gap in the sequence numbers), one pull a packet.
void play_through_participant_decoder(std::uint8_t codec, std::span<const std::span<const std::uint8_t>> packets) {
  static constexpr AudioCodec kCodecs[] = {AudioCodec::kPcmu, AudioCodec::kPcma, AudioCodec::kG722, AudioCodec::kOpus};
  const AudioCodec which = kCodecs[codec % 4];
  // With sender levels (RFC 6464), an Opus frame is decoded only when rendered: rendering one pull
  // in 23 makes skips longer than LazyOpusStream's warm-up, so its resets run too.
  const bool with_levels = (codec & 4) != 0;
  ParticipantDecoder decoder(which);
  const std::uint32_t ticks_per_frame = which == AudioCodec::kOpus ? kSampleRateHz / 50 : kLossSamples8k;
  std::vector<std::uint8_t> datagram;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (!packets[i].empty()) {
      datagram.assign(12 + packets[i].size(), 0);
      chorus::media::RtpHeaderFields fields;
      fields.payload_type = 96;
      fields.sequence_number = static_cast<std::uint16_t>(i);
      fields.timestamp = static_cast<std::uint32_t>(i) * ticks_per_frame;
      fields.ssrc = 1;
      check(chorus::media::write_rtp_header(datagram, fields) == 12);
      std::copy(packets[i].begin(), packets[i].end(), datagram.begin() + 12);
      const std::uint8_t level = with_levels ? packets[i][0] & 0x7F : kNoSenderLevel;
      if (const auto packet = chorus::media::RtpPacket::parse(datagram)) decoder.push_rtp(*packet, level);
    }
    if (!decoder.pull()) continue;
    check(decoder.level_dbov() <= kSilenceLevelDbov);
    if (with_levels ? i % 23 == 22 : i % 2 == 1) check(decoder.render().size() == kFrameSamples);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t codec = data[0];
  const std::span<const std::uint8_t> input(data + 1, size - 1);
  Decoders decoders(codec);
  // Bounded: each packet consumes at least its length byte.
  std::vector<std::span<const std::uint8_t>> packets;
  for (std::size_t at = 0; at < input.size();) {
    const std::size_t length = std::min<std::size_t>(input[at], input.size() - at - 1);
    packets.push_back(input.subspan(at + 1, length));
    at += 1 + length;
  }
  for (std::size_t i = 0; i < packets.size(); ++i)
    decoders.packet(packets[i], i + 1 < packets.size() ? packets[i + 1] : std::span<const std::uint8_t>{});
  play_through_participant_decoder(codec, packets);
  encode_frames(codec, input);
  return 0;
}
