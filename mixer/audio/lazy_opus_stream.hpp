// LazyOpusStream: one Opus member's decoded audio, as a FIFO whose packets are decoded only when
// their samples are wanted (issue 13: Opus members per core without DTX).
//
// Why: the mixer mixes at most K talkers a round, yet every member's packet went through libopus
// each tick: 65% of the worker's busy time at 400 members, nearly all of it silence. When a sender
// marks its packets with its RFC 6464 level (browsers do: ssrc-audio-level), the room knows a
// frame's loudness without decoding it, and the mixer decides from that level whether it mixes it
// (NMinusOneMixer's DeferredFrame). A frame it does not mix need never be decoded.
//
// What must stay right is the decoder's state: Opus predicts across packets (SILK's LPC and pitch
// memories, CELT's band energies and overlap), so the packets of a frame that is skipped are kept
// and decoded, output discarded, before the next frame that is wanted. Keeping every skipped
// packet would decode them all in the end, saving nothing; only the last kWarmupSteps are kept.
// When older ones were let go, the decoder is reset and the kept ones decoded from that clean
// state (from the stale state instead, a test heard a click of 8,643 16-bit steps). What the mixer
// then mixes (the tests, libopus 1.3, 24 kbit/s with FEC, 4 s and 2 s of skipped frames):
// - after at most kWarmupSteps skipped packets: the continuous decode's samples, exactly;
// - after more, over digital silence: the same, exactly;
// - after more, over a steady -61 dBFS hum: not bit-identical (SILK's pitch predictor carries
//   the reset's difference through a steady tone) but within 45 dB of the continuous decode,
//   far below the codec's own coding noise; 32 packets of warm-up were no closer than 16.
//
// The FIFO's accounting does not wait for the decode: an Opus packet's duration is in its header
// (RFC 6716 §3.1, §3.2), and a loss is concealed in whole 2.5 ms steps (opus_decode(3)). A packet
// whose framing libopus would refuse is refused when it is added, as the decoder would have.
//
// Threading: one member's state, used by one thread at a time (the room's media worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mixer/audio/decoded_samples.hpp"
#include "mixer/audio/opus_packet_decoder.hpp"
#include "mixer/playout_buffer.hpp"

namespace chorus::mixer {

struct LazyOpusCounters {
  std::uint64_t packets_decoded = 0;  // libopus ran on a packet (warm-up included)
  std::uint64_t packets_refused = 0;  // its framing was invalid, or libopus refused it
  std::uint64_t warmup_decodes = 0;   // packets of skipped frames decoded for the state only
  std::uint64_t never_decoded = 0;    // packets and losses of skipped frames let go undecoded
  std::uint64_t decoder_resets = 0;   // warm-ups that started from a reset decoder
  std::uint64_t samples_dropped = 0;  // over the FIFO's capacity
};

class LazyOpusStream {
 public:
  // 320 ms of 20 ms packets: the warm-up that makes a talkspurt after a long skip sound as if
  // nothing had been skipped (see above).
  static constexpr std::size_t kWarmupSteps = 16;

  // `capacity`: the most samples decoded or queued at once; what a packet adds past it is
  // dropped and counted, as DecodedSamples does.
  explicit LazyOpusStream(std::size_t capacity);

  // One packet with the sender's level (kNoSenderLevel when it had none): queued undecoded.
  // False, and counted, when its framing is not a valid Opus packet's (RFC 6716 §3.4, R1–R7).
  bool add_packet(std::span<const std::uint8_t> payload, std::uint8_t sender_level);
  // A lost packet of `samples` (48 kHz; whole 2.5 ms steps, at most 120 ms), to be rebuilt from
  // `next`'s in-band FEC when `next` carries some, else concealed, when its samples are wanted.
  // `level`: what the loss is taken to sound like (kNoSenderLevel: unknown).
  void add_loss(std::size_t samples, std::span<const std::uint8_t> next, std::uint8_t level);

  // Samples decoded or queued and not yet consumed.
  [[nodiscard]] std::size_t size() const noexcept { return decoded_.size() + queued_samples_; }
  // The sender's level of the next `count` samples: the loudest of the packets they lie on, when
  // all of them are still undecoded and carry one; kNoSenderLevel otherwise.
  [[nodiscard]] std::uint8_t sender_level_ahead(std::size_t count) const noexcept;

  // Consumes the oldest `count` samples; those still undecoded are not decoded now.
  void drop_oldest(std::size_t count);
  // Decodes what is queued until at least `count` samples are decoded (or all are), and returns
  // the first `count` of them (fewer when there are not as many).
  std::span<const Sample> front(std::size_t count);
  // DecodedSamples' edits, on the decoded stream (what is queued is decoded first).
  void insert_silence_front(std::size_t count);
  void pad_with_silence(std::size_t size);

  [[nodiscard]] const LazyOpusCounters& counters() const noexcept { return counters_; }

 private:
  struct Step {
    bool lost = false;
    std::size_t samples = 0;  // what it adds to the stream
    std::uint8_t level = kNoSenderLevel;
    std::vector<std::uint8_t> payload;  // the packet, or the one after a loss (its FEC)
  };

  Step& queued_step(std::size_t index) noexcept;  // 0: the oldest still queued
  const Step& queued_step(std::size_t index) const noexcept;
  Step& push_step();
  void queue_step(bool lost, std::span<const std::uint8_t> payload, std::uint8_t level, std::size_t samples);
  void let_go_oldest_skipped();
  void warm_up();
  void decode_oldest_queued();
  std::span<const Sample> run(const Step& step);

  OpusPacketDecoder decoder_;
  DecodedSamples<Sample> decoded_;
  std::size_t capacity_;
  // A ring: the skipped steps (consumed undecoded, kept for warm-up), then the queued ones.
  std::vector<Step> steps_;
  std::size_t oldest_ = 0;
  std::size_t skipped_ = 0;
  std::size_t queued_ = 0;
  std::size_t queued_samples_ = 0;     // of the queued steps, less consumed_of_first_
  std::size_t consumed_of_first_ = 0;  // samples of the oldest queued step already consumed
  bool state_lost_ = false;            // skipped steps were let go: reset before the warm-up
  std::vector<Sample> step_output_;    // one step's samples, exactly its length
  LazyOpusCounters counters_;
};

}  // namespace chorus::mixer
