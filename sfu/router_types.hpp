// What the conference tells the SFU router about each video stream it joins to a room, and what the
// router reports back (DESIGN §7 "Video model"). Plain values: they are made on the control loop
// from the negotiated SDP and cross to the room's media worker by copy.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/published_counter.hpp"
#include "sfu/participant_id.hpp"

namespace chorus::sfu {

// The video codecs the router forwards (never decodes).
enum class VideoCodec : std::uint8_t { kVp8, kH264 };
std::optional<VideoCodec> video_codec_from_name(std::string_view name);  // "VP8", "H264", any case
std::string_view to_string(VideoCodec codec);

// One negotiated video format of a section, with its payload types on that leg.
struct CodecMapping {
  VideoCodec codec = VideoCodec::kVp8;
  std::uint8_t payload_type = 96;
  std::optional<std::uint8_t> rtx_payload_type;  // RFC 4588: a=fmtp:<rtx> apt=<payload_type>
  std::uint32_t clock_rate = 90000;
};

// a=extmap ids of a section (RFC 8285 §5); 0 when not negotiated.
struct ExtensionIds {
  std::uint8_t mid = 0;            // urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843 §15)
  std::uint8_t rid = 0;            // ...:sdes:rtp-stream-id (RFC 8852 §3.3)
  std::uint8_t repaired_rid = 0;   // ...:sdes:repaired-rtp-stream-id
  std::uint8_t abs_send_time = 0;  // http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
  std::uint8_t transport_cc = 0;   // draft-holmer-rmcat-transport-wide-cc-extensions-01
};

// The RTCP feedback a peer takes on a section (RFC 4585 §4.2 a=rtcp-fb it offered and we answered).
struct FeedbackCaps {
  bool nack = false;          // generic NACK (RFC 4585 §6.2.1)
  bool pli = false;           // nack pli (§6.3.1)
  bool fir = false;           // ccm fir (RFC 5104 §4.3.1)
  bool remb = false;          // goog-remb
  bool transport_cc = false;  // transport-cc
};

// An incoming video stream: a participant's camera (or content) section that we receive.
struct ProducerSpec {
  ParticipantId participant = 0;
  std::vector<CodecMapping> codecs;  // what may arrive, by payload type
  ExtensionIds extensions;
  // RFC 8853 simulcast: the layers' rids in the offer's order (RFC 8851), or empty.
  std::vector<std::string> rids;
  // Signalled media SSRCs (a=ssrc-group:SIM order, or the one a=ssrc), and RFC 4588 FID pairs
  // (media → retransmission); either may be empty: the router learns SSRCs from packets.
  std::vector<std::uint32_t> ssrcs;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rtx_pairs;
  FeedbackCaps feedback;  // what the publisher takes from us (NACK, PLI, FIR)
};

// A video slot: one video section a receiver takes from us, filled with someone's video.
struct SlotSpec {
  ParticipantId receiver = 0;
  std::string mid;                    // the section's a=mid ("" without one), for the slot map
  std::size_t order = 0;              // the slot's position among the receiver's slots (m-line order)
  std::uint32_t ssrc = 0;             // ours, announced in our answer (a=ssrc)
  std::uint32_t rtx_ssrc = 0;         // ours for RFC 4588 retransmissions (a=ssrc-group:FID); 0: none
  std::vector<CodecMapping> codecs;   // what the receiver takes, with its payload types
  ExtensionIds extensions;            // what we stamp on what we send it
  FeedbackCaps feedback;              // what the receiver sends us
  std::uint64_t max_bitrate_bps = 0;  // the receiver's b=TIAS/AS for the section; 0: none
};

// One slot of a receiver as it stands: who fills it.
struct SlotView {
  std::string mid;
  std::optional<ParticipantId> participant;  // nullopt: dark
  std::string display_name;
};

// What the router reports, on its media worker. The conference implements it and posts to the
// control loop.
class RouterListener {
 public:
  virtual ~RouterListener() = default;
  // The receiver's slots changed (who is shown where); the whole map, in slot order.
  virtual void on_slots_changed(ParticipantId receiver, std::vector<SlotView> slots) = 0;
  // A keyframe is wanted from a publisher that takes neither PLI nor FIR: ask with SIP INFO
  // (RFC 5168 picture_fast_update).
  virtual void on_keyframe_request(ParticipantId publisher) = 0;
};

// Settings of every router (chorusd settings; limits against hostile or broken peers).
struct RouterConfig {
  std::uint64_t max_producer_bps = 8'000'000;                // over this, a producer's packets are dropped
  std::uint64_t default_receive_bps = 2'500'000;             // a receiver without feedback or b=AS (a SIP endpoint)
  std::uint64_t start_estimate_bps = 1'000'000;              // first bandwidth estimate of a receiver with transport-cc
  std::chrono::milliseconds keyframe_request_interval{300};  // at most one request per layer per this
  std::chrono::milliseconds producer_idle_after{1500};       // no packet this long: camera off
};

// Process-wide counters of every router (relaxed atomics, bumped on the media workers).
struct SfuCounters {
  std::atomic<std::uint64_t> packets_in{0};            // video RTP from producers
  std::atomic<std::uint64_t> packets_forwarded{0};     // RTP sent to slots
  std::atomic<std::uint64_t> dropped_over_bitrate{0};  // a producer above max_producer_bps
  std::atomic<std::uint64_t> dropped_unknown{0};       // no codec, no layer for the packet
  std::atomic<std::uint64_t> keyframe_requests{0};     // PLI/FIR/INFO sent to producers
  std::atomic<std::uint64_t> switches{0};              // slots moved to another producer or layer
  std::atomic<std::uint64_t> nacks_received{0};        // sequence numbers receivers asked for
  std::atomic<std::uint64_t> retransmissions{0};       // packets re-sent from the caches
  std::atomic<std::uint64_t> nacks_sent{0};            // sequence numbers asked of producers
  std::atomic<std::uint64_t> probe_bytes{0};           // padding sent to probe receivers' bandwidth
  std::atomic<std::uint64_t> codec_mismatches{0};      // a producer passed over for a receiver without its codec

  [[nodiscard]] std::vector<PublishedCounter> published() const {
    return {{"chorus_sfu_packets_in_total", "Video RTP packets the SFU received from producers", "sfu_packets_in",
             &packets_in},
            {"chorus_sfu_packets_forwarded_total", "Video RTP packets the SFU forwarded to slots", "sfu_forwarded",
             &packets_forwarded},
            {"chorus_sfu_dropped_over_bitrate_total", "Video packets dropped: producer above its bitrate limit",
             "sfu_dropped_over_bitrate", &dropped_over_bitrate},
            {"chorus_sfu_dropped_unknown_total", "Video packets dropped: unknown payload type or layer",
             "sfu_dropped_unknown", &dropped_unknown},
            {"chorus_sfu_keyframe_requests_total", "Keyframe requests (PLI, FIR, SIP INFO) sent to producers",
             "sfu_keyframe_requests", &keyframe_requests},
            {"chorus_sfu_switches_total", "Slot switches to another producer or simulcast layer", "sfu_switches",
             &switches},
            {"chorus_sfu_nacks_received_total", "Sequence numbers receivers asked to be retransmitted",
             "sfu_nacks_received", &nacks_received},
            {"chorus_sfu_retransmissions_total", "Packets retransmitted to receivers from the SFU's caches",
             "sfu_retransmissions", &retransmissions},
            {"chorus_sfu_nacks_sent_total", "Sequence numbers the SFU asked producers to retransmit", "sfu_nacks_sent",
             &nacks_sent},
            {"chorus_sfu_probe_bytes_total", "Padding bytes sent to probe receivers' bandwidth", "sfu_probe_bytes",
             &probe_bytes},
            {"chorus_sfu_codec_mismatches_total",
             "Producers passed over for a receiver that takes none of their codecs (no transcoding in an SFU room)",
             "sfu_codec_mismatches", &codec_mismatches}};
  }
};

}  // namespace chorus::sfu
