#include "conference/media_layout.hpp"

#include <algorithm>

#include "common/random.hpp"
#include "signaling/sdp/bundle.hpp"
#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {
namespace {

// What arrives in a section: the formats a BUNDLE demultiplexer routes by (RFC 8843 §9.2).
std::vector<std::uint8_t> payload_types(const sdp::NegotiatedStream& stream) {
  std::vector<std::uint8_t> out;
  auto add = [&out](int pt) {
    if (pt >= 0 && pt <= 127 && std::ranges::find(out, static_cast<std::uint8_t>(pt)) == out.end())
      out.push_back(static_cast<std::uint8_t>(pt));
  };
  add(stream.payload_type);
  if (stream.telephone_event_pt) add(*stream.telephone_event_pt);
  for (const auto& format : stream.video_formats) {
    add(format.payload_type);
    if (format.rtx_payload_type) add(*format.rtx_payload_type);
  }
  return out;
}

// RFC 8285 §4.2: the MID must be readable in the one-byte form.
std::uint8_t mid_extension_id(const sdp::NegotiatedStream& stream, const sdp::MediaDescription& offered) {
  if (const std::uint8_t id = sdp::one_byte_extension_id(stream.extensions, sdp::kMidExtensionUri)) return id;
  if (auto id = sdp::extmap_id(offered, sdp::kMidExtensionUri); id && *id >= 1 && *id <= 14)
    return static_cast<std::uint8_t>(*id);
  return 0;
}

bool answers_mid_extension(const sdp::NegotiatedStream& stream) {
  return std::ranges::any_of(stream.extensions, [](const auto& e) { return e.uri == sdp::kMidExtensionUri; });
}

std::uint32_t fresh_ssrc() {
  return static_cast<std::uint32_t>(random_u64() | 1U);
}

SectionSources sources_for(const sdp::NegotiatedStream& stream, const SectionSources* previous) {
  if (!sdp::sends(stream.local_direction)) return {};
  SectionSources out;
  out.ssrc = previous && previous->ssrc != 0 ? previous->ssrc : fresh_ssrc();
  const bool rtx =
      std::ranges::any_of(stream.video_formats, [](const auto& f) { return f.rtx_payload_type.has_value(); });
  if (rtx) out.rtx_ssrc = previous && previous->rtx_ssrc != 0 ? previous->rtx_ssrc : fresh_ssrc();
  return out;
}

std::vector<const sdp::NegotiatedStream*> accepted_streams(const sdp::AnswerPlan& plan) {
  std::vector<const sdp::NegotiatedStream*> out;
  for (const auto& section : plan.sections)
    if (section.stream.accepted) out.push_back(&section.stream);
  return out;
}

}  // namespace

std::expected<MediaLayout, sdp::NegotiationError> plan_media_layout(
    const sdp::SessionDescription& offer, const sdp::AnswerPlan& plan, const SecurityOptions& options,
    const std::vector<const StreamTransport*>& previous, const std::vector<SectionSources>& previous_sources) {
  const auto accepted = accepted_streams(plan);
  const auto groups = sdp::bundle_groups(offer);
  MediaLayout layout;
  std::vector<std::optional<std::size_t>> transport_of_group(groups.size());
  std::vector<std::string_view> mids_seen;
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    const auto& stream = *accepted[i];
    std::optional<std::size_t> group;
    // A MID seen before names no section of its own (RFC 5888 §4: unique), so it bundles nothing.
    const bool unique_mid = !stream.mid.empty() && std::ranges::find(mids_seen, stream.mid) == mids_seen.end();
    if (unique_mid) mids_seen.push_back(stream.mid);
    for (std::size_t g = 0; g < groups.size() && unique_mid; ++g)
      if (std::ranges::find(groups[g], stream.mid) != groups[g].end()) group = g;
    // One transport has one keying: a section whose profile is not the tagged section's (RTP/AVP
    // beside UDP/TLS/RTP/SAVPF) is moved out of the BUNDLE group, RFC 8843 §7.3.3, onto its own.
    if (group && transport_of_group[*group]) {
      const auto& tagged = *accepted[layout.transports[*transport_of_group[*group]].sections.front()];
      if (keying_of(sdp::classify_protocol(stream.protocol)) != keying_of(sdp::classify_protocol(tagged.protocol)))
        group.reset();
    }
    if (group && transport_of_group[*group]) {
      layout.transports[*transport_of_group[*group]].sections.push_back(i);
      layout.transport_of.push_back(*transport_of_group[*group]);
    } else {
      if (group) transport_of_group[*group] = layout.transports.size();
      layout.transport_of.push_back(layout.transports.size());
      layout.transports.push_back(TransportPlan{{i}, {}, group.has_value()});
    }
    layout.sources.push_back(sources_for(stream, i < previous_sources.size() ? &previous_sources[i] : nullptr));
  }
  for (std::size_t t = 0; t < layout.transports.size(); ++t) {
    auto& transport = layout.transports[t];
    const auto& tagged = *accepted[transport.sections.front()];
    const auto& offered = offer.media[tagged.index];
    auto security = negotiate_security(offer, offered, options, t < previous.size() ? previous[t] : nullptr);
    if (!security) return std::unexpected(security.error());
    transport.security = std::move(*security);
    if (!transport.bundled) continue;
    media::BundleDemuxConfig bundle;
    bundle.mid_extension_id = mid_extension_id(tagged, offered);
    for (std::size_t section : transport.sections) {
      const auto& stream = *accepted[section];
      media::BundleStreamConfig config{stream.mid, payload_types(stream), stream.remote_ssrcs, {}};
      if (layout.sources[section].ssrc != 0) config.local_ssrcs.push_back(layout.sources[section].ssrc);
      if (layout.sources[section].rtx_ssrc != 0) config.local_ssrcs.push_back(layout.sources[section].rtx_ssrc);
      bundle.streams.push_back(std::move(config));
    }
    // RFC 8843 §15: answer the MID extension where the plan did not (rooms without video).
    if (bundle.mid_extension_id != 0 && !answers_mid_extension(tagged))
      transport.security.answer_attributes.push_back(
          {"extmap", std::to_string(bundle.mid_extension_id) + " " + std::string(sdp::kMidExtensionUri)});
    transport.security.bundle = std::move(bundle);
    transport.security.bundle_mid = tagged.mid;
  }
  return layout;
}

MediaLayout plain_layout(const std::vector<sdp::NegotiatedStream>& streams,
                         const std::vector<SectionSources>& previous) {
  MediaLayout layout;
  std::size_t accepted = 0;
  for (const auto& stream : streams) {
    if (!stream.accepted) continue;
    layout.transport_of.push_back(layout.transports.size());
    layout.transports.push_back(TransportPlan{{accepted}, {}, false});
    layout.sources.push_back(sources_for(stream, accepted < previous.size() ? &previous[accepted] : nullptr));
    ++accepted;
  }
  return layout;
}

std::vector<sdp::Attribute> section_attributes(const MediaLayout& layout, std::size_t section,
                                               const sdp::NegotiatedStream& stream, std::string_view media_address,
                                               std::uint16_t port, std::string_view cname, bool webrtc) {
  const auto& transport = layout.transports[layout.transport_of[section]];
  std::vector<sdp::Attribute> out = transport.security.answer_attributes;
  if (transport.security.ice) {
    auto candidates = host_candidates(media_address, port, stream.rtcp_mux);
    out.insert(out.end(), candidates.begin(), candidates.end());
  }
  const auto& sources = layout.sources[section];
  if (sources.ssrc == 0) return out;
  // RFC 8830 §2: one stream and track per section, so a browser shows each slot on its own.
  const std::string stream_id = "chorus-" + (stream.mid.empty() ? std::to_string(section) : stream.mid);
  const std::string msid = stream_id + " " + stream_id + "-" + stream.media;
  if (webrtc) out.push_back({"msid", msid});
  // RFC 5576 §4.1/§4.2: our SSRCs, with the CNAME that ties them to our RTCP; FID pairs RFC 4588's.
  if (sources.rtx_ssrc != 0)
    out.push_back({"ssrc-group", "FID " + std::to_string(sources.ssrc) + " " + std::to_string(sources.rtx_ssrc)});
  for (auto ssrc : {sources.ssrc, sources.rtx_ssrc}) {
    if (ssrc == 0) continue;
    out.push_back({"ssrc", std::to_string(ssrc) + " cname:" + std::string(cname)});
    if (webrtc) out.push_back({"ssrc", std::to_string(ssrc) + " msid:" + msid});
  }
  return out;
}

}  // namespace chorus::conference
