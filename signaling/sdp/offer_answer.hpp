// RFC 3264 offer/answer for a conference server: what the UA core calls.
//
// Answering an offer (INVITE or re-INVITE with SDP):
//   auto plan = plan_answer(offer, policy);            // 488 + Warning when nothing is acceptable
//   ... allocate plan->ports_needed() RTP ports ...
//   auto answer = build_answer(*plan, local, ports, origin);
//   plan->streams()                                    // codec/pt/remote address per m-line
// Offering (INVITE without SDP: offer in our 200, answer in the ACK):
//   auto offer = build_offer(policy, local, ports, origin);
//   auto streams = accept_answer(*offer, answer);      // error → the UA sends BYE
//
// Audio is always negotiated. Video (VP8, H.264 Constrained Baseline/Baseline) is negotiated only
// when MediaPolicy::video.enabled is set, for the SFU: video_answer.hpp has its rules (codecs,
// rtx, rtcp-fb, header extensions, simulcast, stream budgets). Other media sections are answered
// with port 0 (RFC 3264 §6). With video off, answers are exactly what they were before video
// existed: the RTP extras (a=extmap, a=rtcp-rsize, a=extmap-allow-mixed, bundle-only sections)
// are negotiated only in calls that enable video.
// Pure functions over value types: safe on any thread, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/rtp_attributes.hpp"
#include "signaling/sdp/session_description.hpp"
#include "signaling/sdp/simulcast.hpp"

namespace chorus::sdp {

struct Codec {
  std::string name;  // encoding name as in rtpmap, matched case-insensitively
  int clock_rate = 8000;
  int channels = 1;  // opus is always 2 in SDP (RFC 7587 §7), whatever is configured here
  bool operator==(const Codec&) const = default;
};

// RFC 4585 §4.2 a=rtcp-fb values we answer for a video format (each only when offered for it).
struct FeedbackSupport {
  bool nack = false;          // RFC 4585 §6.2.1 generic NACK: retransmission from the SFU's cache
  bool nack_pli = false;      // RFC 4585 §6.3.1 picture loss indication
  bool ccm_fir = false;       // RFC 5104 §4.3.1 full intra request
  bool goog_remb = false;     // receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb)
  bool transport_cc = false;  // transport-wide feedback; only with its header extension accepted
  bool operator==(const FeedbackSupport&) const = default;
};

// One accepted video payload format, as answered.
struct VideoFormat {
  Codec codec;  // {"VP8", 90000, 1} or {"H264", 90000, 1}, the name spelled as offered
  int payload_type = -1;
  std::string fmtp;  // the answer's a=fmtp parameters, "" when none
  // The offer's a=fmtp for it: what the peer receives (RFC 6184 §8.1 profile-level-id and max-fs,
  // RFC 7741 §6.1 max-fs), e.g. for sizing a video MCU's picture to what it decodes.
  std::string offered_fmtp;
  std::optional<int> rtx_payload_type;  // RFC 4588: the offered rtx format whose apt= is this one
  FeedbackSupport feedback;             // what the answer enables for it
  bool operator==(const VideoFormat&) const = default;
};

struct VideoPolicy {
  bool enabled = false;  // off: video answered with port 0, as before video existed
  // Preference order. Supported: VP8/90000 (RFC 7741) and H264/90000 (RFC 6184, packetization
  // mode 1, Constrained Baseline or Baseline profile); other entries match nothing.
  std::vector<Codec> codecs{{"VP8", 90000, 1}, {"H264", 90000, 1}};
  std::size_t max_receive_streams = 2;  // sections the peer sends video in (camera, content)
  std::size_t max_send_streams = 9;     // sections we send video in ("video slots")
  std::size_t max_simulcast_layers = 3;
  // RFC 6184 §8.2.2: the highest H.264 level we take (level_idc; 31 = level 3.1, 1280x720 at 30).
  int h264_max_level_idc = 31;
};

struct MediaPolicy {
  // Our preference order (configuration). telephone-event here is ignored: see below.
  std::vector<Codec> audio_codecs{{"opus", 48000, 2}, {"G722", 8000, 1}, {"PCMU", 8000, 1}, {"PCMA", 8000, 1}};
  bool telephone_event = true;  // RFC 4733 DTMF events, answered when offered and always offered
  // SAVP/SAVPF and DTLS (UDP/TLS/RTP/...) streams are recognised, but accepted only when this is
  // set; the media layer must then give each accepted stream its keying attributes
  // (MediaPorts::extra_attributes: a=crypto, or a=fingerprint/a=setup with ICE).
  bool accept_srtp = false;
  // A room with `encryption: required` refuses plain RTP/AVP(F) sections (488 when none is left).
  bool require_srtp = false;
  int ptime_ms = 20;  // when the offer has no a=ptime (RFC 8866 §6.4)
  // A participant sends one voice; a second audio m-line is answered with port 0.
  std::size_t max_audio_streams = 1;
  VideoPolicy video;  // off by default: video sections are answered with port 0
  // An offer with more m-lines is refused (488) before any section is looked at: bounded work.
  std::size_t max_sections = 64;
};

struct LocalMediaAddress {
  std::string address;  // our RTP address as text: IPv4 or IPv6 ("[...]" accepted)
};

struct MediaPorts {
  std::vector<std::uint16_t> rtp_ports;  // one per accepted section, in m-line order
  // Optional, per accepted section in the same order: attributes added verbatim to that
  // section (SRTP keying, ICE). Missing entries add nothing.
  std::vector<std::vector<Attribute>> extra_attributes;
};

// o= of what we send. RFC 3264 §8: the caller keeps session_version per dialog and increments it
// for each new description it sends (an unchanged re-answer may reuse it).
struct OriginInfo {
  std::string username = "chorus";
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  std::string session_name = "Chorus";
};

// What the UA core learns per media section (index = m-line position, 0-based).
struct NegotiatedStream {
  std::size_t index = 0;
  // false: port 0 on either side or nothing usable; the fields below are unset, except mid and
  // remote_direction
  bool accepted = false;
  std::string media;     // "audio" or "video", as in the m-line
  std::string protocol;  // "RTP/AVP", "RTP/AVPF", ...
  Codec codec;
  int payload_type = -1;
  std::optional<int> telephone_event_pt;
  int telephone_event_clock_rate = 8000;
  int ptime_ms = 20;
  Direction local_direction = Direction::kInactive;  // what we do: sendonly = we send only
  std::string remote_address;                        // where to send RTP
  std::uint16_t remote_port = 0;
  std::uint16_t remote_rtcp_port = 0;  // RFC 3605 a=rtcp, else RTP port + 1 (or mux)
  bool rtcp_mux = false;               // RFC 5761: RTCP on the RTP port

  // Every section, accepted or not:
  std::string mid;                                    // RFC 5888 a=mid, "" when none
  Direction remote_direction = Direction::kSendRecv;  // what the peer said for itself
  // Accepted sections (audio too, except video_formats and receive_rids; extensions and
  // rtcp_rsize only when video is enabled):
  // Video: every accepted format in our preference order; codec/payload_type keep the first.
  std::vector<VideoFormat> video_formats;
  std::vector<HeaderExtension> extensions;    // the answered a=extmap (RFC 8285 §6)
  std::vector<SimulcastRid> receive_rids;     // simulcast we receive (the offer's a=simulcast:send)
  std::size_t simulcast_layers_dropped = 0;   // offered layers beyond VideoPolicy::max_simulcast_layers
  std::vector<std::uint32_t> remote_ssrcs;    // a=ssrc ids of the section, first kMaxRemoteSsrcs
  std::vector<SsrcGroup> remote_ssrc_groups;  // a=ssrc-group (FID, SIM, FEC-FR...), first kMaxSsrcGroups
  std::optional<std::string> content;         // RFC 4796 a=content ("main", "slides", ...)
  std::uint64_t remote_max_bitrate_bps = 0;   // b=TIAS, else b=AS * 1000 (media level, else session); 0: none
  bool rtcp_rsize = false;                    // RFC 5506 a=rtcp-rsize offered and answered
  // RFC 8843 §6: offered with port 0 and a=bundle-only, accepted on the BUNDLE transport: the
  // caller gives it the bundle's port (remote_port stays 0; media arrives on the bundle).
  bool bundle_only = false;
};

// Bounds on what a section's report keeps (the rest is ignored and noted).
inline constexpr std::size_t kMaxRemoteSsrcs = 64;
// Video formats a section accepts (Chrome's offer yields 3): the answer writes up to nine lines per
// format, so an offer listing every payload type as VP8 must not make the answer balloon.
inline constexpr std::size_t kMaxVideoFormats = 8;
inline constexpr std::size_t kMaxSsrcGroups = 32;

// Why a negotiation failed, as a SIP response and a Warning (RFC 3261 §20.43).
struct NegotiationError {
  int sip_status = 488;
  int warning_code = 305;  // 302 transport, 304 media type, 305 media format, 399 misc
  std::string reason;      // short, ASCII, no quotes: "No common codec"
  // `<code> <agent> "<reason>"`, the value of a Warning header.
  [[nodiscard]] std::string warning_value(std::string_view agent) const;
};

// Why a section was answered with port 0.
enum class RejectReason {
  kNone,                // accepted
  kDisabledByOfferer,   // port 0 in the offer
  kMediaType,           // neither audio nor video, or video while MediaPolicy::video.enabled is off
  kTransport,           // not an RTP profile (TCP/MSRP, udp, ...)
  kSrtpNotAccepted,     // SAVP/SAVPF/DTLS while MediaPolicy::accept_srtp is false
  kEncryptionRequired,  // RTP/AVP(F) while MediaPolicy::require_srtp is set
  kNoCommonCodec,
  kNoAddress,  // no c= for the section
  kMulticast,
  kPortCount,       // m=<media> <port>/<n> with n > 1 (layered encoding)
  kTooManyStreams,  // beyond max_audio_streams, or video beyond both max_receive/max_send_streams
};
std::string_view to_string(RejectReason reason);

struct PlannedSection {
  NegotiatedStream stream;
  RejectReason reject_reason = RejectReason::kNone;
  // The answer's m-line formats and attributes (rtpmap, fmtp, ptime, direction, rtcp-mux, mid).
  std::vector<std::string> answer_formats;
  std::vector<Attribute> answer_attributes;
  // What was offered but left out, in words for a log line ("rtx 99 names no format (apt=98)");
  // at most kMaxSectionNotes.
  std::vector<std::string> notes;
};
inline constexpr std::size_t kMaxSectionNotes = 16;

struct AnswerPlan {
  std::vector<PlannedSection> sections;  // one per offered m-line, same order (RFC 3264 §6)
  bool hold = false;                     // the offer puts us on hold (is_hold)

  [[nodiscard]] std::size_t ports_needed() const;
  [[nodiscard]] std::vector<NegotiatedStream> streams() const;  // every section, accepted or not
};

// RFC 3264 §6: decides the answer. Errors: 488 when no section is acceptable (the reason says
// whether for codecs, SRTP, transport or media type), or when the offer has more than
// policy.max_sections m-lines (Warning 399).
std::expected<AnswerPlan, NegotiationError> plan_answer(const SessionDescription& offer, const MediaPolicy& policy);

// The answer for `plan`: c= with our address (IP4 or IP6), t=0 0, one m-line per offered one,
// accepted sections on `ports` in order. Fails (500) when ports or the address are missing, or
// when an accepted SRTP section has no keying attributes in ports.extra_attributes.
std::expected<SessionDescription, NegotiationError> build_answer(const AnswerPlan& plan, const LocalMediaAddress& local,
                                                                 const MediaPorts& ports, const OriginInfo& origin);

// Our offer when the INVITE had none: one audio m-line, RTP/AVP, every policy codec (RFC 3551
// static payload types where they exist, 96 upwards otherwise), telephone-event 101, ptime.
// Uses ports.rtp_ports[0]. `direction` is sendonly/inactive when we put the peer on hold.
std::expected<SessionDescription, NegotiationError> build_offer(const MediaPolicy& policy,
                                                                const LocalMediaAddress& local, const MediaPorts& ports,
                                                                const OriginInfo& origin,
                                                                Direction direction = Direction::kSendRecv);

// RFC 3264 §7: reads the answer to `our_offer`. The answer must have as many m-lines; each
// section's codec is the first answered format that we offered. Every section is reported
// (accepted or not); no accepted audio is an error (the UA ends the call). Audio only: our
// offers have one audio m-line, and an answered section of another media type is not accepted.
std::expected<std::vector<NegotiatedStream>, NegotiationError> accept_answer(const SessionDescription& our_offer,
                                                                             const SessionDescription& answer);

// RFC 3264 §8.4 / RFC 6337 §5.3: whether this offer holds us — every active audio stream is
// sendonly or inactive, or has c=0.0.0.0 (the RFC 2543 form; not in a section using ICE, where
// WebRTC writes 0.0.0.0 as a placeholder, RFC 8839 §5.1). Resuming is an offer that is not.
bool is_hold(const SessionDescription& offer);

}  // namespace chorus::sdp
