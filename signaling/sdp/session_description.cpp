#include "signaling/sdp/session_description.hpp"

#include <algorithm>
#include <array>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {

using detail::iequals;

bool Connection::is_ipv6() const {
  return iequals(address_type, "IP6");
}

bool Connection::is_unspecified() const {
  if (is_ipv6()) return address == "::" || address == "0:0:0:0:0:0:0:0";
  return address == "0.0.0.0";
}

Connection make_connection(std::string_view ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  Connection c;
  c.address_type = ip.find(':') != std::string_view::npos ? "IP6" : "IP4";
  c.address = std::string(ip);
  return c;
}

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

std::optional<Direction> direction_from_name(std::string_view name) {
  if (name.size() != 8) return std::nullopt;  // all four names have eight letters: skip the rest fast
  if (iequals(name, "sendrecv")) return Direction::kSendRecv;
  if (iequals(name, "sendonly")) return Direction::kSendOnly;
  if (iequals(name, "recvonly")) return Direction::kRecvOnly;
  if (iequals(name, "inactive")) return Direction::kInactive;
  return std::nullopt;
}

Direction make_direction(bool send, bool receive) {
  if (send && receive) return Direction::kSendRecv;
  if (send) return Direction::kSendOnly;
  if (receive) return Direction::kRecvOnly;
  return Direction::kInactive;
}

Direction reverse(Direction direction) {
  return make_direction(receives(direction), sends(direction));
}

MediaType classify_media(std::string_view media) {
  if (iequals(media, "audio")) return MediaType::kAudio;
  if (iequals(media, "video")) return MediaType::kVideo;
  if (iequals(media, "text")) return MediaType::kText;
  if (iequals(media, "application")) return MediaType::kApplication;
  if (iequals(media, "message")) return MediaType::kMessage;
  if (iequals(media, "image")) return MediaType::kImage;
  return MediaType::kOther;
}

TransportProtocol classify_protocol(std::string_view protocol) {
  // Protocol names are case-sensitive in RFC 8866, but matching them loosely costs nothing and
  // accepts the odd "rtp/avp" some gateways send.
  if (iequals(protocol, "RTP/AVP")) return TransportProtocol::kRtpAvp;
  if (iequals(protocol, "RTP/AVPF")) return TransportProtocol::kRtpAvpf;
  if (iequals(protocol, "RTP/SAVP")) return TransportProtocol::kRtpSavp;
  if (iequals(protocol, "RTP/SAVPF")) return TransportProtocol::kRtpSavpf;
  if (iequals(protocol, "UDP/TLS/RTP/SAVP")) return TransportProtocol::kUdpTlsRtpSavp;
  if (iequals(protocol, "UDP/TLS/RTP/SAVPF")) return TransportProtocol::kUdpTlsRtpSavpf;
  if (iequals(protocol, "TCP/DTLS/RTP/SAVPF")) return TransportProtocol::kTcpDtlsRtpSavpf;
  return TransportProtocol::kOther;
}

bool is_rtp(TransportProtocol protocol) {
  return protocol != TransportProtocol::kOther;
}

bool is_secure(TransportProtocol protocol) {
  return is_rtp(protocol) && protocol != TransportProtocol::kRtpAvp && protocol != TransportProtocol::kRtpAvpf;
}

bool has_rtcp_feedback(TransportProtocol protocol) {
  return protocol == TransportProtocol::kRtpAvpf || protocol == TransportProtocol::kRtpSavpf ||
         protocol == TransportProtocol::kUdpTlsRtpSavpf || protocol == TransportProtocol::kTcpDtlsRtpSavpf;
}

std::optional<RtpMapView> parse_rtpmap(std::string_view value) {
  std::string_view rest = value;
  auto pt = detail::parse_int(detail::next_token(rest), 127);
  std::string_view spec = detail::trim(rest);
  if (!pt || spec.empty()) return std::nullopt;
  RtpMapView map;
  map.payload_type = *pt;
  auto slash = spec.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  map.encoding = spec.substr(0, slash);
  std::string_view rate_and_params = spec.substr(slash + 1);
  auto slash2 = rate_and_params.find('/');
  auto rate = detail::parse_int(rate_and_params.substr(0, slash2), 10'000'000);
  if (!rate || *rate == 0) return std::nullopt;
  map.clock_rate = *rate;
  if (slash2 != std::string_view::npos) {
    // RFC 8866 §6.6: for audio the encoding parameter is the channel count. Video codecs give
    // none; a non-numeric one (an unknown media's parameters) is treated as absent.
    auto channels = detail::parse_int(rate_and_params.substr(slash2 + 1), 255);
    if (channels && *channels > 0) map.channels = *channels;
  }
  return map;
}

namespace {

struct StaticPayload {
  int payload_type;
  std::string_view encoding;
  int clock_rate;
  int channels;
};

// RFC 3551 §6, tables 4 and 5 (payload types 1, 2 and 19 are reserved and left out).
constexpr std::array<StaticPayload, 24> kStaticPayloads{{
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
}};

}  // namespace

std::optional<RtpMapView> static_payload_type(int payload_type) {
  for (const auto& p : kStaticPayloads) {
    if (p.payload_type == payload_type) return RtpMapView{p.payload_type, p.encoding, p.clock_rate, p.channels};
  }
  return std::nullopt;
}

std::optional<int> static_payload_type_for(std::string_view encoding, int clock_rate, int channels) {
  for (const auto& p : kStaticPayloads) {
    if (iequals(p.encoding, encoding) && p.clock_rate == clock_rate && p.channels == channels) return p.payload_type;
  }
  return std::nullopt;
}

// ---- AttributeList

const Attribute* AttributeList::find_attribute(std::string_view name) const {
  for (const auto& a : attributes) {
    if (iequals(a.name, name)) return &a;
  }
  return nullptr;
}

std::optional<std::string_view> AttributeList::attribute_value(std::string_view name) const {
  const Attribute* a = find_attribute(name);
  if (a == nullptr) return std::nullopt;
  return a->value ? std::string_view(*a->value) : std::string_view();
}

std::vector<std::string_view> AttributeList::attribute_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& a : attributes) {
    if (iequals(a.name, name)) values.emplace_back(a.value ? std::string_view(*a.value) : std::string_view());
  }
  return values;
}

void AttributeList::add_attribute(std::string name, std::optional<std::string> value) {
  attributes.push_back(Attribute{std::move(name), std::move(value)});
}

void AttributeList::remove_attributes(std::string_view name) {
  std::erase_if(attributes, [name](const Attribute& a) { return iequals(a.name, name); });
}

std::optional<Direction> AttributeList::direction() const {
  std::optional<Direction> found;
  for (const auto& a : attributes) {
    if (auto d = direction_from_name(a.name)) found = d;
  }
  return found;
}

void AttributeList::set_direction(Direction direction) {
  std::erase_if(attributes, [](const Attribute& a) { return direction_from_name(a.name).has_value(); });
  attributes.push_back(Attribute{std::string(to_string(direction)), std::nullopt});
}

// ---- MediaDescription

namespace {

// The attribute value after "<payload type> " for a per-format attribute (rtpmap, fmtp), or
// nullopt when `value` is about another payload type.
std::optional<std::string_view> value_for_format(std::string_view value, std::string_view payload_type) {
  std::string_view rest = value;
  if (detail::next_token(rest) != payload_type) return std::nullopt;
  return detail::trim(rest);
}

std::optional<int> milliseconds_attribute(const AttributeList& list, std::string_view name) {
  auto value = list.attribute_value(name);
  if (!value) return std::nullopt;
  // Some stacks write fractional ptime ("a=ptime:20.0"); keep the whole milliseconds.
  std::string_view v = detail::trim(*value);
  v = v.substr(0, v.find('.'));
  return detail::parse_int(v, 10'000);
}

}  // namespace

std::optional<RtpMap> MediaDescription::rtpmap(std::string_view payload_type) const {
  for (const auto& a : attributes) {
    if (!a.value || !iequals(a.name, "rtpmap") || !value_for_format(*a.value, payload_type)) continue;
    auto view = parse_rtpmap(*a.value);
    if (!view) continue;
    return RtpMap{view->payload_type, std::string(view->encoding), view->clock_rate, view->channels};
  }
  return std::nullopt;
}

std::vector<RtpMap> MediaDescription::rtpmaps() const {
  std::vector<RtpMap> maps;
  for (const auto& a : attributes) {
    if (!a.value || !iequals(a.name, "rtpmap")) continue;
    if (auto view = parse_rtpmap(*a.value)) {
      maps.push_back(RtpMap{view->payload_type, std::string(view->encoding), view->clock_rate, view->channels});
    }
  }
  return maps;
}

std::optional<RtpMapView> MediaDescription::payload_mapping(std::string_view payload_type) const {
  for (const auto& a : attributes) {
    if (!a.value || !iequals(a.name, "rtpmap") || !value_for_format(*a.value, payload_type)) continue;
    if (auto view = parse_rtpmap(*a.value)) return view;
  }
  auto pt = detail::parse_int(payload_type, 127);
  if (!pt) return std::nullopt;
  return static_payload_type(*pt);
}

std::optional<std::string_view> MediaDescription::fmtp(std::string_view payload_type) const {
  for (const auto& a : attributes) {
    if (!a.value || !iequals(a.name, "fmtp")) continue;
    if (auto params = value_for_format(*a.value, payload_type)) return params;
  }
  return std::nullopt;
}

std::optional<int> MediaDescription::ptime() const {
  return milliseconds_attribute(*this, "ptime");
}

std::optional<int> MediaDescription::maxptime() const {
  return milliseconds_attribute(*this, "maxptime");
}

std::optional<RtcpAttribute> MediaDescription::rtcp() const {
  auto value = attribute_value("rtcp");
  if (!value) return std::nullopt;
  std::string_view rest = *value;
  auto port = detail::parse_unsigned<std::uint16_t>(detail::next_token(rest), 65535);
  if (!port) return std::nullopt;
  RtcpAttribute r;
  r.port = *port;
  std::string_view net_type = detail::next_token(rest);
  std::string_view address_type = detail::next_token(rest);
  std::string_view address = detail::next_token(rest);
  if (!address.empty()) {
    r.connection = Connection{std::string(net_type), std::string(address_type), std::string(address), {}};
  }
  return r;
}

// ---- SessionDescription

Direction SessionDescription::effective_direction(const MediaDescription& m) const {
  if (auto d = m.direction()) return *d;
  if (auto d = direction()) return *d;
  return Direction::kSendRecv;
}

const Connection* SessionDescription::effective_connection(const MediaDescription& m) const {
  if (!m.connections.empty()) return &m.connections.front();
  return connection ? &*connection : nullptr;
}

}  // namespace chorus::sdp
