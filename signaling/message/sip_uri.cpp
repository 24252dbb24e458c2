// SIP/SIPS URIs (RFC 3261 §19.1, §25.1) with IPv6 references (RFC 5118), and opaque absolute URIs.
#include "signaling/message/sip_uri.hpp"

#include "common/ascii.hpp"
#include "signaling/message/grammar.hpp"
#include "signaling/message/header_types.hpp"
#include "signaling/message/parse_into.hpp"

namespace chorus::sip {
namespace {

using grammar::is;

// host = hostname / IPv4address / IPv6reference, then [":" port]. `pos` ends after the hostport.
const char* parse_hostport(std::string_view s, std::size_t& pos, SipUri& uri) {
  if (pos < s.size() && s[pos] == '[') {
    const std::size_t close = s.find(']', pos);
    if (close == std::string_view::npos) return "unterminated IPv6 reference";
    const std::string_view address = s.substr(pos + 1, close - pos - 1);
    if (!grammar::is_ipv6_address(address)) return "bad IPv6 reference";
    uri.host = ascii_lowercase(address);
    pos = close + 1;
  } else {
    const std::string_view host = grammar::take_while(s, pos, grammar::kHostChar);
    if (host.empty()) return "missing host";
    uri.host = ascii_lowercase(host);
  }
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && grammar::is_digit(s[pos])) ++pos;
    const auto port = grammar::parse_decimal(s.substr(start, pos - start), 65535);
    // An unbracketed IPv6 address ("sip:2001:db8::10") fails here: RFC 5118 §4.4.
    if (!port) return "bad port";
    uri.port = static_cast<std::uint16_t>(*port);
  }
  return nullptr;
}

// uri-parameters = *( ";" pname [ "=" pvalue ] ), each 1*paramchar with escapes (§25.1).
const char* parse_uri_params(std::string_view s, std::size_t& pos, SipUri& uri) {
  while (pos < s.size() && s[pos] == ';') {
    ++pos;
    std::size_t end = pos;
    while (end < s.size() && s[end] != ';' && s[end] != '?') ++end;
    const std::string_view item = s.substr(pos, end - pos);
    const std::size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    if (name.empty() || !grammar::all_escaped_or(name, grammar::kParamChar)) return "bad URI parameter";
    UriParam param;
    param.name = ascii_lowercase(grammar::percent_decode(name));
    if (eq != std::string_view::npos) {
      const std::string_view value = item.substr(eq + 1);
      if (value.empty() || !grammar::all_escaped_or(value, grammar::kParamChar)) return "bad URI parameter";
      param.value = grammar::percent_decode(value);
      param.has_value = true;
    }
    uri.params.push_back(std::move(param));
    pos = end;
  }
  return nullptr;
}

// headers = "?" header *( "&" header ); header = hname "=" hvalue (§19.1.1, §25.1).
const char* parse_uri_headers(std::string_view s, std::size_t& pos, SipUri& uri) {
  if (pos >= s.size() || s[pos] != '?') return nullptr;
  ++pos;
  while (true) {
    std::size_t end = pos;
    while (end < s.size() && s[end] != '&') ++end;
    const std::string_view item = s.substr(pos, end - pos);
    const std::size_t eq = item.find('=');
    if (eq == 0 || eq == std::string_view::npos) return "bad URI header";
    const std::string_view name = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (!grammar::all_escaped_or(name, grammar::kHnvChar) || !grammar::all_escaped_or(value, grammar::kHnvChar)) {
      return "bad URI header";
    }
    uri.headers.emplace_back(grammar::percent_decode(name), grammar::percent_decode(value));
    pos = end;
    if (pos == s.size()) return nullptr;
    ++pos;  // '&'
  }
}

const char* parse_sip_uri(std::string_view rest, SipUri& uri) {
  // userinfo ends at the first '@': neither user nor password may hold an unescaped one, and params
  // and headers never do, while the user part may legally hold ';', '?' and '/' (RFC 4475 §3.1.1.2).
  std::size_t pos = 0;
  const std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    const std::string_view user = userinfo.substr(0, colon);
    if (user.empty() || !grammar::all_escaped_or(user, grammar::kUser)) return "bad user part";
    uri.user = grammar::percent_decode(user);
    if (colon != std::string_view::npos) {
      const std::string_view password = userinfo.substr(colon + 1);
      if (!grammar::all_escaped_or(password, grammar::kPassword)) return "bad password";
      uri.password = grammar::percent_decode(password);
    }
    pos = at + 1;
  }
  if (const char* err = parse_hostport(rest, pos, uri)) return err;
  if (const char* err = parse_uri_params(rest, pos, uri)) return err;
  if (const char* err = parse_uri_headers(rest, pos, uri)) return err;
  if (pos != rest.size()) return "unexpected character in URI";
  return nullptr;
}

}  // namespace

const UriParam* SipUri::param(std::string_view name) const {
  for (const auto& p : params) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

std::optional<std::string_view> SipUri::param_value(std::string_view name) const {
  const UriParam* p = param(name);
  if (p == nullptr) return std::nullopt;
  return std::string_view(p->value);
}

std::string SipUri::to_string() const {
  std::string out;
  out.reserve(scheme.size() + user.size() + host.size() + opaque.size() + 16 + params.size() * 12);
  out += scheme;
  out.push_back(':');
  if (!is_sip()) {
    out += opaque;
    return out;
  }
  if (!user.empty() || !password.empty()) {
    grammar::percent_encode(user, grammar::kUser, out);
    if (!password.empty()) {
      out.push_back(':');
      grammar::percent_encode(password, grammar::kPassword, out);
    }
    out.push_back('@');
  }
  out += bracket_host(host);
  if (port) {
    out.push_back(':');
    out += std::to_string(*port);
  }
  for (const auto& p : params) {
    out.push_back(';');
    grammar::percent_encode(p.name, grammar::kParamChar, out);
    if (p.has_value) {
      out.push_back('=');
      grammar::percent_encode(p.value, grammar::kParamChar, out);
    }
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    out.push_back(i == 0 ? '?' : '&');
    grammar::percent_encode(headers[i].first, grammar::kHnvChar, out);
    out.push_back('=');
    grammar::percent_encode(headers[i].second, grammar::kHnvChar, out);
  }
  return out;
}

const char* parse_uri_into(std::string_view text, SipUri& uri) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1 absoluteURI)
  if (text.empty() || !grammar::is_alpha(text[0])) return "missing URI scheme";
  std::size_t pos = 1;
  while (pos < text.size() &&
         (grammar::is(text[pos], grammar::kAlnum) || text[pos] == '+' || text[pos] == '-' || text[pos] == '.')) {
    ++pos;
  }
  if (pos == text.size() || text[pos] != ':') return "missing URI scheme";
  uri.scheme = ascii_lowercase(text.substr(0, pos));
  const std::string_view rest = text.substr(pos + 1);
  if (uri.is_sip()) return parse_sip_uri(rest, uri);

  // Another scheme: keep it opaque (RFC 4475 §3.3.2, §3.3.4) but refuse what no URI can hold.
  if (rest.empty()) return "empty URI";
  for (char c : rest) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '<' || c == '>' || c == '"') return "bad character in URI";
  }
  uri.opaque = std::string(rest);
  return nullptr;
}

std::expected<SipUri, std::string> parse_uri(std::string_view text) {
  SipUri uri;
  if (const char* err = parse_uri_into(text, uri)) return std::unexpected(std::string(err));
  return uri;
}

std::string bracket_host(std::string_view host) {
  if (host.find(':') == std::string_view::npos || (!host.empty() && host.front() == '[')) return std::string(host);
  std::string out;
  out.reserve(host.size() + 2);
  out.push_back('[');
  out += host;
  out.push_back(']');
  return out;
}

}  // namespace chorus::sip
