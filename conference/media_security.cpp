#include "conference/media_security.hpp"

#include <algorithm>
#include <array>

#include "media/dtls/dtls_certificate.hpp"
#include "media/srtp/sdes_answer.hpp"
#include "media/stun/ice_credentials.hpp"
#include "signaling/sdp/bundle.hpp"

namespace chorus::conference {
namespace {

sdp::NegotiationError refuse(std::string reason, int warning = 302) {
  return sdp::NegotiationError{488, warning, std::move(reason)};
}

// A media-level attribute, or the session-level one (RFC 8842 §5.1: fingerprint and setup may sit
// at either level; RFC 8839 §5.4 likewise for ice-ufrag and ice-pwd).
std::optional<std::string_view> attribute(const sdp::SessionDescription& offer, const sdp::MediaDescription& m,
                                          std::string_view name) {
  if (auto value = m.attribute_value(name)) return value;
  return offer.attribute_value(name);
}

std::vector<std::string_view> attributes(const sdp::SessionDescription& offer, const sdp::MediaDescription& m,
                                         std::string_view name) {
  auto values = m.attribute_values(name);
  return values.empty() ? offer.attribute_values(name) : values;
}

std::expected<void, sdp::NegotiationError> negotiate_sdes(const sdp::MediaDescription& m,
                                                          const SecurityOptions& options,
                                                          const StreamTransport* previous, StreamTransport& out) {
  std::vector<std::string> offered;
  for (auto value : m.attribute_values("crypto")) offered.emplace_back(value);
  if (offered.empty()) return std::unexpected(refuse("SDES offer without a=crypto"));
  // A re-offer: keep our key when the peer still offers our suite (RFC 4568 §7.1.4).
  const auto* kept = previous ? std::get_if<media::SdesKeying>(&previous->keying) : nullptr;
  if (kept) {
    const std::array<media::SrtpSuite, 1> same{kept->suite};
    if (auto selected = media::select_offered_crypto(offered, same)) {
      media::SdesKeying keying = *kept;
      keying.remote_key_salt = selected->offered.key_salt;
      out.keying = std::move(keying);
      for (const auto& attribute : previous->answer_attributes)
        if (attribute.name == "crypto") out.answer_attributes.push_back(attribute);
      // Our line must carry the tag of the line we accept now.
      for (auto& attribute : out.answer_attributes) {
        auto ours = media::parse_crypto_attribute(attribute.value.value_or(""));
        if (!ours) continue;
        ours->tag = selected->offered.tag;
        attribute.value = media::format_crypto_attribute(*ours);
      }
      return {};
    }
  }
  auto answer = media::choose_crypto(offered, options.sdes_preference);
  if (!answer) return std::unexpected(refuse("No acceptable a=crypto: " + answer.error()));
  out.keying = media::SdesKeying{answer->local.suite, answer->local.key_salt, answer->remote.key_salt};
  out.answer_attributes.push_back({"crypto", answer->answer_value});
  return {};
}

std::expected<void, sdp::NegotiationError> negotiate_dtls(const sdp::SessionDescription& offer,
                                                          const sdp::MediaDescription& m,
                                                          const SecurityOptions& options,
                                                          const StreamTransport* previous, StreamTransport& out) {
  if (options.dtls_fingerprint.empty()) return std::unexpected(refuse("DTLS-SRTP is not available"));
  std::optional<std::vector<std::uint8_t>> fingerprint;
  for (auto value : attributes(offer, m, "fingerprint"))
    if ((fingerprint = media::dtls::parse_fingerprint_attribute(value))) break;
  if (!fingerprint) return std::unexpected(refuse("DTLS offer without a sha-256 a=fingerprint"));
  // RFC 5763 §5: the offerer says actpass (RFC 4145 §4: no a=setup means active); an answerer
  // to actpass or active is passive, the DTLS server; to passive it must be active.
  const auto setup = attribute(offer, m, "setup").value_or("active");
  bool we_are_client = setup == "passive";
  if (const auto* kept = previous ? std::get_if<media::DtlsKeying>(&previous->keying) : nullptr)
    we_are_client = kept->we_are_client;  // RFC 5763 §6.6: a re-offer keeps the association
  if (setup == "holdconn") return std::unexpected(refuse("a=setup:holdconn is not supported"));
  out.keying = media::DtlsKeying{we_are_client, std::move(*fingerprint)};
  out.answer_attributes.push_back({"setup", we_are_client ? "active" : "passive"});
  out.answer_attributes.push_back({"fingerprint", "sha-256 " + options.dtls_fingerprint});
  return {};
}

}  // namespace

Keying keying_of(sdp::TransportProtocol protocol) {
  switch (protocol) {
    case sdp::TransportProtocol::kRtpSavp:
    case sdp::TransportProtocol::kRtpSavpf:
      return Keying::kSdes;
    case sdp::TransportProtocol::kUdpTlsRtpSavp:
    case sdp::TransportProtocol::kUdpTlsRtpSavpf:
      return Keying::kDtls;
    default:
      return Keying::kNone;
  }
}

std::expected<StreamTransport, sdp::NegotiationError> negotiate_security(const sdp::SessionDescription& offer,
                                                                         const sdp::MediaDescription& m,
                                                                         const SecurityOptions& options,
                                                                         const StreamTransport* previous) {
  StreamTransport out;
  switch (keying_of(m.transport())) {
    case Keying::kSdes:
      if (auto done = negotiate_sdes(m, options, previous, out); !done) return std::unexpected(done.error());
      break;
    case Keying::kDtls:
      if (auto done = negotiate_dtls(offer, m, options, previous, out); !done) return std::unexpected(done.error());
      break;
    case Keying::kNone:
      break;  // plain RTP: nothing to key
  }
  const auto ufrag = attribute(offer, m, "ice-ufrag");
  const auto password = attribute(offer, m, "ice-pwd");
  if (ufrag && password && !ufrag->empty()) {
    // RFC 8445 §5.3 limits: ufrag 4..256, password 22..256 characters.
    if (ufrag->size() > 256 || password->size() < 22 || password->size() > 256)
      return std::unexpected(refuse("Bad ICE credentials", 399));
    media::IceCredentials ice;
    if (previous && previous->ice) {
      ice = *previous->ice;
    } else {
      auto local = media::stun::generate_ice_credentials();
      ice.local_ufrag = std::move(local.ufrag);
      ice.local_password = std::move(local.password);
    }
    ice.remote_ufrag = std::string(*ufrag);
    out.answer_attributes.push_back({"ice-ufrag", ice.local_ufrag});
    out.answer_attributes.push_back({"ice-pwd", ice.local_password});
    out.ice = std::move(ice);
  }
  return out;
}

void negotiate_bundle(const sdp::SessionDescription& offer, const sdp::MediaDescription& m,
                      const std::vector<std::uint8_t>& payload_types, StreamTransport& transport) {
  const auto mid = m.mid();
  if (!mid) return;
  bool bundled = false;
  for (const auto& group : sdp::bundle_groups(offer))
    bundled = bundled || std::ranges::find(group, *mid) != group.end();
  if (!bundled) return;
  media::BundleDemuxConfig config;
  config.streams.push_back(media::BundleStreamConfig{std::string(*mid), payload_types, {}, {}});
  // RFC 8285 §4.2: the one-byte form carries ids 1..14; a MID on another id cannot be read back.
  if (auto id = sdp::extmap_id(m, sdp::kMidExtensionUri); id && *id >= 1 && *id <= 14) {
    config.mid_extension_id = static_cast<std::uint8_t>(*id);
    transport.answer_attributes.push_back({"extmap", std::to_string(*id) + " " + std::string(sdp::kMidExtensionUri)});
  }
  transport.bundle_mid = std::string(*mid);
  transport.bundle = std::move(config);
}

std::vector<sdp::Attribute> host_candidates(std::string_view address, std::uint16_t rtp_port, bool rtcp_mux) {
  if (address.size() >= 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
  std::vector<sdp::Attribute> out;
  const unsigned components = rtcp_mux ? 1 : 2;
  for (unsigned component = 1; component <= components; ++component) {
    // RFC 8445 §5.1.2.1: (2^24)·type preference + (2^8)·local preference + (256 − component).
    const std::uint32_t priority = (126U << 24) + (65535U << 8) + (256U - component);
    const auto port = static_cast<std::uint16_t>(rtp_port + component - 1);
    out.push_back({"candidate", "1 " + std::to_string(component) + " UDP " + std::to_string(priority) + " " +
                                    std::string(address) + " " + std::to_string(port) + " typ host"});
  }
  return out;
}

}  // namespace chorus::conference
