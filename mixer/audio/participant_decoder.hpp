// ParticipantDecoder: one participant's way from RTP to the mixing domain (DESIGN §3 Audio MCU),
// on the room's media worker, without a thread of its own and without GStreamer:
//
//   push_rtp → PlayoutBuffer (mixer/playout_buffer.hpp: order, loss, talkspurts, bounded delay)
//   pull, on the tick → the payload → G711Decoder (mixer/audio/g711.hpp: table expansion) or
//     G722Decoder (mixer/audio/g722.hpp: G722AdpcmDecoder) at the codec's own rate → a FIFO of decoded
//     samples → the frame's level (RFC 6464 scale); or, for Opus, a LazyOpusStream
//     (mixer/audio/lazy_opus_stream.hpp: the packets queued, libopus at 48 kHz mono with FEC and
//     PLC when their samples are wanted) → the frame's level as the sender marked it
//     (ssrc-audio-level), or else decoded now and measured
//   render, only when the mixer mixes the frame (NMinusOneMixer's DeferredFrame) → 48 kHz:
//     G.711 and G.722 through UpsamplerTo48k's polyphase FIR (mixer/audio/resampler.hpp); Opus
//     frames the sender marked decoded now
//
// Why the interpolation waits: the mixer reads the samples of at most K talkers a round, yet it
// was 12% of the worker at 800 G.711 members to interpolate every member's frame (issue 13). The
// FIFO keeps the filter's history (the samples before the frame) so that a frame interpolated
// after skipped ones is exactly what a continuous stream would have given. An Opus frame whose
// level the sender gave is not decoded at all unless it is mixed: libopus decoding every member's
// silence was 65% of the worker at 400 members; LazyOpusStream keeps the decoder's state right.
//
// Each tick pull asks the playout buffer for packets until 20 ms are decoded. Opus conceals a
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
// member's encoder; fed, pulled and rendered on the room's media worker, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/decoded_samples.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/g722.hpp"
#include "mixer/audio/lazy_opus_stream.hpp"
#include "mixer/audio/resampler.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/n_minus_one_mixer.hpp"
#include "mixer/playout_buffer.hpp"

namespace chorus::mixer {

struct DecoderCounters {
  PlayoutCounters playout;            // packets: queued, late, duplicate, lost, skipped, ...
  std::uint64_t packets_decoded = 0;  // given to the codec's decoder
  std::uint64_t packets_refused = 0;  // the decoder refused one (e.g. a payload it cannot parse)
  std::uint64_t frames_pulled = 0;
  std::uint64_t samples_dropped = 0;  // decoded audio past kMaxBufferedFrames
  LazyOpusCounters opus;              // Opus: what was left undecoded, and the warm-ups
};

class ParticipantDecoder final : public DeferredFrame {
 public:
  static constexpr std::size_t kMaxBufferedFrames = 4;

  // Throws std::runtime_error when the codec's decoder cannot be made (out of memory): a
  // control-path error.
  // `published` (may be null) gets the playout buffer's drops and concealments, once a tick.
  explicit ParticipantDecoder(AudioCodec codec, std::shared_ptr<MixerCounters> published = nullptr,
                              PlayoutConfig playout = {});

  // One decrypted RTP packet of the negotiated payload type: queued for its tick, not decoded here.
  // `sender_level`: its RFC 6464 level when the call negotiated ssrc-audio-level and it has one.
  void push_rtp(const media::RtpPacket& packet, std::uint8_t sender_level = kNoSenderLevel);
  // Decodes what this tick needs and takes the next 20 ms; false while priming or when the sender
  // sent nothing. Then level_dbov() is the frame's level and render() its 48 kHz samples.
  bool pull();
  // The level of the frame pull() last took, RFC 6464 §3 magnitude (0 loudest, 127 silence).
  [[nodiscard]] std::uint8_t level_dbov() const noexcept { return level_dbov_; }
  // The frame pull() last took, at 48 kHz: G.711 and G.722 interpolated now, an Opus frame with a
  // sender level decoded now (DeferredFrame). Once per pull; later calls return the same frame.
  FrameView render() override;
  // pull() and render() in one, into `frame`; false (frame untouched) when pull() is.
  bool pull_frame(AudioFrame& frame);

  [[nodiscard]] DecoderCounters counters() const;
  [[nodiscard]] AudioCodec codec() const { return codec_; }

 private:
  [[nodiscard]] bool narrowband() const noexcept { return !opus_; }
  [[nodiscard]] std::size_t waiting() const noexcept;
  // `step` on the codec's FIFO: narrow_ (G.711, G.722) or opus_, whichever it has.
  template <typename Step>
  void with_fifo(Step&& step) {
    if (narrow_) {
      step(*narrow_);
    } else {
      step(*opus_);
    }
  }
  bool decode_next();  // false when the playout buffer has nothing for this tick
  void decode(std::span<const std::uint8_t> payload);
  void conceal(std::uint32_t duration);
  void make_room_for_frame(bool talkspurt_started);
  bool take_frame(bool was_playing);
  void publish_playout_counters();
  void publish_refused();
  void take_opus_frame();

  AudioCodec codec_;
  PlayoutBuffer playout_;
  // Exactly one of them, by codec_.
  std::optional<G711Decoder> g711_;
  std::optional<G722Decoder> g722_;
  std::optional<LazyOpusStream> opus_;
  // G.711 and G.722: at the codec's rate, behind the interpolator's history; `upsampler_` is used
  // only for its filter (UpsamplerTo48k::interpolate), the FIFO keeps the stream.
  std::optional<UpsamplerTo48k> upsampler_;
  std::optional<DecodedSamples<float>> narrow_;
  std::vector<float> taken_;  // the frame pull() took, with the interpolator's history before it
  // Opus (above): at 48 kHz, packets decoded when their samples are wanted.
  std::uint8_t last_sender_level_ = kNoSenderLevel;  // the last packet's, for a loss after it
  std::size_t factor_ = 1;                           // 48 kHz / the codec's rate
  std::size_t frame_length_ = kFrameSamples;         // a frame's samples at the codec's rate
  std::size_t level_offset_ = 0;                     // where in taken_ the samples of the 48 kHz frame lie
  AudioFrame frame_{};     // the frame render() made (or pull(), an Opus frame without a sender level)
  bool rendered_ = false;  // false: pull() took a frame render() has not made yet
  std::uint8_t level_dbov_ = kSilenceLevelDbov;
  DecoderCounters counters_;
  std::shared_ptr<MixerCounters> published_;
  PlayoutCounters reported_;  // what publish_playout_counters() last saw
  std::uint64_t reported_never_decoded_ = 0;
};

}  // namespace chorus::mixer
