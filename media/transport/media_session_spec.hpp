// MediaSessionSpec: everything the control loop decided about one negotiated RTP stream (an SDP
// m-line), handed to the media worker that will serve it. A plain value: it crosses threads by
// copy/move, never by reference (DESIGN §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "media/srtp/sdes.hpp"
#include "media/stun/stun_message.hpp"
#include "media/transport/bundle_demux.hpp"

namespace chorus::media {

// SDES (RFC 4568): the keys are in the SDP; ours protects what we send.
struct SdesKeying {
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  std::vector<std::uint8_t> local_key_salt;
  std::vector<std::uint8_t> remote_key_salt;
};

// DTLS-SRTP (RFC 5763/5764): keys come from a handshake on each component; the peer's
// certificate must hash to the fingerprint its SDP announced.
struct DtlsKeying {
  bool we_are_client = false;                    // a=setup: we answered active
  std::vector<std::uint8_t> remote_fingerprint;  // SHA-256 of the peer certificate (32 octets)
};

using MediaKeying = std::variant<std::monostate, SdesKeying, DtlsKeying>;

// ICE-lite (RFC 8445 §2.5): our credentials (in our SDP) and the peer's ufrag.
struct IceCredentials {
  std::string local_ufrag;
  std::string local_password;
  std::string remote_ufrag;
};

struct MediaSessionSpec {
  std::uint64_t id = 0;  // unique per process; the control loop refers to the session by it
  std::string label;     // for logs: the SIP Call-ID
  // Our sockets, duplicated from the port lease: the session closes its copies on its own thread,
  // and the lease (control loop) keeps the port bound until both are gone.
  int rtp_fd = -1;
  int rtcp_fd = -1;  // -1 with rtcp-mux
  // Where the SDP says to send: c= and m= port, and a=rtcp (RFC 3605). nullopt when the peer
  // gave none we can use (0.0.0.0 hold, a host name); latching or ICE then finds it.
  std::optional<stun::TransportAddress> remote_rtp;
  std::optional<stun::TransportAddress> remote_rtcp;
  bool rtcp_mux = false;
  bool send_enabled = true;  // a=sendrecv/sendonly on our side
  MediaKeying keying;
  std::optional<IceCredentials> ice;
  // RFC 8843: the m= sections sharing this transport; RTP is routed to one by MID/SSRC/PT and
  // what no bundled section claims is dropped. nullopt: not bundled, everything is this stream's.
  std::optional<BundleDemuxConfig> bundle;
  std::uint32_t local_ssrc = 0;
  std::string cname;                            // RFC 3550 §6.5.1 / RFC 7022: random per session
  int clock_rate = 8000;                        // of the negotiated codec, for RTCP statistics
  std::uint64_t session_bandwidth_bps = 64000;  // RFC 3550 §6.2, for the RTCP interval
};

// A re-INVITE or UPDATE changed the remote side of an existing session (RFC 3264 §8).
struct MediaSessionUpdate {
  std::optional<stun::TransportAddress> remote_rtp;
  std::optional<stun::TransportAddress> remote_rtcp;
  bool send_enabled = true;
  std::optional<std::vector<std::uint8_t>> remote_sdes_key_salt;  // SDES re-key by the peer
};

}  // namespace chorus::media
