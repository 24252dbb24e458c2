#include "signaling/sdp/offer_answer.hpp"

#include <algorithm>

#include "signaling/sdp/answer_common.hpp"
#include "signaling/sdp/bundle.hpp"
#include "signaling/sdp/sdp_text.hpp"
#include "signaling/sdp/video_answer.hpp"

namespace chorus::sdp {
namespace {

using detail::address_holds;
using detail::fill_remote;
using detail::iequals;
using detail::rtpmap_value;

constexpr int kTelephoneEventPt = 101;  // the customary RFC 4733 dynamic payload type
constexpr int kFirstDynamicPt = 96;     // RFC 3551 §6: 96-127 are dynamic
constexpr int kLastDynamicPt = 127;
constexpr int kMinPtimeMs = 10;
constexpr int kMaxPtimeMs = 120;

NegotiationError failure(int status, int warning, std::string reason) {
  return NegotiationError{status, warning, std::move(reason)};
}

// RFC 7587 §7: opus is always "opus/48000/2" in SDP, whatever the stream carries.
bool is_opus(std::string_view name) {
  return iequals(name, "opus");
}
bool is_telephone_event(std::string_view name) {
  return iequals(name, "telephone-event");
}
bool is_comfort_noise(std::string_view name) {
  return iequals(name, "CN");
}

int sdp_channels(const Codec& c) {
  return is_opus(c.name) ? 2 : c.channels;
}

bool codec_matches(const Codec& ours, const RtpMapView& offered) {
  return iequals(ours.name, offered.encoding) && ours.clock_rate == offered.clock_rate &&
         sdp_channels(ours) == offered.channels;
}

// ptime attribute from the media section, else the session level (some stacks put it there).
std::optional<int> offered_ptime(const SessionDescription& sd, const MediaDescription& m) {
  if (auto p = m.ptime()) return p;
  if (auto v = sd.attribute_value("ptime")) return detail::parse_int(detail::trim(*v), 10'000);
  return std::nullopt;
}

// RFC 3264 §6.1: answer with the offered ptime when it is sane, else ours, no larger than the
// offer's maxptime.
int choose_ptime(const SessionDescription& sd, const MediaDescription& m, int ours) {
  if (auto p = offered_ptime(sd, m); p && *p >= kMinPtimeMs && *p <= kMaxPtimeMs) return *p;
  if (auto max = m.maxptime(); max && *max >= kMinPtimeMs && *max < ours) return *max;
  return ours;
}

struct OfferedFormat {
  std::string_view pt;
  RtpMapView map;
};

// What plan_answer() knows across sections: the policy, the BUNDLE groups (for bundle-only
// sections) and the streams accepted so far, counted in m-line order.
struct PlanContext {
  const SessionDescription& offer;
  const MediaPolicy& policy;
  std::vector<std::vector<std::string>> bundles;  // only read with video enabled
  std::size_t audio_accepted = 0;
  detail::VideoBudget video;
};

// RFC 8843 §6: a bundle-only section is offered with port 0 and a=bundle-only, to be accepted on
// the BUNDLE transport; it must be in a BUNDLE group to have one. Negotiated only in calls with
// video enabled (a browser using max-bundle marks every section but the first so).
bool is_bundle_only(const PlanContext& ctx, const MediaDescription& m) {
  if (!ctx.policy.video.enabled || m.port != 0 || !m.has_attribute("bundle-only")) return false;
  auto mid = m.mid();
  return mid && std::ranges::any_of(ctx.bundles, [&](const auto& group) {
           return std::ranges::find(group, detail::trim(*mid)) != group.end();
         });
}

// Checks that do not depend on codecs, in the order that gives the most useful reason.
RejectReason admission(const PlanContext& ctx, const MediaDescription& m, bool bundle_only) {
  const MediaPolicy& policy = ctx.policy;
  if (m.port == 0 && !bundle_only) return RejectReason::kDisabledByOfferer;
  const MediaType type = m.type();
  if (type != MediaType::kAudio && !(type == MediaType::kVideo && policy.video.enabled)) {
    return RejectReason::kMediaType;
  }
  TransportProtocol t = m.transport();
  if (!is_rtp(t)) return RejectReason::kTransport;
  if (is_secure(t) && !policy.accept_srtp) return RejectReason::kSrtpNotAccepted;
  if (!is_secure(t) && policy.require_srtp) return RejectReason::kEncryptionRequired;
  if (m.port_count && *m.port_count > 1) return RejectReason::kPortCount;
  const Connection* c = ctx.offer.effective_connection(m);
  // A bundle-only section's media arrives on the bundle's transport: its own c= does not matter.
  if (!bundle_only && (c == nullptr || c->address.empty())) return RejectReason::kNoAddress;
  if (c != nullptr && c->is_multicast()) return RejectReason::kMulticast;
  if (type == MediaType::kAudio && ctx.audio_accepted >= policy.max_audio_streams) {
    return RejectReason::kTooManyStreams;
  }
  return RejectReason::kNone;
}

// Our preferred codec among the offered formats (RFC 3264 §6.1: the answerer's preference may
// differ from the offerer's; the offerer's payload type numbers are kept).
std::pair<const OfferedFormat*, const Codec*> pick_codec(const std::vector<OfferedFormat>& offered,
                                                         const MediaPolicy& policy) {
  for (const Codec& ours : policy.audio_codecs) {
    if (is_telephone_event(ours.name)) continue;  // not a voice codec; MediaPolicy::telephone_event
    for (const OfferedFormat& f : offered) {
      if (codec_matches(ours, f.map)) return {&f, &ours};
    }
  }
  return {nullptr, nullptr};
}

// RFC 4733 §2.1: events at the voice codec's clock rate when offered (WebRTC offers both 48000
// and 8000), else the first one offered.
const OfferedFormat* pick_telephone_event(const std::vector<OfferedFormat>& offered, int clock_rate) {
  const OfferedFormat* found = nullptr;
  for (const OfferedFormat& f : offered) {
    if (!is_telephone_event(f.map.encoding)) continue;
    if (f.map.clock_rate == clock_rate) return &f;
    if (found == nullptr) found = &f;
  }
  return found;
}

// Whether the section offers transport-cc feedback (RFC 4585 §4.2) for `pt` or for "*".
bool offers_transport_cc(const MediaDescription& m, std::string_view pt) {
  auto number = detail::parse_int(pt, 127);
  return std::ranges::any_of(m.attribute_values("rtcp-fb"), [&](std::string_view value) {
    auto fb = parse_rtcp_fb(value);
    return fb && fb->type == "transport-cc" && (!fb->payload_type || fb->payload_type == number);
  });
}

// With video enabled, a browser's audio section also negotiates its RTP extras: the header
// extensions (RFC 8285 §6), reduced-size RTCP (RFC 5506) and transport-cc feedback for the codec
// when its extension is answered, so audio shares the call's bandwidth estimation.
void answer_audio_rtp_extras(const SessionDescription& offer, const MediaDescription& m, std::string_view pt,
                             PlannedSection& s) {
  detail::answer_rtcp_rsize(m, s);
  s.stream.extensions = detail::answer_extensions(offer, m, detail::audio_extension_uris(), s);
  const bool transport_cc =
      std::ranges::find(s.stream.extensions, kTransportWideCcUri, &HeaderExtension::uri) != s.stream.extensions.end();
  if (transport_cc && offers_transport_cc(m, pt))
    s.answer_attributes.push_back({"rtcp-fb", std::string(pt) + " transport-cc"});
}

RejectReason plan_audio(const SessionDescription& offer, const MediaDescription& m, const MediaPolicy& policy,
                        PlannedSection& s) {
  std::vector<OfferedFormat> offered;
  offered.reserve(m.formats.size());
  for (const auto& f : m.formats) {
    if (auto map = m.payload_mapping(f)) offered.push_back(OfferedFormat{f, *map});
  }
  auto [chosen, ours] = pick_codec(offered, policy);
  if (chosen == nullptr) return RejectReason::kNoCommonCodec;
  const OfferedFormat* te = policy.telephone_event ? pick_telephone_event(offered, chosen->map.clock_rate) : nullptr;

  NegotiatedStream& n = s.stream;
  n.accepted = true;
  n.codec = Codec{ours->name, ours->clock_rate, sdp_channels(*ours)};
  n.payload_type = chosen->map.payload_type;
  n.ptime_ms = choose_ptime(offer, m, policy.ptime_ms);
  const Connection* c = offer.effective_connection(m);
  // RFC 3264 §6.1: our direction mirrors the offer's; we do not send to a held address.
  Direction offered_direction = offer.effective_direction(m);
  n.local_direction =
      make_direction(receives(offered_direction) && !address_holds(offer, m, c), sends(offered_direction));
  fill_remote(n, m, c, m.rtcp_mux());

  // The answer echoes the offerer's encoding spelling and payload numbers.
  s.answer_formats.emplace_back(chosen->pt);
  s.answer_attributes.push_back(
      {"rtpmap", rtpmap_value(chosen->pt, chosen->map.encoding, chosen->map.clock_rate, chosen->map.channels)});
  if (te != nullptr) {
    n.telephone_event_pt = te->map.payload_type;
    n.telephone_event_clock_rate = te->map.clock_rate;
    s.answer_formats.emplace_back(te->pt);
    s.answer_attributes.push_back(
        {"rtpmap", rtpmap_value(te->pt, te->map.encoding, te->map.clock_rate, te->map.channels)});
    // RFC 4733 §7.1.1: the events we accept; we take whatever range was offered (0-15, 0-16).
    if (auto events = m.fmtp(te->pt))
      s.answer_attributes.push_back({"fmtp", std::string(te->pt) + " " + std::string(*events)});
  }
  s.answer_attributes.push_back({"ptime", std::to_string(n.ptime_ms)});
  s.answer_attributes.push_back({std::string(to_string(n.local_direction)), std::nullopt});
  if (n.rtcp_mux) s.answer_attributes.push_back({"rtcp-mux", std::nullopt});  // RFC 5761 §5.1.1
  if (policy.video.enabled) answer_audio_rtp_extras(offer, m, chosen->pt, s);
  return RejectReason::kNone;
}

void reject_section(const MediaDescription& m, RejectReason reason, PlannedSection& s) {
  s.reject_reason = reason;
  s.stream.accepted = false;
  s.answer_formats.clear();
  s.answer_attributes.clear();
  // RFC 3264 §6: a rejected stream keeps its media type and lists at least one format.
  s.answer_formats.push_back(m.formats.empty() ? std::string("0") : m.formats.front());
}

PlannedSection plan_section(PlanContext& ctx, std::size_t index) {
  const SessionDescription& offer = ctx.offer;
  const MediaDescription& m = offer.media[index];
  PlannedSection s;
  s.stream.index = index;
  s.stream.media = m.media;
  s.stream.protocol = m.protocol;
  if (auto mid = m.mid()) s.stream.mid = std::string(detail::trim(*mid));
  s.stream.remote_direction = offer.effective_direction(m);
  const bool bundle_only = is_bundle_only(ctx, m);
  RejectReason reason = admission(ctx, m, bundle_only);
  if (reason == RejectReason::kNone) {
    reason = m.type() == MediaType::kVideo ? detail::plan_video(offer, m, ctx.policy, ctx.video, s)
                                           : plan_audio(offer, m, ctx.policy, s);
  }
  if (reason == RejectReason::kNone) {
    s.stream.bundle_only = bundle_only;
    if (m.type() == MediaType::kAudio) ++ctx.audio_accepted;
    detail::report_remote_streams(offer, m, s);
  } else {
    reject_section(m, reason, s);
  }
  // RFC 5888 §9.1: the answer keeps each offered mid, accepted or not.
  if (auto mid = m.mid()) s.answer_attributes.push_back({"mid", std::string(*mid)});
  return s;
}

// The 488 when no section could be accepted: the most specific reason among the sections.
NegotiationError no_acceptable_stream(const AnswerPlan& plan, const MediaPolicy& policy) {
  auto any = [&plan](RejectReason r) {
    return std::ranges::any_of(plan.sections, [r](const PlannedSection& s) { return s.reject_reason == r; });
  };
  if (any(RejectReason::kNoCommonCodec)) return failure(488, 305, "No common codec");
  if (any(RejectReason::kSrtpNotAccepted)) return failure(488, 302, "SRTP is not supported");
  if (any(RejectReason::kEncryptionRequired)) return failure(488, 302, "Encryption required");
  if (any(RejectReason::kTransport)) return failure(488, 302, "Incompatible transport protocol");
  if (any(RejectReason::kMulticast) || any(RejectReason::kNoAddress)) {
    return failure(488, 301, "Incompatible network address");
  }
  if (any(RejectReason::kPortCount)) return failure(488, 399, "Layered encoding is not supported");
  return failure(488, 304, policy.video.enabled ? "No audio or video stream offered" : "No audio stream offered");
}

}  // namespace

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone:
      return "accepted";
    case RejectReason::kDisabledByOfferer:
      return "disabled by the offerer";
    case RejectReason::kMediaType:
      return "media type not supported";
    case RejectReason::kTransport:
      return "transport protocol not supported";
    case RejectReason::kSrtpNotAccepted:
      return "SRTP not accepted";
    case RejectReason::kEncryptionRequired:
      return "plain RTP refused: the room requires encryption";
    case RejectReason::kNoCommonCodec:
      return "no common codec";
    case RejectReason::kNoAddress:
      return "no connection address";
    case RejectReason::kMulticast:
      return "multicast not supported";
    case RejectReason::kPortCount:
      return "layered encoding not supported";
    case RejectReason::kTooManyStreams:
      return "too many streams of this media type";
  }
  return "unknown";
}

std::string NegotiationError::warning_value(std::string_view agent) const {
  // RFC 3261 §20.43: warning-value = warn-code SP warn-agent SP warn-text (a quoted-string).
  std::string v = std::to_string(warning_code);
  v.append(" ").append(agent).append(" \"");
  for (char c : reason) v.push_back(c == '"' || c == '\\' ? '\'' : c);
  v.push_back('"');
  return v;
}

std::size_t AnswerPlan::ports_needed() const {
  return static_cast<std::size_t>(
      std::ranges::count_if(sections, [](const PlannedSection& s) { return s.stream.accepted; }));
}

std::vector<NegotiatedStream> AnswerPlan::streams() const {
  std::vector<NegotiatedStream> out;
  out.reserve(sections.size());
  for (const auto& s : sections) out.push_back(s.stream);
  return out;
}

std::expected<AnswerPlan, NegotiationError> plan_answer(const SessionDescription& offer, const MediaPolicy& policy) {
  if (offer.media.empty()) return std::unexpected(failure(488, 304, "No media offered"));
  if (offer.media.size() > policy.max_sections) return std::unexpected(failure(488, 399, "Too many media sections"));
  PlanContext ctx{offer, policy, {}, 0, {}};
  if (policy.video.enabled) ctx.bundles = bundle_groups(offer);
  AnswerPlan plan;
  plan.sections.reserve(offer.media.size());
  for (std::size_t i = 0; i < offer.media.size(); ++i) plan.sections.push_back(plan_section(ctx, i));
  // RFC 3264 §6: an offer whose streams are all disabled gets an answer with all ports 0; anything
  // else that leaves us without a stream is refused.
  bool all_disabled = std::ranges::all_of(
      plan.sections, [](const PlannedSection& s) { return s.reject_reason == RejectReason::kDisabledByOfferer; });
  if (plan.ports_needed() == 0 && !all_disabled) return std::unexpected(no_acceptable_stream(plan, policy));
  plan.hold = is_hold(offer);
  return plan;
}

namespace {

// o=, s=, c=, t= of a description we send.
std::expected<SessionDescription, NegotiationError> our_description(const LocalMediaAddress& local,
                                                                    const OriginInfo& origin) {
  Connection c = make_connection(local.address);
  if (c.address.empty()) return std::unexpected(failure(500, 399, "No local media address"));
  SessionDescription sd;
  sd.origin = Origin{origin.username.empty() ? std::string("-") : origin.username,
                     std::to_string(origin.session_id),
                     std::to_string(origin.session_version),
                     "IN",
                     c.address_type,
                     c.address};
  sd.session_name = origin.session_name.empty() ? std::string("-") : origin.session_name;
  sd.connection = std::move(c);
  sd.timings.push_back(Timing{});  // RFC 3264 §5: t=0 0
  return sd;
}

}  // namespace

std::expected<SessionDescription, NegotiationError> build_answer(const AnswerPlan& plan, const LocalMediaAddress& local,
                                                                 const MediaPorts& ports, const OriginInfo& origin) {
  if (ports.rtp_ports.size() < plan.ports_needed()) return std::unexpected(failure(500, 399, "Not enough RTP ports"));
  auto answer = our_description(local, origin);
  if (!answer) return answer;
  answer->media.reserve(plan.sections.size());
  std::size_t next = 0;
  for (const PlannedSection& s : plan.sections) {
    MediaDescription& m = answer->media.emplace_back();
    m.media = s.stream.media;
    m.protocol = s.stream.protocol;  // RFC 3264 §6.1: AVPF answered as AVPF, and so on
    m.formats = s.answer_formats;
    m.attributes = s.answer_attributes;
    if (!s.stream.accepted) continue;  // port 0
    m.port = ports.rtp_ports[next];
    if (m.port == 0) return std::unexpected(failure(500, 399, "RTP port 0 for an accepted stream"));
    const bool has_extra = next < ports.extra_attributes.size() && !ports.extra_attributes[next].empty();
    // RFC 4568 / RFC 5763: an SRTP answer without keying (a=crypto or a=fingerprint) is unusable.
    if (is_secure(classify_protocol(m.protocol)) && !has_extra) {
      return std::unexpected(failure(500, 399, "No SRTP keying for a secure stream"));
    }
    if (has_extra) {
      const auto& extra = ports.extra_attributes[next];
      m.attributes.insert(m.attributes.end(), extra.begin(), extra.end());
    }
    ++next;
  }
  return answer;
}

std::expected<SessionDescription, NegotiationError> build_offer(const MediaPolicy& policy,
                                                                const LocalMediaAddress& local, const MediaPorts& ports,
                                                                const OriginInfo& origin, Direction direction) {
  if (ports.rtp_ports.empty() || ports.rtp_ports.front() == 0) {
    return std::unexpected(failure(500, 399, "No RTP port for the offer"));
  }
  auto offer = our_description(local, origin);
  if (!offer) return offer;
  MediaDescription& m = offer->media.emplace_back();
  m.media = "audio";
  m.port = ports.rtp_ports.front();
  m.protocol = "RTP/AVP";
  int next_dynamic = kFirstDynamicPt;
  for (const Codec& c : policy.audio_codecs) {
    if (is_telephone_event(c.name) || c.name.empty()) continue;
    int channels = sdp_channels(c);
    auto pt = static_payload_type_for(c.name, c.clock_rate, channels);
    if (!pt) {
      if (policy.telephone_event && next_dynamic == kTelephoneEventPt) ++next_dynamic;
      if (next_dynamic > kLastDynamicPt) continue;  // out of dynamic numbers: drop the least preferred
      pt = next_dynamic++;
    }
    std::string pt_text = std::to_string(*pt);
    if (std::ranges::find(m.formats, pt_text) != m.formats.end()) continue;  // configured twice
    m.formats.push_back(pt_text);
    m.add_attribute("rtpmap", rtpmap_value(pt_text, c.name, c.clock_rate, channels));
  }
  if (m.formats.empty()) return std::unexpected(failure(500, 399, "No audio codec configured"));
  if (policy.telephone_event) {
    std::string pt_text = std::to_string(kTelephoneEventPt);
    m.formats.push_back(pt_text);
    m.add_attribute("rtpmap", pt_text + " telephone-event/8000");
    m.add_attribute("fmtp", pt_text + " 0-16");  // RFC 4733 §3.2: DTMF digits and flash
  }
  m.add_attribute("ptime", std::to_string(policy.ptime_ms));
  m.add_attribute(std::string(to_string(direction)));
  return offer;
}

namespace {

// One answered section read against what we offered in it (RFC 3264 §7).
NegotiatedStream read_answered_section(const SessionDescription& our_offer, const MediaDescription& mine,
                                       const SessionDescription& answer, const MediaDescription& theirs) {
  NegotiatedStream s;
  s.media = mine.media;
  s.protocol = mine.protocol;
  if (auto mid = theirs.mid()) s.mid = std::string(detail::trim(*mid));
  s.remote_direction = answer.effective_direction(theirs);
  if (mine.port == 0 || theirs.port == 0 || mine.type() != MediaType::kAudio || theirs.type() != mine.type() ||
      theirs.transport() != mine.transport()) {
    return s;
  }
  const Connection* c = answer.effective_connection(theirs);
  if (c == nullptr || c->address.empty() || c->is_multicast()) return s;
  for (const auto& f : theirs.formats) {
    // Only formats we offered count; their meaning is the one in our offer (RFC 3264 §6.1).
    if (std::ranges::find(mine.formats, f) == mine.formats.end()) continue;
    auto map = mine.payload_mapping(f);
    if (!map) continue;
    if (is_telephone_event(map->encoding)) {
      if (!s.telephone_event_pt) {
        s.telephone_event_pt = map->payload_type;
        s.telephone_event_clock_rate = map->clock_rate;
      }
    } else if (s.payload_type < 0 && !is_comfort_noise(map->encoding)) {
      s.payload_type = map->payload_type;
      s.codec = Codec{std::string(map->encoding), map->clock_rate, map->channels};
    }
  }
  if (s.payload_type < 0) return s;
  s.accepted = true;
  s.ptime_ms = theirs.ptime().value_or(mine.ptime().value_or(20));
  Direction ours = our_offer.effective_direction(mine);
  Direction answered = answer.effective_direction(theirs);
  s.local_direction = make_direction(sends(ours) && receives(answered) && !address_holds(answer, theirs, c),
                                     receives(ours) && sends(answered));
  fill_remote(s, theirs, c, mine.rtcp_mux() && theirs.rtcp_mux());
  return s;
}

}  // namespace

std::expected<std::vector<NegotiatedStream>, NegotiationError> accept_answer(const SessionDescription& our_offer,
                                                                             const SessionDescription& answer) {
  // RFC 3264 §6: exactly one answered m-line per offered one, in order.
  if (answer.media.size() != our_offer.media.size()) {
    return std::unexpected(failure(488, 399, "Answer does not match the offer's media lines"));
  }
  std::vector<NegotiatedStream> streams;
  streams.reserve(answer.media.size());
  bool any_accepted = false;
  for (std::size_t i = 0; i < answer.media.size(); ++i) {
    NegotiatedStream s = read_answered_section(our_offer, our_offer.media[i], answer, answer.media[i]);
    s.index = i;
    any_accepted = any_accepted || s.accepted;
    streams.push_back(std::move(s));
  }
  if (!any_accepted) return std::unexpected(failure(488, 305, "No common codec in the answer"));
  return streams;
}

bool is_hold(const SessionDescription& offer) {
  bool any_audio = false;
  for (const auto& m : offer.media) {
    if (m.port == 0 || m.type() != MediaType::kAudio) continue;
    any_audio = true;
    const Connection* c = offer.effective_connection(m);
    bool peer_receives = receives(offer.effective_direction(m)) && !address_holds(offer, m, c);
    if (peer_receives) return false;
  }
  return any_audio;
}

}  // namespace chorus::sdp
