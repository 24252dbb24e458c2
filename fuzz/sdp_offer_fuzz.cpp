// libFuzzer target for an SDP offer through everything the conference does with it before media
// flows (ConferenceService::answer_offer, conference_service.cpp): the media guard
// (conference/media_guard), offer/answer (signaling/sdp plan_answer/build_answer, BUNDLE, simulcast,
// video budgets), the media layout (conference/media_layout: which sections share a transport, our
// SSRCs), key and ICE negotiation (conference/media_security: SDES, DTLS-SRTP roles, ICE-lite
// credentials and candidates), the answer as we serialise it, and the BUNDLE demultiplexer the
// media session builds from the layout (media/transport/bundle_demux). Then a re-offer (hold,
// resume, a browser adding a section) through the same path with the first call's transports and
// SSRCs as "previous", the way a re-INVITE reaches it.
//
//   make fuzz-build && build-fuzz/bin/sdp_offer_fuzz -dict=fuzz/sdp_offer_fuzz.dict fuzz/seeds/sdp_offer_fuzz
//
// Input: one byte of room and caller settings, then the offer; a line "@@" starts the re-offer.
//   bit 0: the caller is on loopback (else 198.51.100.7)    bit 1: media_deny_ranges 203.0.113.0/24
//   bit 2: no DTLS certificate (DTLS offers are refused)     bit 3: an mcu room (video answered port 0)
//   bit 4: the room requires encryption                      bit 5: no media workers (no SRTP at all)
//   bits 6–7: the video budgets (max_slots 1, 3, 9 and max_producers 1, 2, 2)
//
// Besides crashes, leaks and UB it checks:
//   - a refusal is a 4xx/5xx with a reason; the guard's is 488 Warning 305;
//   - the layout partitions the accepted sections into transports (each exactly once, the tagged
//     one first, only BUNDLE groups share), gives an SSRC exactly to the sections we send in (an
//     RTX SSRC only with one), keys every SRTP transport by its profile and ICE only when offered;
//   - the answer builds, serialises and parses again, has one m-line per offered one (RFC 3264 §6)
//     with port 0 exactly where we refused, carries our SSRCs and the BUNDLE groups we accepted;
//   - a demultiplexer that can be built routes a packet carrying a stream's MID to that stream
//     and never routes a stream's packet to another one;
//   - a re-offer of the same shape keeps our SSRCs, SDES key, DTLS role and ICE credentials.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conference/media_guard.hpp"
#include "conference/media_layout.hpp"
#include "conference/media_security.hpp"
#include "fuzz/fuzz_check.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/transport/bundle_demux.hpp"
#include "signaling/sdp/bundle.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/rtp_attributes.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace {

using namespace chorus;
using namespace chorus::conference;

constexpr std::string_view kMediaAddress = "192.0.2.1";
constexpr std::string_view kCname = "fuzzcname0000000";
// Our answers are checked for being SDP, not for fitting our own ingress limits.
constexpr sdp::SdpLimits kAnswerLimits{SIZE_MAX, SIZE_MAX, SIZE_MAX};

using chorus::fuzz::check;

struct Settings {
  boost::asio::ip::address source;
  MediaGuardSettings guard;
  SecurityOptions security;
  sdp::MediaPolicy policy;
};

// ConferenceService::policy_for with the room and workers the flags describe.
Settings settings_from(std::uint8_t flags) {
  Settings s;
  s.source = boost::asio::ip::make_address((flags & 1) != 0 ? "127.0.0.1" : "198.51.100.7");
  if ((flags & 2) != 0) s.guard.deny_ranges.push_back(*parse_ip_range("203.0.113.0/24"));
  if ((flags & 4) == 0)
    s.security.dtls_fingerprint =
        "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
  const bool workers = (flags & 32) == 0;
  s.policy.accept_srtp = workers;
  s.policy.require_srtp = (flags & 16) != 0;
  s.policy.video.enabled = (flags & 8) == 0 && workers;
  constexpr std::array<std::size_t, 4> kSlots{1, 3, 9, 9};
  constexpr std::array<std::size_t, 4> kProducers{1, 2, 2, 2};
  s.policy.video.max_send_streams = kSlots[(flags >> 6) & 3];
  s.policy.video.max_receive_streams = kProducers[(flags >> 6) & 3];
  return s;
}

// What a participant keeps between offers (conference/participant.hpp, the parts used here).
struct Session {
  std::vector<StreamTransport> transports;
  std::vector<SectionSources> sources;
  std::vector<sdp::NegotiatedStream> accepted;
};

std::vector<const sdp::NegotiatedStream*> accepted_of(const sdp::AnswerPlan& plan) {
  std::vector<const sdp::NegotiatedStream*> out;
  for (const auto& section : plan.sections)
    if (section.stream.accepted) out.push_back(&section.stream);
  return out;
}

bool is_sdes(sdp::TransportProtocol p) {
  return p == sdp::TransportProtocol::kRtpSavp || p == sdp::TransportProtocol::kRtpSavpf;
}
bool is_dtls(sdp::TransportProtocol p) {
  return p == sdp::TransportProtocol::kUdpTlsRtpSavp || p == sdp::TransportProtocol::kUdpTlsRtpSavpf;
}

void check_layout(const sdp::SessionDescription& offer, const sdp::AnswerPlan& plan, const MediaLayout& layout) {
  const auto accepted = accepted_of(plan);
  check(layout.transport_of.size() == accepted.size() && layout.sources.size() == accepted.size());
  std::vector<int> seen(accepted.size(), 0);
  for (std::size_t t = 0; t < layout.transports.size(); ++t) {
    const auto& transport = layout.transports[t];
    check(!transport.sections.empty());
    check(transport.bundled || transport.sections.size() == 1);
    check(std::ranges::is_sorted(transport.sections));  // the tagged (first accepted) section leads
    for (std::size_t section : transport.sections) {
      check(section < accepted.size() && layout.transport_of[section] == t);
      ++seen[section];
    }
    const auto& tagged = *accepted[transport.sections.front()];
    const auto protocol = offer.media[tagged.index].transport();
    const auto& keying = transport.security.keying;
    check(is_sdes(protocol) == std::holds_alternative<media::SdesKeying>(keying));
    check(is_dtls(protocol) == std::holds_alternative<media::DtlsKeying>(keying));
    if (const auto* sdes = std::get_if<media::SdesKeying>(&keying)) check(!sdes->local_key_salt.empty());
    if (const auto* dtls = std::get_if<media::DtlsKeying>(&keying)) check(dtls->remote_fingerprint.size() == 32);
    if (transport.security.ice) check(!transport.security.ice->local_ufrag.empty());
    if (transport.bundled) {
      check(transport.security.bundle.has_value() && transport.security.bundle_mid == tagged.mid);
      check(transport.security.bundle->streams.size() == transport.sections.size());
    }
  }
  for (int count : seen) check(count == 1);
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    const auto& sources = layout.sources[i];
    check((sources.ssrc != 0) == sdp::sends(accepted[i]->local_direction));
    check(sources.rtx_ssrc == 0 || sources.ssrc != 0);
  }
}

// ConferenceService::answer_for: ports per transport, the layout's attributes, ice-lite, BUNDLE.
std::string build_answer_text(const sdp::AnswerPlan& plan, const MediaLayout& layout, bool webrtc) {
  sdp::MediaPorts ports;
  std::size_t accepted = 0;
  for (const auto& section : plan.sections) {
    if (!section.stream.accepted) continue;
    const auto port = static_cast<std::uint16_t>(20000 + 2 * layout.transport_of[accepted]);
    ports.rtp_ports.push_back(port);
    ports.extra_attributes.push_back(
        section_attributes(layout, accepted, section.stream, kMediaAddress, port, kCname, webrtc));
    ++accepted;
  }
  sdp::OriginInfo origin;
  origin.session_id = 7;
  origin.session_version = 1;
  auto answer = sdp::build_answer(plan, sdp::LocalMediaAddress{std::string(kMediaAddress)}, ports, origin);
  if (!answer) std::fprintf(stderr, "sdp_offer_fuzz: build_answer: %s\n", answer.error().reason.c_str());
  check(answer.has_value());  // every accepted section has a port, and every SRTP one its keys
  const bool ice = std::ranges::any_of(layout.transports, [](const auto& t) { return t.security.ice.has_value(); });
  if (ice) answer->add_attribute("ice-lite");
  const auto streams = accepted_of(plan);
  for (const auto& transport : layout.transports) {
    if (!transport.bundled) continue;
    std::string group = "BUNDLE";
    for (std::size_t section : transport.sections) group += " " + streams[section]->mid;
    answer->add_attribute("group", group);
  }
  return sdp::serialize_sdp(*answer);
}

// The offerer's view of our answer: it parses, mirrors the m-lines, names our SSRCs.
void check_answer(const sdp::SessionDescription& offer, const sdp::AnswerPlan& plan, const MediaLayout& layout,
                  const std::string& text) {
  auto answer = sdp::parse_sdp(text, kAnswerLimits);
  check(answer.has_value());
  check(answer->media.size() == offer.media.size());
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < plan.sections.size(); ++i) {
    const auto& stream = plan.sections[i].stream;
    const auto& m = answer->media[i];
    check((m.port != 0) == stream.accepted);
    if (!stream.accepted) continue;
    const auto& sources = layout.sources[accepted++];
    std::vector<std::uint32_t> announced;
    for (auto value : m.attribute_values("ssrc"))
      if (auto ssrc = sdp::parse_ssrc(value)) announced.push_back(ssrc->ssrc);
    for (auto ssrc : {sources.ssrc, sources.rtx_ssrc})
      if (ssrc != 0) check(std::ranges::find(announced, ssrc) != announced.end());
  }
  // Every group we answer is inside one of the offer's (RFC 8843 §7.3.2: the answerer only removes).
  const auto offered = sdp::bundle_groups(offer);
  for (const auto& group : sdp::bundle_groups(*answer)) {
    check(!group.empty());
    const bool inside = std::ranges::any_of(offered, [&group](const auto& o) {
      return std::ranges::all_of(group, [&o](const auto& mid) { return std::ranges::find(o, mid) != o.end(); });
    });
    check(inside);
  }
}

// One RTP packet of stream `s` of a bundle: its first payload type, its first signalled SSRC (or
// a made-up one), and its MID when the transport reads MIDs.
std::optional<std::size_t> route_one(media::BundleDemux& demux, const media::BundleDemuxConfig& config, std::size_t s,
                                     bool with_mid) {
  const auto& stream = config.streams[s];
  std::array<std::uint8_t, 64> buffer{};
  std::array<media::OneByteExtensionElement, 1> mid{};
  media::RtpHeaderFields fields;
  fields.payload_type = stream.payload_types.front();
  fields.sequence_number = 1000;
  fields.ssrc = stream.remote_ssrcs.empty() ? 0x51000000U + static_cast<std::uint32_t>(s) : stream.remote_ssrcs[0];
  if (with_mid) {
    mid[0] = {config.mid_extension_id,
              std::span{reinterpret_cast<const std::uint8_t*>(stream.mid.data()), stream.mid.size()}};
    fields.extensions = mid;
  }
  auto size = media::write_rtp_header(buffer, fields);
  if (!size) return std::nullopt;  // a MID the one-byte form cannot carry
  auto packet = media::RtpPacket::parse(std::span{buffer}.first(*size));
  check(packet.has_value());
  return demux.route(*packet);
}

// The media session's demultiplexer for each bundled transport (media_session.cpp builds it; a
// config it refuses is logged there and the transport is not demultiplexed).
void check_demux(const MediaLayout& layout) {
  for (const auto& transport : layout.transports) {
    if (!transport.security.bundle) continue;
    const auto& config = *transport.security.bundle;
    auto demux = media::BundleDemux::create(config);
    if (!demux) continue;
    const bool mids = config.mid_extension_id >= 1 && config.mid_extension_id <= 14;
    for (std::size_t s = 0; s < config.streams.size(); ++s) {
      // RTCP naming our own SSRCs (report blocks, NACK, PLI) finds the section we send them in.
      for (auto ssrc : config.streams[s].local_ssrcs) check(demux->route_rtcp_local_ssrc(ssrc) == s);
      if (mids) {
        auto routed = route_one(*demux, config, s, true);
        check(!routed || *routed == s);
        if (config.streams[s].mid.size() <= 16) check(routed == s);
      }
      auto routed = route_one(*demux, config, s, false);
      // Without a MID only an SSRC binding or a PT only this stream receives may route it; the
      // binding the MID packet just made counts.
      if (routed && *routed != s) {
        const auto& theirs = config.streams[*routed];
        const auto pt = config.streams[s].payload_types.front();
        check(std::ranges::find(theirs.payload_types, pt) != theirs.payload_types.end());
      }
    }
  }
}

// A re-offer of the same shape keeps what we announced (RFC 3264 §8, RFC 4568 §7.1.4, RFC 5763 §6.6).
void check_kept(const Session& before, const MediaLayout& after, const std::vector<const sdp::NegotiatedStream*>& now) {
  for (std::size_t i = 0; i < now.size() && i < before.sources.size(); ++i) {
    if (before.sources[i].ssrc != 0 && after.sources[i].ssrc != 0)
      check(after.sources[i].ssrc == before.sources[i].ssrc);
    if (before.sources[i].rtx_ssrc != 0 && after.sources[i].rtx_ssrc != 0)
      check(after.sources[i].rtx_ssrc == before.sources[i].rtx_ssrc);
  }
  for (std::size_t t = 0; t < after.transports.size() && t < before.transports.size(); ++t) {
    const auto& was = before.transports[t];
    const auto& is = after.transports[t].security;
    if (was.ice && is.ice)
      check(was.ice->local_ufrag == is.ice->local_ufrag && was.ice->local_password == is.ice->local_password);
    const auto* old_dtls = std::get_if<media::DtlsKeying>(&was.keying);
    const auto* new_dtls = std::get_if<media::DtlsKeying>(&is.keying);
    if (old_dtls && new_dtls) check(old_dtls->we_are_client == new_dtls->we_are_client);
    const auto* old_sdes = std::get_if<media::SdesKeying>(&was.keying);
    const auto* new_sdes = std::get_if<media::SdesKeying>(&is.keying);
    if (old_sdes && new_sdes && old_sdes->suite == new_sdes->suite)
      check(old_sdes->local_key_salt == new_sdes->local_key_salt);
  }
}

// ConferenceService::answer_offer for a new offer (session empty) or a re-offer. false: refused,
// the session stays as it was.
bool negotiate(const Settings& settings, std::string_view text, Session& session) {
  auto offer = sdp::parse_sdp(text, sdp::kVideoSdpLimits);
  if (!offer) return false;
  if (auto refused = check_media_addresses(*offer, settings.source, settings.guard)) {
    check(refused->sip_status == 488 && refused->warning_code == 305 && !refused->reason.empty());
    return false;
  }
  auto plan = sdp::plan_answer(*offer, settings.policy);
  if (!plan) {
    check(plan.error().sip_status >= 400 && plan.error().sip_status <= 599 && !plan.error().reason.empty());
    return false;
  }
  check(plan->sections.size() == offer->media.size());
  std::vector<const StreamTransport*> previous;
  for (const auto& transport : session.transports) previous.push_back(&transport);
  auto layout = plan_media_layout(*offer, *plan, settings.security, previous, session.sources);
  if (!layout) {
    check(layout.error().sip_status == 488 && !layout.error().reason.empty());
    return false;
  }
  check_layout(*offer, *plan, *layout);
  const auto accepted = accepted_of(*plan);
  for (const auto* stream : accepted) {
    std::vector<std::uint8_t> payload_types;
    add_remote_payload_types(*stream, payload_types);
    for (auto pt : payload_types) check(pt <= 127);
    (void)proven_by_signaling(stream->remote_address, settings.source);
  }
  const bool webrtc = std::ranges::any_of(
      offer->media, [](const auto& m) { return m.transport() == sdp::TransportProtocol::kUdpTlsRtpSavpf; });
  check_answer(*offer, *plan, *layout, build_answer_text(*plan, *layout, webrtc));
  check_demux(*layout);
  if (!session.transports.empty() && layout->transports.size() == session.transports.size())
    check_kept(session, *layout, accepted);
  session.transports.clear();
  for (auto& transport : layout->transports) session.transports.push_back(std::move(transport.security));
  session.sources = layout->sources;
  session.accepted.clear();
  for (const auto* stream : accepted) session.accepted.push_back(*stream);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Settings settings = settings_from(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view offer = text;
  std::optional<std::string_view> reoffer;
  if (const auto at = text.find("\n@@"); at != std::string_view::npos) {
    offer = text.substr(0, at + 1);
    const auto line_end = text.find('\n', at + 1);
    reoffer = line_end == std::string_view::npos ? std::string_view{} : text.substr(line_end + 1);
  }
  Session session;
  if (!negotiate(settings, offer, session)) return 0;
  if (reoffer) (void)negotiate(settings, *reoffer, session);
  return 0;
}
