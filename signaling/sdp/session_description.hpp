// SessionDescription: the SDP model (RFC 8866 §5), what parse_sdp() fills and serialize_sdp() writes.
//
// Fields are kept as text where RFC 8866 allows values we do not interpret (unknown media types,
// transport protocols, bandwidth types, attributes, even unknown line types), so a description
// passes through unchanged; the typed helpers below read the values offer/answer needs
// (rtpmap, fmtp, ptime, direction, rtcp-mux, rtcp, mid). Attributes stay in received order.
// Plain value types: no threads, no shared state; copy or move freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::sdp {

// RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address>.
struct Connection {
  std::string net_type = "IN";
  std::string address_type = "IP4";  // "IP4", "IP6"; anything else is kept as text
  std::string address;               // unicast address or host name, without multicast suffix
  std::string multicast_suffix;      // "/<ttl>[/<count>]" (IP4) or "/<count>" (IP6) as received

  [[nodiscard]] bool is_ipv6() const;
  // RFC 3264 §8.4: 0.0.0.0 (and :: for IPv6) is the RFC 2543 way of putting a stream on hold.
  [[nodiscard]] bool is_unspecified() const;
  [[nodiscard]] bool is_multicast() const { return !multicast_suffix.empty(); }
  bool operator==(const Connection&) const = default;
};

// A unicast connection for `ip` (IPv6 literals may come bracketed: "[2001:db8::1]").
Connection make_connection(std::string_view ip);

// RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>.
// sess-id and sess-version are kept as the digit strings received (they may exceed 64 bits).
struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string address_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Origin&) const = default;
};

// RFC 8866 §5.8: b=<bwtype>:<bandwidth>. Unknown types (anything but CT, AS, TIAS) are kept.
struct Bandwidth {
  std::string type;
  std::uint64_t value = 0;
  bool operator==(const Bandwidth&) const = default;
};

// RFC 8866 §5.9/§5.10: t=<start> <stop> and the r= lines that follow it (kept as text).
struct Timing {
  std::uint64_t start = 0;
  std::uint64_t stop = 0;
  std::vector<std::string> repeats;
  bool operator==(const Timing&) const = default;
};

// RFC 8866 §5.13: a=<name> or a=<name>:<value>.
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

// RFC 8866 §6.7: the direction attributes; RFC 3264 §5.1 gives their offer/answer meaning.
enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };

std::string_view to_string(Direction direction);
std::optional<Direction> direction_from_name(std::string_view attribute_name);
[[nodiscard]] constexpr bool sends(Direction d) {
  return d == Direction::kSendRecv || d == Direction::kSendOnly;
}
[[nodiscard]] constexpr bool receives(Direction d) {
  return d == Direction::kSendRecv || d == Direction::kRecvOnly;
}
Direction make_direction(bool send, bool receive);
// The peer's view of a direction: sendonly ↔ recvonly, sendrecv and inactive stay (RFC 3264 §6.1).
Direction reverse(Direction direction);

// RFC 8866 §5.14 media types; anything else is kOther and keeps its text in MediaDescription::media.
enum class MediaType { kAudio, kVideo, kText, kApplication, kMessage, kImage, kOther };
MediaType classify_media(std::string_view media);

// Transport protocols offer/answer distinguishes (RFC 3551, RFC 4585, RFC 3711, RFC 5124, RFC 5764).
enum class TransportProtocol {
  kRtpAvp,           // RTP/AVP
  kRtpAvpf,          // RTP/AVPF
  kRtpSavp,          // RTP/SAVP
  kRtpSavpf,         // RTP/SAVPF
  kUdpTlsRtpSavp,    // UDP/TLS/RTP/SAVP
  kUdpTlsRtpSavpf,   // UDP/TLS/RTP/SAVPF (WebRTC)
  kTcpDtlsRtpSavpf,  // TCP/DTLS/RTP/SAVPF (RFC 7850)
  kOther,            // udp, TCP/MSRP, TCP/BFCP, ...: kept as text
};
TransportProtocol classify_protocol(std::string_view protocol);
[[nodiscard]] bool is_rtp(TransportProtocol protocol);
[[nodiscard]] bool is_secure(TransportProtocol protocol);          // SRTP (SDES or DTLS keyed)
[[nodiscard]] bool has_rtcp_feedback(TransportProtocol protocol);  // an AVPF profile

// RFC 8866 §6.6: a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>].
// For audio the encoding parameter is the channel count, 1 when absent.
struct RtpMap {
  int payload_type = 0;
  std::string encoding;
  int clock_rate = 0;
  int channels = 1;
  bool operator==(const RtpMap&) const = default;
};

// The same, viewing the attribute text (no allocation); used on the negotiation hot path.
struct RtpMapView {
  int payload_type = 0;
  std::string_view encoding;
  int clock_rate = 0;
  int channels = 1;
};
std::optional<RtpMapView> parse_rtpmap(std::string_view value);

// RFC 3551 §6 table 4/5: the statically assigned payload types (0 PCMU, 8 PCMA, 9 G722, ...).
std::optional<RtpMapView> static_payload_type(int payload_type);
// The static payload type for an encoding, if RFC 3551 assigns one (case-insensitive name).
std::optional<int> static_payload_type_for(std::string_view encoding, int clock_rate, int channels);

// RFC 3605: a=rtcp:<port> [<nettype> <addrtype> <connection-address>].
struct RtcpAttribute {
  std::uint16_t port = 0;
  std::optional<Connection> connection;
};

// Attribute list operations shared by the session and media levels. Names compare
// case-insensitively; every lookup returns the first match in received order.
struct AttributeList {
  std::vector<Attribute> attributes;

  [[nodiscard]] const Attribute* find_attribute(std::string_view name) const;
  [[nodiscard]] bool has_attribute(std::string_view name) const { return find_attribute(name) != nullptr; }
  // Value of the first `name` attribute; an attribute without value yields an empty view.
  // The view points into this object: do not keep it past a change to `attributes`.
  [[nodiscard]] std::optional<std::string_view> attribute_value(std::string_view name) const;
  [[nodiscard]] std::vector<std::string_view> attribute_values(std::string_view name) const;
  void add_attribute(std::string name, std::optional<std::string> value = std::nullopt);
  void remove_attributes(std::string_view name);
  // The direction attribute at this level, if one is present (the last one wins when a peer
  // sends several, as most stacks do).
  [[nodiscard]] std::optional<Direction> direction() const;
  // Replaces any direction attribute with `direction`.
  void set_direction(Direction direction);
};

// RFC 8866 §5.14 m=<media> <port>[/<number of ports>] <proto> <fmt> ... and its lines.
struct MediaDescription : AttributeList {
  std::string media;  // "audio", "video", "application", ... as received
  std::uint16_t port = 0;
  std::optional<std::uint16_t> port_count;  // "/<number of ports>" when present
  std::string protocol;                     // "RTP/AVP", "UDP/TLS/RTP/SAVPF", ... as received
  std::vector<std::string> formats;         // payload type numbers (RTP) or format tokens
  std::optional<std::string> title;         // i=
  std::vector<Connection> connections;      // c= (RFC 8866 §5.7 allows several per section)
  std::vector<Bandwidth> bandwidths;        // b=
  std::optional<std::string> key;           // k= (obsolete, RFC 8866 §5.12; kept as text)
  std::vector<std::string> other_lines;     // lines of unknown type ("y=...") as received

  [[nodiscard]] MediaType type() const { return classify_media(media); }
  [[nodiscard]] TransportProtocol transport() const { return classify_protocol(protocol); }
  // RFC 3264 §6: port 0 rejects (or, in an offer, disables) the stream.
  [[nodiscard]] bool is_rejected() const { return port == 0; }

  // a=rtpmap for `payload_type`, if present and well formed.
  [[nodiscard]] std::optional<RtpMap> rtpmap(std::string_view payload_type) const;
  [[nodiscard]] std::vector<RtpMap> rtpmaps() const;
  // What a format means: its a=rtpmap, else the RFC 3551 static assignment (sipp and older
  // phones omit rtpmap for static payload types). Views point into this object.
  [[nodiscard]] std::optional<RtpMapView> payload_mapping(std::string_view payload_type) const;
  // a=fmtp:<payload type> <parameters>: the parameters text.
  [[nodiscard]] std::optional<std::string_view> fmtp(std::string_view payload_type) const;
  [[nodiscard]] std::optional<int> ptime() const;                            // RFC 8866 §6.4, milliseconds
  [[nodiscard]] std::optional<int> maxptime() const;                         // RFC 8866 §6.5, milliseconds
  [[nodiscard]] bool rtcp_mux() const { return has_attribute("rtcp-mux"); }  // RFC 5761 §5.1.1
  [[nodiscard]] std::optional<RtcpAttribute> rtcp() const;                   // RFC 3605
  [[nodiscard]] std::optional<std::string_view> mid() const { return attribute_value("mid"); }  // RFC 5888
};

struct SessionDescription : AttributeList {
  int version = 0;  // v= (RFC 8866 §5.1: always 0)
  Origin origin;
  std::string session_name = "-";          // s=
  std::optional<std::string> information;  // i=
  std::optional<std::string> uri;          // u=
  std::vector<std::string> emails;         // e=
  std::vector<std::string> phones;         // p=
  std::optional<Connection> connection;    // c=
  std::vector<Bandwidth> bandwidths;       // b=
  std::vector<Timing> timings;             // t= (+ r=); written as "t=0 0" when empty
  std::optional<std::string> time_zones;   // z=
  std::optional<std::string> key;          // k=
  std::vector<std::string> other_lines;    // session-level lines of unknown type
  std::vector<MediaDescription> media;

  // RFC 8866 §6.7: a media-level direction overrides the session-level one; sendrecv when neither.
  [[nodiscard]] Direction effective_direction(const MediaDescription& m) const;
  // RFC 8866 §5.7: the first media-level c=, else the session-level one; nullptr when neither.
  [[nodiscard]] const Connection* effective_connection(const MediaDescription& m) const;
};

}  // namespace chorus::sdp
