#include "signaling/sdp/answer_common.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <limits>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp::detail {
namespace {

constexpr std::array<std::string_view, 4> kAudioExtensionUris{kMidExtensionUri, kAudioLevelUri, kAbsSendTimeUri,
                                                              kTransportWideCcUri};
constexpr std::array<std::string_view, 5> kVideoExtensionUris{
    kMidExtensionUri, kRtpStreamIdUri, kRepairedRtpStreamIdUri, kAbsSendTimeUri, kTransportWideCcUri};

std::string extmap_value(const ExtmapView& offered, const HeaderExtension& answered) {
  std::string v = std::to_string(answered.id);
  // RFC 8285 §6: the answer's direction for an extension offered with one is its mirror
  // (offered sendonly: the offerer only sends it, so we only receive it).
  if (offered.direction) v.append("/").append(to_string(reverse(*offered.direction)));
  v.append(" ").append(answered.uri);
  return v;
}

bool allows_mixed(const SessionDescription& offer, const MediaDescription& m) {
  return m.has_attribute("extmap-allow-mixed") || offer.has_attribute("extmap-allow-mixed");
}

// The offered extmap lines in the order RFC 8285 §5 gives them weight: media level first, then
// session level (which applies to every section).
std::vector<const Attribute*> offered_extmaps(const SessionDescription& offer, const MediaDescription& m) {
  std::vector<const Attribute*> out;
  for (const auto* list : {&m.attributes, &offer.attributes}) {
    for (const auto& a : *list) {
      if (a.value && iequals(a.name, "extmap")) out.push_back(&a);
    }
  }
  return out;
}

void report_ssrcs(const MediaDescription& m, PlannedSection& s) {
  NegotiatedStream& n = s.stream;
  std::size_t ignored = 0;
  for (const auto& a : m.attributes) {
    if (!a.value || !iequals(a.name, "ssrc")) continue;
    const auto ssrc = parse_ssrc(*a.value);
    if (!ssrc) {
      add_note(s, "a=ssrc ignored: " + std::string(ssrc.error()));
      continue;
    }
    if (std::ranges::find(n.remote_ssrcs, ssrc->ssrc) != n.remote_ssrcs.end()) continue;
    if (n.remote_ssrcs.size() == kMaxRemoteSsrcs) {
      ++ignored;
      continue;
    }
    n.remote_ssrcs.push_back(ssrc->ssrc);
  }
  if (ignored > 0) add_note(s, std::to_string(ignored) + " a=ssrc lines beyond the first 64 SSRCs ignored");
}

void report_ssrc_groups(const MediaDescription& m, PlannedSection& s) {
  NegotiatedStream& n = s.stream;
  std::size_t ignored = 0;
  for (const auto& a : m.attributes) {
    if (!a.value || !iequals(a.name, "ssrc-group")) continue;
    if (n.remote_ssrc_groups.size() == kMaxSsrcGroups) {
      ++ignored;
      continue;
    }
    auto group = parse_ssrc_group(*a.value);
    if (!group) {
      add_note(s, "a=ssrc-group ignored: " + std::string(group.error()));
      continue;
    }
    n.remote_ssrc_groups.push_back(std::move(*group));
  }
  if (ignored > 0) add_note(s, std::to_string(ignored) + " a=ssrc-group lines beyond the first 32 ignored");
}

}  // namespace

std::string rtpmap_value(std::string_view pt, std::string_view encoding, int clock_rate, int channels) {
  std::string v;
  v.reserve(pt.size() + encoding.size() + 16);
  v.append(pt).append(" ").append(encoding).append("/").append(std::to_string(clock_rate));
  if (channels != 1) v.append("/").append(std::to_string(channels));
  return v;
}

bool address_holds(const SessionDescription& sd, const MediaDescription& m, const Connection* c) {
  if (c == nullptr || !c->is_unspecified()) return false;
  return !m.has_attribute("ice-ufrag") && !sd.has_attribute("ice-ufrag");
}

void fill_remote(NegotiatedStream& s, const MediaDescription& m, const Connection* c, bool rtcp_mux) {
  if (c != nullptr) s.remote_address = c->address;
  s.remote_port = m.port;
  s.rtcp_mux = rtcp_mux;
  if (auto rtcp = m.rtcp()) {
    s.remote_rtcp_port = rtcp->port;
  } else {
    s.remote_rtcp_port = rtcp_mux || m.port == 65535 ? m.port : static_cast<std::uint16_t>(m.port + 1);
  }
}

void add_note(PlannedSection& s, std::string note) {
  if (s.notes.size() < kMaxSectionNotes) s.notes.push_back(std::move(note));
}

std::span<const std::string_view> audio_extension_uris() {
  return kAudioExtensionUris;
}

std::span<const std::string_view> video_extension_uris() {
  return kVideoExtensionUris;
}

std::vector<HeaderExtension> answer_extensions(const SessionDescription& offer, const MediaDescription& m,
                                               std::span<const std::string_view> supported, PlannedSection& s) {
  std::vector<HeaderExtension> answered;
  const bool mixed = allows_mixed(offer, m);
  std::bitset<kMaxExtensionId + 1> ids_seen;
  for (const Attribute* a : offered_extmaps(offer, m)) {
    const auto extmap = parse_extmap(*a->value);
    if (!extmap) {
      add_note(s, "a=extmap ignored: " + std::string(extmap.error()));
      continue;
    }
    // RFC 8285 §4.2: the one-byte form carries 1..14; §6: larger ids need both sides to allow
    // mixing one- and two-byte elements.
    if (extmap->id > kMaxOneByteExtensionId && !mixed) {
      add_note(s, "a=extmap id " + std::to_string(extmap->id) + " ignored without a=extmap-allow-mixed");
      continue;
    }
    const auto id = static_cast<std::size_t>(extmap->id);
    const bool uri_taken = std::ranges::any_of(answered, [&](const auto& h) { return h.uri == extmap->uri; });
    if (ids_seen.test(id) || uri_taken) {
      add_note(s, "a=extmap " + std::to_string(extmap->id) + " ignored: id or URI repeated");
      continue;
    }
    ids_seen.set(id);
    if (std::ranges::find(supported, extmap->uri) == supported.end()) continue;
    HeaderExtension h{std::string(extmap->uri), extmap->id};
    s.answer_attributes.push_back({"extmap", extmap_value(*extmap, h)});
    answered.push_back(std::move(h));
  }
  // RFC 8285 §6: an answerer willing to receive both forms says so; the media layer reads both.
  if (mixed) s.answer_attributes.push_back({"extmap-allow-mixed", std::nullopt});
  return answered;
}

void answer_rtcp_rsize(const MediaDescription& m, PlannedSection& s) {
  if (!m.has_attribute("rtcp-rsize")) return;
  s.stream.rtcp_rsize = true;
  s.answer_attributes.push_back({"rtcp-rsize", std::nullopt});
}

std::uint64_t max_bitrate_bps(const std::vector<Bandwidth>& bandwidths) {
  // RFC 3890 §6.2: TIAS is the transport-independent maximum in bit/s; RFC 8866 §5.8: AS in kbit/s.
  for (const auto& b : bandwidths) {
    if (iequals(b.type, "TIAS")) return b.value;
  }
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (const auto& b : bandwidths) {
    if (iequals(b.type, "AS")) return b.value > kMax / 1000 ? kMax : b.value * 1000;
  }
  return 0;
}

void report_remote_streams(const SessionDescription& offer, const MediaDescription& m, PlannedSection& s) {
  report_ssrcs(m, s);
  report_ssrc_groups(m, s);
  if (auto content = m.attribute_value("content")) {
    if (auto values = parse_content(*content)) {
      s.stream.content = std::string(trim(*content));
    } else {
      add_note(s, "a=content ignored: " + std::string(values.error()));
    }
  }
  // Session-level bandwidth bounds every section (RFC 8866 §5.8), so it stands in for a missing
  // media-level one.
  s.stream.remote_max_bitrate_bps = max_bitrate_bps(m.bandwidths);
  if (s.stream.remote_max_bitrate_bps == 0) s.stream.remote_max_bitrate_bps = max_bitrate_bps(offer.bandwidths);
}

}  // namespace chorus::sdp::detail
