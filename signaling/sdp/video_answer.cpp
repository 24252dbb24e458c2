#include "signaling/sdp/video_answer.hpp"

#include <algorithm>
#include <array>

#include "signaling/sdp/answer_common.hpp"
#include "signaling/sdp/format_parameters.hpp"
#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp::detail {
namespace {

constexpr int kVideoClockRate = 90000;  // RFC 7741 §6.1, RFC 6184 §8.1, RFC 4588 §8.1
constexpr int kMaxPayloadType = 127;
constexpr int kDefaultH264LevelIdc = 31;  // 3.1, when VideoPolicy::h264_max_level_idc is not a level

// What the offer says about one payload type of the section.
struct OfferedFormat {
  bool listed = false;  // on the m= line
  std::optional<RtpMapView> map;
  std::optional<std::string_view> fmtp;
  FeedbackSupport feedback;  // the rtcp-fb offered for it, "*" included
};

// The section's formats indexed by payload type: one pass over the attributes instead of one per
// format, so a section with many formats and attributes costs their sum, not their product.
struct OfferedFormats {
  std::array<OfferedFormat, kMaxPayloadType + 1> by_pt{};
  std::vector<int> order;  // listed payload types in m= order, each once
};

void mark_feedback(FeedbackSupport& f, const RtcpFeedbackView& fb) {
  if (fb.type == "nack" && fb.parameter.empty()) f.nack = true;
  if (fb.type == "nack" && fb.parameter == "pli") f.nack_pli = true;
  if (fb.type == "ccm" && fb.parameter == "fir") f.ccm_fir = true;
  if (fb.type == "goog-remb") f.goog_remb = true;
  if (fb.type == "transport-cc") f.transport_cc = true;
}

void merge_feedback(FeedbackSupport& into, const FeedbackSupport& from) {
  into.nack = into.nack || from.nack;
  into.nack_pli = into.nack_pli || from.nack_pli;
  into.ccm_fir = into.ccm_fir || from.ccm_fir;
  into.goog_remb = into.goog_remb || from.goog_remb;
  into.transport_cc = into.transport_cc || from.transport_cc;
}

void index_attribute(const Attribute& a, OfferedFormats& out, FeedbackSupport& wildcard, PlannedSection& s) {
  if (iequals(a.name, "rtpmap")) {
    auto map = parse_rtpmap(*a.value);
    if (map && !out.by_pt[map->payload_type].map) out.by_pt[map->payload_type].map = map;
  } else if (iequals(a.name, "fmtp")) {
    std::string_view rest = *a.value;
    auto pt = parse_int(next_token(rest), kMaxPayloadType);
    if (pt && !out.by_pt[*pt].fmtp) out.by_pt[*pt].fmtp = trim(rest);
  } else if (iequals(a.name, "rtcp-fb")) {
    auto fb = parse_rtcp_fb(*a.value);
    if (!fb) {
      add_note(s, "a=rtcp-fb ignored: " + std::string(fb.error()));
      return;
    }
    mark_feedback(fb->payload_type ? out.by_pt[*fb->payload_type].feedback : wildcard, *fb);
  }
}

OfferedFormats index_formats(const MediaDescription& m, PlannedSection& s) {
  OfferedFormats out;
  for (const auto& text : m.formats) {
    auto pt = parse_int(text, kMaxPayloadType);
    if (!pt || out.by_pt[*pt].listed) continue;
    out.by_pt[*pt].listed = true;
    out.order.push_back(*pt);
  }
  FeedbackSupport wildcard;  // RFC 4585 §4.2: "*" applies to every format of the section
  for (const auto& a : m.attributes) {
    if (a.value) index_attribute(a, out, wildcard, s);
  }
  for (auto& f : out.by_pt) merge_feedback(f.feedback, wildcard);
  return out;
}

std::string refused(int pt, std::string_view why) {
  return "H264 " + std::to_string(pt) + " refused: " + std::string(why);
}

// RFC 6184 §8.2.2: the answer's fmtp for an acceptable H.264 format, else nullopt (and a note).
std::optional<std::string> h264_answer_fmtp(int pt, std::string_view fmtp, int max_level_idc, PlannedSection& s) {
  const auto params = parse_format_parameters(fmtp);
  if (!params) {
    add_note(s, refused(pt, params.error()));
    return std::nullopt;
  }
  // §8.1: packetization-mode 0 (absent) sends one NAL unit per packet; the SFU forwards mode 1.
  if (format_parameter(*params, "packetization-mode") != "1") {
    add_note(s, refused(pt, "packetization-mode is not 1"));
    return std::nullopt;
  }
  // §8.1: without profile-level-id, Baseline at level 1 is meant.
  const auto offered =
      parse_h264_profile_level_id(format_parameter(*params, "profile-level-id").value_or(kDefaultH264ProfileLevelId));
  if (!offered) {
    add_note(s, refused(pt, offered.error()));
    return std::nullopt;
  }
  const H264Profile profile = h264_profile(*offered);
  if (profile != H264Profile::kConstrainedBaseline && profile != H264Profile::kBaseline) {
    add_note(s, refused(pt, "profile is not Constrained Baseline or Baseline"));
    return std::nullopt;
  }
  const auto offered_rank = h264_level_rank(*offered);
  if (!offered_rank) {
    add_note(s, refused(pt, "level_idc is not an H.264 level"));
    return std::nullopt;
  }
  auto ours = h264_level_rank(H264ProfileLevelId{0x64, 0, static_cast<std::uint8_t>(max_level_idc)});
  if (max_level_idc < 0 || max_level_idc > 255 || !ours) {
    ours = h264_level_rank(H264ProfileLevelId{0x64, 0, kDefaultH264LevelIdc});
  }
  // With level-asymmetry-allowed=1 in both (we always write it) the answer's level is the highest
  // we receive; otherwise both directions use the lower of the two.
  const bool asymmetric = format_parameter(*params, "level-asymmetry-allowed") == "1";
  const int rank = asymmetric ? *ours : std::min(*ours, *offered_rank);
  const auto answered = with_h264_level_rank(*offered, rank);
  return "profile-level-id=" + to_string(*answered) + ";packetization-mode=1;level-asymmetry-allowed=1";
}

// The answer's fmtp when `ours` takes this offered format, else nullopt.
std::optional<std::string> accept_format(const Codec& ours, int pt, const OfferedFormat& f, const VideoPolicy& policy,
                                         PlannedSection& s) {
  if (!f.map || !iequals(f.map->encoding, ours.name) || f.map->clock_rate != ours.clock_rate) return std::nullopt;
  if (f.map->clock_rate != kVideoClockRate) return std::nullopt;
  if (iequals(ours.name, "VP8")) return std::string();  // RFC 7741 §6.1: max-fr/max-fs are the receiver's
  if (iequals(ours.name, "H264")) return h264_answer_fmtp(pt, f.fmtp.value_or(""), policy.h264_max_level_idc, s);
  return std::nullopt;  // a codec the SFU cannot forward
}

std::vector<VideoFormat> choose_formats(const OfferedFormats& offered, const VideoPolicy& policy, PlannedSection& s) {
  std::vector<VideoFormat> out;
  for (const Codec& ours : policy.codecs) {
    for (int pt : offered.order) {
      if (std::ranges::any_of(out, [pt](const VideoFormat& v) { return v.payload_type == pt; })) continue;
      const OfferedFormat& f = offered.by_pt[static_cast<std::size_t>(pt)];
      auto fmtp = accept_format(ours, pt, f, policy, s);
      if (!fmtp) continue;
      if (out.size() == kMaxVideoFormats) {
        add_note(s, "video format " + std::to_string(pt) + " ignored: kMaxVideoFormats already taken");
        continue;
      }
      out.push_back(VideoFormat{Codec{std::string(f.map->encoding), kVideoClockRate, 1},
                                pt,
                                std::move(*fmtp),
                                std::string(f.fmtp.value_or("")),
                                std::nullopt,
                                {}});
    }
  }
  return out;
}

// RFC 4588 §8.1: each rtx/90000 format repairs the one its apt= names; the first rtx offered for
// an accepted format is taken.
void attach_rtx(const OfferedFormats& offered, std::vector<VideoFormat>& formats, PlannedSection& s) {
  for (int pt : offered.order) {
    const OfferedFormat& f = offered.by_pt[static_cast<std::size_t>(pt)];
    if (!f.map || !iequals(f.map->encoding, "rtx") || f.map->clock_rate != kVideoClockRate) continue;
    const auto apt = f.fmtp ? rtx_associated_payload_type(*f.fmtp) : std::nullopt;
    if (!apt || !offered.by_pt[static_cast<std::size_t>(*apt)].listed) {
      add_note(s, "rtx " + std::to_string(pt) + " ignored: its apt= names no offered format");
      continue;
    }
    auto target = std::ranges::find(formats, *apt, &VideoFormat::payload_type);
    if (target != formats.end() && !target->rtx_payload_type) target->rtx_payload_type = pt;
  }
}

void write_feedback(const std::string& pt, const FeedbackSupport& f, PlannedSection& s) {
  auto line = [&](std::string_view value) {
    s.answer_attributes.push_back({"rtcp-fb", pt + " " + std::string(value)});
  };
  if (f.nack) line("nack");
  if (f.nack_pli) line("nack pli");
  if (f.ccm_fir) line("ccm fir");
  if (f.goog_remb) line("goog-remb");
  if (f.transport_cc) line("transport-cc");
}

// m= formats and their lines: each accepted format, then its rtx (RFC 3264 §6.1: our preference
// order, the offer's numbers).
void write_formats(const std::vector<VideoFormat>& formats, PlannedSection& s) {
  for (const VideoFormat& v : formats) {
    const std::string pt = std::to_string(v.payload_type);
    s.answer_formats.push_back(pt);
    s.answer_attributes.push_back({"rtpmap", rtpmap_value(pt, v.codec.name, v.codec.clock_rate, 1)});
    if (!v.fmtp.empty()) s.answer_attributes.push_back({"fmtp", pt + " " + v.fmtp});
    write_feedback(pt, v.feedback, s);
    if (!v.rtx_payload_type) continue;
    const std::string rtx = std::to_string(*v.rtx_payload_type);
    s.answer_formats.push_back(rtx);
    s.answer_attributes.push_back({"rtpmap", rtpmap_value(rtx, "rtx", kVideoClockRate, 1)});
    s.answer_attributes.push_back({"fmtp", rtx + " apt=" + pt});
  }
}

// The direction we answer within the stream budgets (see video_answer.hpp), or kTooManyStreams.
RejectReason choose_direction(const SessionDescription& offer, const MediaDescription& m, const VideoPolicy& policy,
                              VideoBudget& budget, PlannedSection& s) {
  const Direction offered = offer.effective_direction(m);
  const bool peer_sends = sends(offered);
  const bool peer_receives = receives(offered) && !address_holds(offer, m, offer.effective_connection(m));
  const bool receive = peer_sends && budget.receive < policy.max_receive_streams;
  const bool send = peer_receives && budget.send < policy.max_send_streams;
  if ((peer_sends || peer_receives) && !receive && !send) return RejectReason::kTooManyStreams;
  if (peer_sends && !receive) add_note(s, "not receiving: max_receive_streams reached");
  if (peer_receives && !send) add_note(s, "not sending: max_send_streams reached");
  budget.receive += receive ? 1 : 0;
  budget.send += send ? 1 : 0;
  s.stream.local_direction = make_direction(send, receive);
  return RejectReason::kNone;
}

// The offer's a=rid lines declaring what it sends (RFC 8851 §4), malformed ones noted.
std::vector<RidView> declared_send_rids(const MediaDescription& m, PlannedSection& s) {
  std::vector<RidView> out;
  for (const auto& a : m.attributes) {
    if (!a.value || !iequals(a.name, "rid")) continue;
    auto rid = parse_rid(*a.value);
    if (!rid) {
      add_note(s, "a=rid ignored: " + std::string(rid.error()));
    } else if (rid->direction == RidDirection::kSend && out.size() < kMaxSimulcastIds &&
               std::ranges::find(out, rid->id, &RidView::id) == out.end()) {
      out.push_back(std::move(*rid));
    }
  }
  return out;
}

// A simulcast alternative we can receive: declared "send", and (RFC 8851 §6.2.2) restricted to
// no payload type or to at least one we accepted.
bool receivable(const SimulcastIdView& id, const std::vector<RidView>& declared,
                const std::vector<VideoFormat>& formats) {
  auto rid = std::ranges::find(declared, id.rid, &RidView::id);
  if (rid == declared.end()) return false;
  if (rid->payload_types.empty()) return true;
  return std::ranges::any_of(rid->payload_types, [&](int pt) {
    return std::ranges::find(formats, pt, &VideoFormat::payload_type) != formats.end();
  });
}

std::string simulcast_value(const std::vector<SimulcastStreamView>& streams) {
  std::string v = "recv ";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i > 0) v.push_back(';');
    for (std::size_t j = 0; j < streams[i].size(); ++j) {
      if (j > 0) v.push_back(',');
      if (streams[i][j].paused) v.push_back('~');
      v.append(streams[i][j].rid);
    }
  }
  return v;
}

// RFC 8853 §5.3.2: the answer to "a=simulcast:send" receives at most max_layers of the offered
// streams (the first ones), each keeping its receivable alternatives and '~'; rids appear as
// "a=rid:<id> recv". Needs the rtp-stream-id header extension (RFC 8852 §3.1) to tell the layers
// apart; without it, or without a usable a=simulcast, the section is a plain single stream.
void answer_simulcast(const MediaDescription& m, std::size_t max_layers, PlannedSection& s) {
  const auto value = m.attribute_value("simulcast");
  if (!value) {
    if (m.has_attribute("rid")) add_note(s, "a=rid ignored: no a=simulcast");
    return;
  }
  auto offered = parse_simulcast(*value);
  if (!offered) return add_note(s, "a=simulcast ignored: " + std::string(offered.error()));
  if (offered->send.empty()) return add_note(s, "a=simulcast ignored: the offerer sends no simulcast");
  if (std::ranges::find(s.stream.extensions, kRtpStreamIdUri, &HeaderExtension::uri) == s.stream.extensions.end()) {
    return add_note(s, "a=simulcast ignored: the rtp-stream-id header extension is not offered");
  }
  const auto declared = declared_send_rids(m, s);
  std::vector<SimulcastStreamView> kept;
  for (const auto& stream : offered->send) {
    SimulcastStreamView alternatives;
    for (const auto& id : stream) {
      if (receivable(id, declared, s.stream.video_formats)) alternatives.push_back(id);
    }
    if (alternatives.empty()) {
      add_note(s, "simulcast stream dropped: its rids are not declared a=rid send for an accepted format");
    } else if (kept.size() < max_layers) {
      kept.push_back(std::move(alternatives));
    } else {
      ++s.stream.simulcast_layers_dropped;
    }
  }
  if (s.stream.simulcast_layers_dropped > 0) {
    add_note(s, std::to_string(s.stream.simulcast_layers_dropped) + " simulcast layers beyond " +
                    std::to_string(max_layers) + " dropped");
  }
  if (kept.empty()) return;
  for (const auto& stream : kept) {
    for (const auto& id : stream) {
      s.answer_attributes.push_back({"rid", std::string(id.rid) + " recv"});
      s.stream.receive_rids.push_back(SimulcastRid{std::string(id.rid), id.paused});
    }
  }
  s.answer_attributes.push_back({"simulcast", simulcast_value(kept)});
}

}  // namespace

RejectReason plan_video(const SessionDescription& offer, const MediaDescription& m, const MediaPolicy& policy,
                        VideoBudget& budget, PlannedSection& s) {
  const OfferedFormats offered = index_formats(m, s);
  std::vector<VideoFormat> formats = choose_formats(offered, policy.video, s);
  if (formats.empty()) return RejectReason::kNoCommonCodec;
  if (auto r = choose_direction(offer, m, policy.video, budget, s); r != RejectReason::kNone) return r;

  NegotiatedStream& n = s.stream;
  n.extensions = answer_extensions(offer, m, video_extension_uris(), s);
  const bool transport_cc =
      std::ranges::find(n.extensions, kTransportWideCcUri, &HeaderExtension::uri) != n.extensions.end();
  attach_rtx(offered, formats, s);
  for (VideoFormat& v : formats) {
    v.feedback = offered.by_pt[static_cast<std::size_t>(v.payload_type)].feedback;
    v.feedback.transport_cc = v.feedback.transport_cc && transport_cc;
  }
  write_formats(formats, s);
  n.accepted = true;
  n.codec = formats.front().codec;
  n.payload_type = formats.front().payload_type;
  n.video_formats = std::move(formats);
  fill_remote(n, m, offer.effective_connection(m), m.rtcp_mux());

  s.answer_attributes.push_back({std::string(to_string(n.local_direction)), std::nullopt});
  if (n.rtcp_mux) s.answer_attributes.push_back({"rtcp-mux", std::nullopt});  // RFC 5761 §5.1.1
  answer_rtcp_rsize(m, s);
  // RFC 4796 §5: the content label is echoed so a room system knows which stream is which.
  if (auto content = m.attribute_value("content"); content && parse_content(*content)) {
    s.answer_attributes.push_back({"content", std::string(trim(*content))});
  }
  if (receives(n.local_direction)) answer_simulcast(m, policy.video.max_simulcast_layers, s);
  return RejectReason::kNone;
}

}  // namespace chorus::sdp::detail
