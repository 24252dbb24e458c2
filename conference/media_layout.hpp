// MediaLayout: how a participant's accepted SDP sections map onto transports, and what we send in
// each (RFC 3264 answer side). Sections in the offer's BUNDLE group share one transport — one port,
// one ICE/DTLS association, one media session — whose tagged section (the group's first accepted
// one) negotiates the keys for all (RFC 8843 §7.3.1); every other section has a transport of its own.
// Each section we send in gets our SSRC (and, for video with RFC 4588 retransmission, an RTX SSRC),
// announced in the answer (RFC 5576 a=ssrc/ssrc-group, RFC 8830 a=msid) and kept across re-offers.
// Pure over values (the CSPRNG aside); the control loop calls it.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "conference/media_security.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/session_description.hpp"

namespace chorus::conference {

// What we send in one accepted section; zeros where we send nothing.
struct SectionSources {
  std::uint32_t ssrc = 0;
  std::uint32_t rtx_ssrc = 0;
};

struct TransportPlan {
  std::vector<std::size_t> sections;  // indices into the accepted sections; the tagged one first
  StreamTransport security;           // negotiated on the tagged section, used by all
  bool bundled = false;
};

struct MediaLayout {
  std::vector<TransportPlan> transports;
  std::vector<std::size_t> transport_of;  // per accepted section
  std::vector<SectionSources> sources;    // per accepted section
};

// The layout for `plan`, an answer to `offer`. `previous` (the participant's current transports'
// security, in order) keeps keys, roles and ICE credentials across a re-offer of the same shape;
// `previous_sources` keeps our SSRCs. Errors are the security negotiation's 488s.
std::expected<MediaLayout, sdp::NegotiationError> plan_media_layout(
    const sdp::SessionDescription& offer, const sdp::AnswerPlan& plan, const SecurityOptions& options,
    const std::vector<const StreamTransport*>& previous, const std::vector<SectionSources>& previous_sources);

// One transport per accepted section, nothing keyed: what our own offer (plain RTP/AVP) and its
// answer make (dial-out, INVITE without SDP).
MediaLayout plain_layout(const std::vector<sdp::NegotiatedStream>& streams,
                         const std::vector<SectionSources>& previous);

// The attributes our answer adds to accepted section `section` (by accepted index) for its
// transport and what we send: the transport's keying and ICE attributes, host candidates on
// `port`, a=ssrc/ssrc-group/msid for our sources. `cname` is the participant's RTCP CNAME.
std::vector<sdp::Attribute> section_attributes(const MediaLayout& layout, std::size_t section,
                                               const sdp::NegotiatedStream& stream, std::string_view media_address,
                                               std::uint16_t port, std::string_view cname, bool webrtc);

}  // namespace chorus::conference
