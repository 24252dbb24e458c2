// Producer: one incoming video stream of a participant (its camera section) and its simulcast
// layers (RFC 8853), as the room's router keeps them.
//
// classify() tells, for each packet the section receives, which layer it belongs to and whether it
// is a retransmission (RFC 4588), learning SSRCs as they show up: a media payload type's packet is
// placed by its SSRC, else by its RID header extension (RFC 8852), else — a stream without rids —
// it is the single layer; an RTX payload type's packet by its SSRC, else its repaired RID, else the
// FID pairs the SDP signalled. A layer that appears with a new SSRC (the sender restarted it) gets
// a new source id, so slots treat it as a new stream and switch at its next keyframe.
// Each layer keeps what the router needs: a retransmission cache and a NACK generator (RFC 4585)
// towards the publisher, a bitrate meter, when it last sent a keyframe and at what size.
// Threading: the room's media worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/rtp/rtp_packet.hpp"
#include "media/transport/media_session.hpp"
#include "sfu/bitrate_meter.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/retransmission_cache.hpp"
#include "sfu/router_types.hpp"

namespace chorus::sfu {

using ProducerId = std::uint32_t;
using SourceId = std::uint32_t;  // one layer's stream while it keeps its SSRC (StreamRewriter's key)

class Producer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::size_t kMaxLayers = 3;  // RFC 8853 layers we take (SDP negotiation bounds it too)

  struct Layer {
    std::string rid;
    std::optional<std::uint32_t> ssrc;
    std::optional<std::uint32_t> rtx_ssrc;
    SourceId source = 0;  // 0: no packet yet
    RetransmissionCache cache{RetransmissionCacheConfig{}};
    NackGenerator nacks{NackGeneratorConfig{}};
    BitrateMeter meter;
    std::optional<TimePoint> last_packet;
    std::optional<TimePoint> last_keyframe;
    std::optional<TimePoint> last_keyframe_request;
    std::uint16_t width = 0;  // of the last keyframe, when the codec says
    std::uint16_t height = 0;
    std::uint32_t last_timestamp = 0;
  };

  // What a received packet is.
  struct Classified {
    std::size_t layer = 0;
    const CodecMapping* codec = nullptr;
    bool retransmission = false;  // arrived on the RTX stream (unwrap it first)
  };

  Producer(ProducerId id, media::MediaSession& session, ProducerSpec spec, SourceId& next_source);

  // Which layer `packet` belongs to; nullopt for a payload type the section did not negotiate or a
  // packet no layer can be found for (counted by the caller).
  std::optional<Classified> classify(const media::RtpPacket& packet);

  [[nodiscard]] ProducerId id() const { return id_; }
  [[nodiscard]] ParticipantId participant() const { return spec_.participant; }
  [[nodiscard]] const ProducerSpec& spec() const { return spec_; }
  [[nodiscard]] media::MediaSession& session() const { return *session_; }
  [[nodiscard]] std::vector<Layer>& layers() { return layers_; }
  [[nodiscard]] const std::vector<Layer>& layers() const { return layers_; }
  // The codec of the last media packet: what a receiver must take to see this producer.
  [[nodiscard]] std::optional<VideoCodec> codec() const { return codec_; }
  void set_codec(VideoCodec codec) { codec_ = codec; }
  // Layers in ascending resolution (by keyframe size when known, else the offer's rid order).
  [[nodiscard]] std::vector<std::size_t> layers_by_resolution() const;
  // Whether any layer sent within `idle_after`.
  [[nodiscard]] bool live(TimePoint now, std::chrono::milliseconds idle_after) const;
  // The sum of the layers' rates now.
  [[nodiscard]] std::int64_t rate_bps(TimePoint now) const;
  // Logs and counting of refusals without flooding (once a second at most).
  bool may_log_drop(TimePoint now);

 private:
  std::optional<std::size_t> layer_by_rid(std::string_view rid) const;
  std::optional<std::size_t> media_layer(const media::RtpPacket& packet);
  std::optional<std::size_t> rtx_layer(const media::RtpPacket& packet);
  void bind_media_ssrc(std::size_t layer, std::uint32_t ssrc);

  ProducerId id_;
  media::MediaSession* session_;
  ProducerSpec spec_;
  SourceId& next_source_;
  std::vector<Layer> layers_;
  std::optional<VideoCodec> codec_;
  std::optional<TimePoint> last_drop_log_;
};

}  // namespace chorus::sfu
