#include "signaling/sdp/sdp_serializer.hpp"

#include <charconv>
#include <string_view>

namespace chorus::sdp {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // Starts "<type>=" and returns *this so pieces can follow; end() closes the line with CRLF.
  Writer& line(char type) {
    out_.push_back(type);
    out_.push_back('=');
    return *this;
  }
  Writer& text(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Writer& space() {
    out_.push_back(' ');
    return *this;
  }
  Writer& number(std::uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, end);
    return *this;
  }
  void end() { out_.append("\r\n"); }

  void simple(char type, std::string_view value) { line(type).text(value).end(); }
  void raw(std::string_view whole_line) { text(whole_line).end(); }

  void connection(const Connection& c) {
    line('c').text(c.net_type).space().text(c.address_type).space().text(c.address).text(c.multicast_suffix).end();
  }
  void bandwidths(const std::vector<Bandwidth>& list) {
    for (const auto& b : list) line('b').text(b.type).text(":").number(b.value).end();
  }
  void attributes(const std::vector<Attribute>& list) {
    for (const auto& a : list) {
      line('a').text(a.name);
      if (a.value) text(":").text(*a.value);
      end();
    }
  }

 private:
  std::string& out_;
};

// A rough size so the output is built with one or two allocations.
std::size_t estimate_size(const SessionDescription& sd) {
  std::size_t n = 128 + sd.attributes.size() * 32;
  for (const auto& m : sd.media) n += 64 + m.formats.size() * 4 + m.attributes.size() * 40;
  return n;
}

void write_media(Writer& w, const MediaDescription& m) {
  w.line('m').text(m.media).space().number(m.port);
  if (m.port_count) w.text("/").number(*m.port_count);
  w.space().text(m.protocol);
  for (const auto& f : m.formats) w.space().text(f);
  w.end();
  if (m.title) w.simple('i', *m.title);
  for (const auto& c : m.connections) w.connection(c);
  w.bandwidths(m.bandwidths);
  if (m.key) w.simple('k', *m.key);
  w.attributes(m.attributes);
  for (const auto& l : m.other_lines) w.raw(l);
}

}  // namespace

std::string serialize_sdp(const SessionDescription& sd) {
  std::string out;
  out.reserve(estimate_size(sd));
  Writer w(out);
  w.line('v').number(static_cast<std::uint64_t>(sd.version < 0 ? 0 : sd.version)).end();
  const Origin& o = sd.origin;
  w.line('o').text(o.username).space().text(o.session_id).space().text(o.session_version).space();
  w.text(o.net_type).space().text(o.address_type).space().text(o.address).end();
  w.simple('s', sd.session_name.empty() ? std::string_view("-") : std::string_view(sd.session_name));
  if (sd.information) w.simple('i', *sd.information);
  if (sd.uri) w.simple('u', *sd.uri);
  for (const auto& e : sd.emails) w.simple('e', e);
  for (const auto& p : sd.phones) w.simple('p', p);
  if (sd.connection) w.connection(*sd.connection);
  w.bandwidths(sd.bandwidths);
  if (sd.timings.empty()) w.simple('t', "0 0");
  for (const auto& t : sd.timings) {
    w.line('t').number(t.start).space().number(t.stop).end();
    for (const auto& r : t.repeats) w.simple('r', r);
  }
  if (sd.time_zones) w.simple('z', *sd.time_zones);
  if (sd.key) w.simple('k', *sd.key);
  w.attributes(sd.attributes);
  for (const auto& l : sd.other_lines) w.raw(l);
  for (const auto& m : sd.media) write_media(w, m);
  return out;
}

}  // namespace chorus::sdp
