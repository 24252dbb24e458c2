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
// Only audio is accepted for now; other media sections are answered with port 0 (RFC 3264 §6).
// The planner decides per media type (plan_section() in offer_answer.cpp), so video gets its own
// policy and planner beside audio's without changing these signatures.
// Pure functions over value types: safe on any thread, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {

struct Codec {
  std::string name;  // encoding name as in rtpmap, matched case-insensitively
  int clock_rate = 8000;
  int channels = 1;  // opus is always 2 in SDP (RFC 7587 §7), whatever is configured here
  bool operator==(const Codec&) const = default;
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
  bool accepted = false;  // false: port 0 on either side or nothing usable; the fields below are unset
  std::string media;      // "audio", as in the m-line
  std::string protocol;   // "RTP/AVP", "RTP/AVPF", ...
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
};

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
  kMediaType,           // not audio (video comes later)
  kTransport,           // not an RTP profile (TCP/MSRP, udp, ...)
  kSrtpNotAccepted,     // SAVP/SAVPF/DTLS while MediaPolicy::accept_srtp is false
  kEncryptionRequired,  // RTP/AVP(F) while MediaPolicy::require_srtp is set
  kNoCommonCodec,
  kNoAddress,  // no c= for the section
  kMulticast,
  kPortCount,       // m=<media> <port>/<n> with n > 1 (layered encoding)
  kTooManyStreams,  // beyond MediaPolicy::max_audio_streams
};
std::string_view to_string(RejectReason reason);

struct PlannedSection {
  NegotiatedStream stream;
  RejectReason reject_reason = RejectReason::kNone;
  // The answer's m-line formats and attributes (rtpmap, fmtp, ptime, direction, rtcp-mux, mid).
  std::vector<std::string> answer_formats;
  std::vector<Attribute> answer_attributes;
};

struct AnswerPlan {
  std::vector<PlannedSection> sections;  // one per offered m-line, same order (RFC 3264 §6)
  bool hold = false;                     // the offer puts us on hold (is_hold)

  [[nodiscard]] std::size_t ports_needed() const;
  [[nodiscard]] std::vector<NegotiatedStream> streams() const;  // every section, accepted or not
};

// RFC 3264 §6: decides the answer. Errors: 488 when no section is acceptable (the reason says
// whether for codecs, SRTP, transport or media type).
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
// (accepted or not); no accepted audio is an error (the UA ends the call).
std::expected<std::vector<NegotiatedStream>, NegotiationError> accept_answer(const SessionDescription& our_offer,
                                                                             const SessionDescription& answer);

// RFC 3264 §8.4 / RFC 6337 §5.3: whether this offer holds us — every active audio stream is
// sendonly or inactive, or has c=0.0.0.0 (the RFC 2543 form; not in a section using ICE, where
// WebRTC writes 0.0.0.0 as a placeholder, RFC 8839 §5.1). Resuming is an offer that is not.
bool is_hold(const SessionDescription& offer);

}  // namespace chorus::sdp
