// ParticipantDecoder: one participant's way from RTP to the mixing domain (DESIGN §3 Audio MCU),
// on the room's media worker and without a thread of its own:
//
//   push_rtp → PlayoutBuffer (mixer/playout_buffer.hpp: order, loss, talkspurts, bounded delay)
//   pull_frame, on the tick → [our src pad] → <depayloader> → <decoder> → audioconvert
//     → audioresample → audio/x-raw,format=S16LE,rate=48000,channels=1 → [our sink pad] → FIFO
//   or, for G.711 (PCMU, PCMA) and Opus, with no GStreamer at all: the payload → G711Decoder
//     (mixer/audio/g711.hpp: the table expansion, a polyphase 8 → 48 kHz FIR) or OpusPacketDecoder
//     (mixer/audio/opus_packet_decoder.hpp: libopus at 48 kHz mono, FEC and PLC) → FIFO
//
// gst-launch equivalent of the G.722 decode chain (what it does to one packet; the playout buffer
// stands where rtpjitterbuffer would):
//   gst-launch-1.0 udpsrc port=5004
//   caps="application/x-rtp,media=audio,clock-rate=8000,encoding-name=G722,payload=9"
//     ! rtpjitterbuffer latency=40 do-lost=true ! rtpg722depay ! avdec_g722
//     ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! autoaudiosink
//
// Each tick pull_frame asks the playout buffer for packets until 20 ms are decoded: gst_pad_push
// runs the depayloader, decoder and resampler in the worker's thread, as FrameEncoder does for the
// other direction. A lost packet goes down as the jitter buffer's "GstRTPPacketLost" event, which
// the depayloader turns into a GAP. Opus conceals a loss (in-band FEC from the next packet when it
// is queued, RFC 6716 §2.1.7, else PLC); for G.711 and G.722 the missing samples are silence. Opus DTX sends
// nothing in silence: the buffer runs dry, the member is silent (no input to the mix) until the
// next talkspurt has primed.
//
// It used to be rtpjitterbuffer's streaming thread per participant feeding an appsink: 2,000
// threads at the capacity target, two thirds of the G.711 cost (issue 13) and the scheduling noise
// behind issue 12's late ticks. Decoding on the tick costs the worker what the threads cost the
// machine, without the hand-offs.
//
// Threading: constructed and destroyed on the chain thread (mixer/gst/chain_thread.hpp); fed and
// pulled on the room's media worker, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/rtp/rtp_packet.hpp"
#include "mixer/audio/audio_codec.hpp"
#include "mixer/audio/g711.hpp"
#include "mixer/audio/opus_packet_decoder.hpp"
#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"
#include "mixer/mixer_counters.hpp"
#include "mixer/playout_buffer.hpp"

namespace chorus::mixer {

struct DecoderCounters {
  PlayoutCounters playout;            // packets: queued, late, duplicate, lost, skipped, ...
  std::uint64_t packets_decoded = 0;  // pushed through the decode chain
  std::uint64_t packets_refused = 0;  // the chain refused one (e.g. a payload it cannot parse)
  std::uint64_t frames_pulled = 0;
  std::uint64_t samples_dropped = 0;  // decoded audio past kMaxBufferedFrames
};

class ParticipantDecoder {
 public:
  static constexpr std::size_t kMaxBufferedFrames = 4;

  // Builds the chain inside `pipeline` (PLAYING: the room's, whose bus carries the elements' errors)
  // and starts it. Throws std::runtime_error when an element is missing (a plugin not installed): a
  // control-path error.
  // `published` (may be null) gets the playout buffer's drops and concealments, once a tick.
  ParticipantDecoder(GstBin* pipeline, AudioCodec codec, std::uint8_t payload_type, std::string name,
                     std::shared_ptr<MixerCounters> published = nullptr, PlayoutConfig playout = {});
  ParticipantDecoder(const ParticipantDecoder&) = delete;
  ParticipantDecoder& operator=(const ParticipantDecoder&) = delete;
  ~ParticipantDecoder();

  // One decrypted RTP packet of the negotiated payload type: queued for its tick, not decoded here.
  void push_rtp(const media::RtpPacket& packet);
  // Decodes what this tick needs and fills `frame` with the next 20 ms; false (frame untouched)
  // while priming or when the sender sent nothing.
  bool pull_frame(AudioFrame& frame);

  [[nodiscard]] DecoderCounters counters() const;
  [[nodiscard]] AudioCodec codec() const { return codec_; }

 private:
  static GstFlowReturn on_decoded(GstPad* pad, GstObject* parent, GstBuffer* buffer);
  bool decode_next();  // false when the playout buffer has nothing for this tick
  void decode(std::span<const std::uint8_t> packet, std::uint32_t timestamp);
  void conceal(std::uint32_t timestamp, std::uint32_t duration);
  void append_decoded(std::span<const Sample> samples);
  GstClockTime pts_of(std::uint32_t timestamp);
  void publish_playout_counters();
  void count_refused();

  AudioCodec codec_;
  std::uint32_t clock_rate_;
  PlayoutBuffer playout_;
  // G.711 and Opus are decoded here, not by a GStreamer chain (then bin_ and the pads stay null).
  std::optional<G711Decoder> g711_;
  std::optional<OpusPacketDecoder> opus_;
  std::vector<Sample> g711_out_;  // one packet's samples before they join decoded_
  // Ours too: the decoder may be torn down on the chain thread after its room is gone.
  gst::GstPtr<GstElement> pipeline_;
  gst::GstPtr<GstElement> bin_;
  gst::GstPtr<GstPad> src_pad_;
  gst::GstPtr<GstPad> sink_pad_;
  std::vector<Sample> decoded_;  // 48 kHz mono, oldest first; at most kMaxBufferedFrames + 2 frames
  std::optional<std::uint32_t> first_timestamp_;
  std::int64_t timestamp_span_ = 0;  // the last timestamp's distance from the first, unwrapped
  std::uint32_t last_timestamp_ = 0;
  DecoderCounters counters_;
  std::shared_ptr<MixerCounters> published_;
  PlayoutCounters reported_;  // what publish_playout_counters() last saw
};

}  // namespace chorus::mixer
