// ParticipantDecoder: one participant's way from RTP to the mixing domain (DESIGN §3 Audio MCU),
// on the room's media worker, without a thread of its own and without GStreamer:
//
//   push_rtp → PlayoutBuffer (mixer/playout_buffer.hpp: order, loss, talkspurts, bounded delay)
//   pull_frame, on the tick → the payload → G711Decoder (mixer/audio/g711.hpp: table expansion),
//     G722Decoder (mixer/audio/g722.hpp: spandsp) — each then a polyphase FIR to 48 kHz
//     (mixer/audio/resampler.hpp) — or OpusPacketDecoder (mixer/audio/opus_packet_decoder.hpp:
//     libopus at 48 kHz mono, FEC and PLC) → FIFO of 48 kHz mono samples
//
// Each tick pull_frame asks the playout buffer for packets until 20 ms are decoded. Opus conceals a
// loss (in-band FEC from the next packet when it is queued, RFC 6716 §2.1.7, else PLC); for G.711
// and G.722 the missing samples are silence, through the interpolator so the last packet rings
// out. Opus DTX sends nothing in silence: the buffer runs dry, the member is silent (no input to
// the mix) until the next talkspurt has primed.
//
// History: it was rtpjitterbuffer's streaming thread per participant feeding an appsink (2,000
// threads at the capacity target), then a depayloader ! decoder ! audioconvert ! audioresample
// chain pushed from the tick; each codec now calls its decoder directly (issue 13: the pad pushes,
// buffers and caps checks per member per tick were most of the cost).
//
// Threading: constructed and destroyed on the chain thread (mixer/gst/chain_thread.hpp) with the
// member's encoder; fed and pulled on the room's media worker, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/g722.hpp"
#include "mixer/audio/opus_packet_decoder.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/playout_buffer.hpp"

namespace chorus::mixer {

struct DecoderCounters {
  PlayoutCounters playout;            // packets: queued, late, duplicate, lost, skipped, ...
  std::uint64_t packets_decoded = 0;  // given to the codec's decoder
  std::uint64_t packets_refused = 0;  // the decoder refused one (e.g. a payload it cannot parse)
  std::uint64_t frames_pulled = 0;
  std::uint64_t samples_dropped = 0;  // decoded audio past kMaxBufferedFrames
};

class ParticipantDecoder {
 public:
  static constexpr std::size_t kMaxBufferedFrames = 4;

  // Throws std::runtime_error when the codec's decoder cannot be made (out of memory): a
  // control-path error.
  // `published` (may be null) gets the playout buffer's drops and concealments, once a tick.
  explicit ParticipantDecoder(AudioCodec codec, std::shared_ptr<MixerCounters> published = nullptr,
                              PlayoutConfig playout = {});

  // One decrypted RTP packet of the negotiated payload type: queued for its tick, not decoded here.
  void push_rtp(const media::RtpPacket& packet);
  // Decodes what this tick needs and fills `frame` with the next 20 ms; false (frame untouched)
  // while priming or when the sender sent nothing.
  bool pull_frame(AudioFrame& frame);

  [[nodiscard]] DecoderCounters counters() const;
  [[nodiscard]] AudioCodec codec() const { return codec_; }

 private:
  bool decode_next();  // false when the playout buffer has nothing for this tick
  void decode(std::span<const std::uint8_t> payload);
  void conceal(std::uint32_t duration);
  void append_decoded(std::span<const Sample> samples);
  void publish_playout_counters();
  void count_refused();

  AudioCodec codec_;
  PlayoutBuffer playout_;
  // Exactly one of them, by codec_.
  std::optional<G711Decoder> g711_;
  std::optional<G722Decoder> g722_;
  std::optional<OpusPacketDecoder> opus_;
  std::vector<Sample> packet_out_;  // one G.711/G.722 packet's samples before they join decoded_
  std::vector<Sample> decoded_;     // 48 kHz mono, oldest first; at most kMaxBufferedFrames + 2 frames
  DecoderCounters counters_;
  std::shared_ptr<MixerCounters> published_;
  PlayoutCounters reported_;  // what publish_playout_counters() last saw
};

}  // namespace chorus::mixer
