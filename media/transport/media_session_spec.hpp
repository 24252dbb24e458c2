// MediaSessionSpec: everything the control loop decided about one negotiated RTP stream (an SDP
// m-line), handed to the media worker that will serve it. A plain value: it crosses threads by
// copy/move, never by reference (DESIGN §2).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "media/srtp/sdes.hpp"
#include "media/stun/stun_message.hpp"
#include "media/transport/bundle_demux.hpp"
#include "media/transport/source_latch.hpp"

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

// One m= section the session carries (RFC 8843: several share a BUNDLE transport; without BUNDLE
// a session carries exactly one). What it receives is routed to it by the BUNDLE demultiplexer;
// what we send in it leaves from its SSRCs.
struct MediaStreamSpec {
  // Every SSRC we send in this section (RFC 3550 §8): the media SSRC first, then e.g. its RFC 4588
  // retransmission SSRC. Each gets its own sender report, and the peer's feedback naming one of them
  // goes to this section's sink. Empty: we send nothing here.
  std::vector<std::uint32_t> local_ssrcs;
  int clock_rate = 8000;     // of its codec, for the sender reports' RTP timestamps
  bool send_enabled = true;  // a=sendrecv/sendonly on our side (RFC 3264 §5.1)
};

struct MediaSessionSpec {
  std::uint64_t id = 0;  // unique per process; the control loop refers to the session by it
  std::string label;     // for logs: the SIP Call-ID
  // Our sockets. Without `sockets_owner` the session owns them and closes them on its own thread.
  // With it (a port lease, shared with the call on the control loop) they are borrowed: the session
  // holds the owner until its components have left the worker's epoll set, and the last holder
  // gives the pair back to the pool (udp_port_pool.hpp) — no dup(2), no close(2) per call.
  int rtp_fd = -1;
  int rtcp_fd = -1;  // -1 with rtcp-mux
  std::shared_ptr<const void> sockets_owner;
  // What the port pool knows of the sockets already (PortLease), so that the session does not ask
  // the kernel again, a system call per socket and fact (issue 13, joins per CPU-second): their
  // address family (0: unknown, read with getsockname) and the DSCP they carry (nullopt: unmarked,
  // or unknown). A session that re-marks borrowed sockets marks them back when it ends.
  int sockets_family = 0;
  std::optional<std::uint8_t> sockets_dscp;
  // Where the SDP says to send: c= and m= port, and a=rtcp (RFC 3605). nullopt when the peer
  // gave none we can use (0.0.0.0 hold, a host name); latching or ICE then finds it.
  std::optional<stun::TransportAddress> remote_rtp;
  std::optional<stun::TransportAddress> remote_rtcp;
  bool rtcp_mux = false;
  bool send_enabled = true;  // a=sendrecv/sendonly on our side
  // Without ICE nothing is sent until the peer proved its address (source_latch.hpp): true when the
  // SDP's IP is the one the signaling came from; else RTP of `remote_payload_types` (what the peer
  // may send: codecs, telephone-event, RTX; empty: any) must latch within `latch_window`.
  bool remote_proven = false;
  std::vector<std::uint8_t> remote_payload_types;
  // The peer (the participant) this session belongs to; 0: none. Its sessions on one worker prove each
  // other: once one latched at an IP, the others' signalled addresses at that IP are proven (a room
  // system's receive-only video port sends no RTP; its audio does).
  std::uint64_t peer = 0;
  std::chrono::milliseconds latch_window = kDefaultLatchWindow;
  // RTP inactivity (issue 12): nothing admitted from the peer (RTP or RTCP) for this long ends the
  // call (the worker reports it, the control loop hangs up); `hold_timeout` while we do not send
  // (the peer holds us: a=sendonly/inactive). Zero: never.
  std::chrono::milliseconds media_timeout{0};
  std::chrono::milliseconds hold_timeout{0};
  MediaKeying keying;
  std::optional<IceCredentials> ice;
  // RFC 8843: the m= sections sharing this transport; RTP is routed to one by MID/SSRC/PT and
  // what no bundled section claims is dropped. nullopt: not bundled, everything is this stream's.
  std::optional<BundleDemuxConfig> bundle;
  // The session's own SSRC: the RTCP sender SSRC, and what the audio engine sends from. With
  // `streams` empty the session carries one stream that sends from it at `clock_rate`.
  std::uint32_t local_ssrc = 0;
  std::string cname;                            // RFC 3550 §6.5.1 / RFC 7022: random per session
  int clock_rate = 8000;                        // of the negotiated codec, for RTCP statistics
  std::uint64_t session_bandwidth_bps = 64000;  // RFC 3550 §6.2, for the RTCP interval
  // The sections this transport carries, in the order of `bundle->streams` when bundled (the index
  // is the sink's). Empty: one stream, as above.
  std::vector<MediaStreamSpec> streams;
  // a=extmap id of the transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-
  // extensions-01 §2) the peer puts on what it sends; 0 when not negotiated. When set, the session
  // reports arrivals back in RTCP transport-cc feedback so the sender can estimate its bandwidth.
  std::uint8_t transport_cc_extension_id = 0;
};

// A re-INVITE or UPDATE changed the remote side of an existing session (RFC 3264 §8).
struct MediaSessionUpdate {
  std::optional<stun::TransportAddress> remote_rtp;
  std::optional<stun::TransportAddress> remote_rtcp;
  bool remote_proven = false;  // as MediaSessionSpec::remote_proven, for the new address
  bool send_enabled = true;
  std::optional<std::vector<std::uint8_t>> remote_sdes_key_salt;  // SDES re-key by the peer
  // Per stream (the spec's order), when the offer changed each section's direction; empty: all as
  // `send_enabled`.
  std::vector<bool> stream_send_enabled;
};

}  // namespace chorus::media
