#include "signaling/sdp/sdp_parser.hpp"

#include <cstdint>
#include <utility>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

using detail::next_token;
using detail::parse_unsigned;

// The reason a line was refused; nullptr means the line was accepted. Static strings keep the
// accept path free of allocations.
using Fault = const char*;
constexpr Fault kOk = nullptr;

// Real audio sections carry 10-25 attributes; reserving avoids most regrowth on the hot path.
constexpr std::size_t kAttributesPerMediaHint = 16;

struct ParseState {
  SessionDescription sd;
  bool seen_origin = false;
  bool seen_name = false;
  MediaDescription* media = nullptr;  // the section being filled, nullptr at session level
};

// RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>.
Fault parse_origin(std::string_view value, Origin& origin) {
  std::string_view fields[6];
  for (auto& f : fields) {
    f = next_token(value);
    if (f.empty()) return "o= needs six fields";
  }
  if (!next_token(value).empty()) return "o= has more than six fields";
  origin = Origin{std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                  std::string(fields[3]), std::string(fields[4]), std::string(fields[5])};
  return kOk;
}

// RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address>; a multicast address carries
// "/<ttl>[/<count>]" (IP4) or "/<count>" (IP6), kept as text.
Fault parse_connection(std::string_view value, Connection& c) {
  std::string_view net_type = next_token(value);
  std::string_view address_type = next_token(value);
  std::string_view address = next_token(value);
  if (address.empty()) return "c= needs <nettype> <addrtype> <address>";
  if (!next_token(value).empty()) return "c= has more than three fields";
  auto slash = address.find('/');
  if (slash == 0) return "c= address is empty";
  c.net_type = std::string(net_type);
  c.address_type = std::string(address_type);
  c.address = std::string(address.substr(0, slash));
  c.multicast_suffix = slash == std::string_view::npos ? std::string() : std::string(address.substr(slash));
  return kOk;
}

// RFC 8866 §5.8: b=<bwtype>:<bandwidth>.
Fault parse_bandwidth(std::string_view value, std::vector<Bandwidth>& out) {
  auto colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0) return "b= needs <bwtype>:<bandwidth>";
  auto amount = parse_unsigned<std::uint64_t>(value.substr(colon + 1), UINT64_MAX);
  if (!amount) return "b= bandwidth is not a number";
  out.push_back(Bandwidth{std::string(value.substr(0, colon)), *amount});
  return kOk;
}

// RFC 8866 §5.9: t=<start-time> <stop-time>, NTP seconds (0 = unbounded).
Fault parse_timing(std::string_view value, std::vector<Timing>& out) {
  auto start = parse_unsigned<std::uint64_t>(next_token(value), UINT64_MAX);
  auto stop = parse_unsigned<std::uint64_t>(next_token(value), UINT64_MAX);
  if (!start || !stop || !next_token(value).empty()) return "t= needs two numbers";
  out.push_back(Timing{*start, *stop, {}});
  return kOk;
}

// RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
Fault parse_media(std::string_view value, MediaDescription& m) {
  std::string_view media = next_token(value);
  std::string_view port_field = next_token(value);
  std::string_view protocol = next_token(value);
  if (protocol.empty()) return "m= needs <media> <port> <proto> <fmt>";
  auto slash = port_field.find('/');
  auto port = parse_unsigned<std::uint16_t>(port_field.substr(0, slash), 65535);
  if (!port) return "port is not a number 0-65535";
  if (slash != std::string_view::npos) {
    auto count = parse_unsigned<std::uint16_t>(port_field.substr(slash + 1), 65535);
    if (!count || *count == 0) return "number of ports is not a number 1-65535";
    m.port_count = *count;
  }
  m.media = std::string(media);
  m.port = *port;
  m.protocol = std::string(protocol);
  for (std::string_view f = next_token(value); !f.empty(); f = next_token(value)) m.formats.emplace_back(f);
  // RFC 8866 §5.14 requires a format; some stacks drop it on a rejected (port 0) stream.
  if (m.formats.empty() && m.port != 0) return "m= has no formats";
  return kOk;
}

// RFC 8866 §5.13: a=<attribute-name>[:<attribute-value>].
Fault parse_attribute(std::string_view value, std::vector<Attribute>& out) {
  auto colon = value.find(':');
  std::string_view name = value.substr(0, colon);
  if (name.empty()) return "a= has no attribute name";
  Attribute a{std::string(name), std::nullopt};
  if (colon != std::string_view::npos) a.value = std::string(value.substr(colon + 1));
  out.push_back(std::move(a));
  return kOk;
}

Fault set_once(std::optional<std::string>& field, std::string_view value, Fault duplicate) {
  if (field) return duplicate;
  field = std::string(value);
  return kOk;
}

Fault session_line(char type, std::string_view value, std::string_view line, ParseState& st) {
  SessionDescription& sd = st.sd;
  switch (type) {
    case 'v':
      return "second v= line";
    case 'o':
      if (st.seen_origin) return "second o= line";
      st.seen_origin = true;
      return parse_origin(value, sd.origin);
    case 's':
      if (st.seen_name) return "second s= line";
      st.seen_name = true;
      sd.session_name = std::string(value);
      return kOk;
    case 'i':
      return set_once(sd.information, value, "second session-level i= line");
    case 'u':
      return set_once(sd.uri, value, "second u= line");
    case 'e':
      sd.emails.emplace_back(value);
      return kOk;
    case 'p':
      sd.phones.emplace_back(value);
      return kOk;
    case 'c':
      if (sd.connection) return "second session-level c= line";
      sd.connection.emplace();
      return parse_connection(value, *sd.connection);
    case 'b':
      return parse_bandwidth(value, sd.bandwidths);
    case 't':
      return parse_timing(value, sd.timings);
    case 'r':
      if (sd.timings.empty()) return "r= before any t= line";
      sd.timings.back().repeats.emplace_back(value);
      return kOk;
    case 'z':
      return set_once(sd.time_zones, value, "second z= line");
    case 'k':
      return set_once(sd.key, value, "second session-level k= line");
    case 'a':
      return parse_attribute(value, sd.attributes);
    default:
      sd.other_lines.emplace_back(line);
      return kOk;
  }
}

Fault media_line(char type, std::string_view value, std::string_view line, MediaDescription& m) {
  switch (type) {
    case 'i':
      return set_once(m.title, value, "second i= line in a media section");
    case 'c':
      return parse_connection(value, m.connections.emplace_back());
    case 'b':
      return parse_bandwidth(value, m.bandwidths);
    case 'k':
      return set_once(m.key, value, "second k= line in a media section");
    case 'a':
      return parse_attribute(value, m.attributes);
    case 'v':
    case 'o':
    case 's':
    case 'u':
    case 'e':
    case 'p':
    case 't':
    case 'r':
    case 'z':
      return "session-level line inside a media section";
    default:
      m.other_lines.emplace_back(line);
      return kOk;
  }
}

Fault check_characters(std::string_view line) {
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return "control character in line";
  }
  return kOk;
}

// "line 6 (m=audio x RTP/AVP 0): <why>", with the quoted line clipped and made printable, since
// the text may end up in a log line or a Warning header.
std::string line_error(std::size_t number, std::string_view line, std::string_view why) {
  constexpr std::size_t kQuoteMax = 60;
  std::string out = "line " + std::to_string(number) + " (";
  for (std::size_t i = 0; i < line.size() && i < kQuoteMax; ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? line[i] : '?');
  }
  if (line.size() > kQuoteMax) out += "...";
  out += "): ";
  out += why;
  return out;
}

// One line into the state; `number` is 1-based. The first line must be v=0 (RFC 8866 §5.1).
Fault parse_line(std::string_view line, std::size_t number, std::size_t max_media_sections, ParseState& st) {
  if (Fault f = check_characters(line)) return f;
  char type = line[0];
  if (line.size() < 2 || line[1] != '=' || type < 'a' || type > 'z') return "not a <type>=<value> line";
  std::string_view value = line.substr(2);
  if (number == 0) {
    if (type != 'v') return "first line is not v=";
    if (value != "0") return "unsupported SDP version";
    return kOk;
  }
  if (type == 'm') {
    if (st.sd.media.size() >= max_media_sections) return "too many media sections";
    st.media = &st.sd.media.emplace_back();
    st.media->attributes.reserve(kAttributesPerMediaHint);
    return parse_media(value, *st.media);
  }
  if (st.media != nullptr) return media_line(type, value, line, *st.media);
  return session_line(type, value, line, st);
}

}  // namespace

std::expected<SessionDescription, std::string> parse_sdp(std::string_view text) {
  return parse_sdp(text, SdpLimits{});
}

std::expected<SessionDescription, std::string> parse_sdp(std::string_view text, const SdpLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return std::unexpected("SDP larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  ParseState st;
  std::size_t line_number = 0;
  std::size_t accepted = 0;  // non-blank lines seen; the first must be v=
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (++line_number > limits.max_lines) {
      return std::unexpected("SDP has more than " + std::to_string(limits.max_lines) + " lines");
    }
    // CRLF or bare LF; trailing blanks are noise some stacks add (RFC 8866 §5 has no trailing space).
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && detail::is_space(line.back())) line.remove_suffix(1);
    if (line.empty()) continue;
    if (Fault f = parse_line(line, accepted, limits.max_media_sections, st)) {
      return std::unexpected(line_error(line_number, line, f));
    }
    ++accepted;
  }
  if (accepted == 0) return std::unexpected(std::string("empty SDP"));
  if (!st.seen_origin) return std::unexpected(std::string("no o= line"));
  return std::move(st.sd);
}

}  // namespace chorus::sdp
