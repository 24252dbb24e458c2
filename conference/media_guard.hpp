// Media guard (issue 12): which addresses an offer may ask us to send media to, what the media
// sessions are told about proof, latching and inactivity.
//
// An SDP names where we are to send RTP; an unauthenticated caller can name anyone. Refused with
// 488 and a Warning (RFC 3261 §20.43, 305): multicast and broadcast (RFC 8866 §5.7 — one INVITE, a
// whole group flooded), the unspecified address except as RFC 3264 §8.4 hold (0.0.0.0 with
// sendonly/inactive), link-local (RFC 3927, RFC 4291 §2.5.6: never routed, our own segment),
// loopback unless the caller's signaling came from loopback itself (no remote caller may aim media
// at the server's own services), and the operator's `media_deny_ranges`. Sections under ICE are
// not checked: ICE proves its pairs by connectivity checks, the c= line carries nothing we use.
// What passes is still not sent to until proven (media/transport/source_latch.hpp): the SDP IP
// equals the signaling source's, or RTP came from it.
// Threading: pure functions over values; used on the control loop.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/session_description.hpp"

namespace chorus::conference {

// An address block, "192.0.2.0/24" or "2001:db8::/32" (a bare address is a /32 or /128).
struct IpRange {
  boost::asio::ip::address network;  // with the host bits cleared
  unsigned prefix = 0;
  [[nodiscard]] bool contains(const boost::asio::ip::address& address) const;
  [[nodiscard]] std::string to_string() const;
};

std::expected<IpRange, std::string> parse_ip_range(std::string_view text);

struct MediaGuardSettings {
  std::vector<IpRange> deny_ranges;                // media_deny_ranges
  std::chrono::milliseconds latch_window{3000};    // media_latch_window
  std::chrono::milliseconds media_timeout{30000};  // --media-timeout (0: off)
  std::chrono::milliseconds hold_timeout{300000};  // --media-hold-timeout (0: off)
};

// The refusal (488, Warning 305) when a section's address (c=, or RFC 3605 a=rtcp's) may not be
// sent to; nullopt when every one may. `signaling_source` is where the call's SIP came from.
std::optional<sdp::NegotiationError> check_media_addresses(const sdp::SessionDescription& description,
                                                           const boost::asio::ip::address& signaling_source,
                                                           const MediaGuardSettings& settings);

// The SDP address is the signaling source's own IP (IPv4-mapped IPv6 compares as IPv4): the
// signaling proved it, media may go there before any RTP came back.
bool proven_by_signaling(std::string_view sdp_address, const boost::asio::ip::address& signaling_source);

// The payload types the peer may send in `stream` (codec, telephone-event, every video format and
// its RTX), for the media latch.
void add_remote_payload_types(const sdp::NegotiatedStream& stream, std::vector<std::uint8_t>& out);

}  // namespace chorus::conference
