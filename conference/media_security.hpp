// Media security negotiation: what an accepted SDP section needs beyond codecs — SRTP keys by
// SDES (RFC 4568) or DTLS-SRTP (RFC 5763/5764), and ICE-lite credentials and candidates
// (RFC 8445 §2.5, RFC 8839) — and the attributes our answer carries for them.
// Pure functions over values (the CSPRNG aside); the control loop calls them.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "media/srtp/sdes.hpp"
#include "media/transport/bundle_demux.hpp"
#include "media/transport/media_session_spec.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/session_description.hpp"

namespace chorus::conference {

struct SecurityOptions {
  // "AB:CD:..." SHA-256 of our DTLS certificate; empty when DTLS-SRTP is unavailable.
  std::string dtls_fingerprint;
  // SDES suites in our order of preference (RFC 4568 §7.1.2 lets the answerer choose).
  std::vector<media::SrtpSuite> sdes_preference{
      media::SrtpSuite::kAeadAes128Gcm, media::SrtpSuite::kAesCm128HmacSha1_80, media::SrtpSuite::kAeadAes256Gcm,
      media::SrtpSuite::kAesCm128HmacSha1_32};
};

// How a profile is keyed: plain RTP (AVP, AVPF), SDES (RTP/SAVP[F]) or DTLS-SRTP (UDP/TLS/RTP/SAVP[F]).
// One transport has one keying, so BUNDLE groups only sections that agree (media_layout.cpp).
enum class Keying : std::uint8_t { kNone, kSdes, kDtls };
Keying keying_of(sdp::TransportProtocol protocol);

// What an accepted stream's transport needs beyond codecs.
struct StreamTransport {
  media::MediaKeying keying;
  std::optional<media::IceCredentials> ice;
  // RFC 8843: the section is in the offer's BUNDLE group; the session demultiplexes by MID/SSRC.
  std::optional<media::BundleDemuxConfig> bundle;
  std::string bundle_mid;  // our answer's a=group:BUNDLE names it
  // a=crypto, or a=setup + a=fingerprint; a=ice-ufrag/ice-pwd. Candidates are added per port.
  std::vector<sdp::Attribute> answer_attributes;
};

// For the offered section `m` of `offer`. `previous` is what this stream negotiated before (a
// re-offer keeps our key, fingerprint role and ICE credentials; RFC 4568 §7.1.4 lets a new SDES
// offer bring a new remote key). Errors are 488s with a Warning.
std::expected<StreamTransport, sdp::NegotiationError> negotiate_security(const sdp::SessionDescription& offer,
                                                                         const sdp::MediaDescription& m,
                                                                         const SecurityOptions& options,
                                                                         const StreamTransport* previous = nullptr);

// RFC 8843 §7.3: when the offer bundles section `m` (its a=mid is in an a=group:BUNDLE), the
// stream's demultiplexing config — its mid and payload types, the MID extension id the offer
// uses — and the answer's a=extmap for it. `payload_types` are what we accepted for the section.
void negotiate_bundle(const sdp::SessionDescription& offer, const sdp::MediaDescription& m,
                      const std::vector<std::uint8_t>& payload_types, StreamTransport& transport);

// RFC 8839 §5.1 host candidates for our port(s): component 1 on `rtp_port`, component 2 on
// rtp_port + 1 unless rtcp-mux. Priority per RFC 8445 §5.1.2.1 with type preference 126.
std::vector<sdp::Attribute> host_candidates(std::string_view address, std::uint16_t rtp_port, bool rtcp_mux);

}  // namespace chorus::conference
