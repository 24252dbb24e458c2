// Typed header values (RFC 3261 §20, grammar in §25.1): Via, name-addr/addr-spec, CSeq, and the
// generic-param and list rules they share.
#include "signaling/message/header_types.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "signaling/message/grammar.hpp"
#include "signaling/message/parse_into.hpp"

namespace chorus::sip {
namespace {

using grammar::is;
using grammar::skip_wsp;

std::unexpected<std::string> fail(std::string_view why) {
  return std::unexpected(std::string(why));
}

void append_params(const std::vector<GenericParam>& params, std::string& out) {
  for (const auto& p : params) {
    out.push_back(';');
    out += p.name;
    if (!p.has_value) continue;
    out.push_back('=');
    if (grammar::is_unquoted_gen_value(p.value)) {
      out += p.value;
    } else {
      grammar::append_quoted(p.value, out);
    }
  }
}

// sent-by host: hostname / IPv4address / IPv6reference (§25.1), `pos` ends after it.
bool parse_sent_by_host(std::string_view s, std::size_t& pos, std::string& host) {
  if (pos < s.size() && s[pos] == '[') {
    const std::size_t close = s.find(']', pos);
    if (close == std::string_view::npos) return false;
    const std::string_view address = s.substr(pos + 1, close - pos - 1);
    if (!grammar::is_ipv6_address(address)) return false;
    host = ascii_lowercase(address);
    pos = close + 1;
    return true;
  }
  const std::string_view name = grammar::take_while(s, pos, grammar::kHostChar);
  if (name.empty()) return false;
  host = ascii_lowercase(name);
  return true;
}

// display-name before '<': quoted-string or *(token LWS) (§25.1). `text` is what precedes '<'.
const char* parse_display_name(std::string_view text, std::string& out) {
  text = trim(text);
  if (text.empty()) return nullptr;
  if (text.front() == '"') {
    std::size_t pos = 0;
    if (!grammar::parse_quoted(text, pos, out)) return "unterminated quoted string";
    if (pos != text.size()) return "text after quoted display name";
    return nullptr;
  }
  // Unquoted: tokens separated by LWS only; a comma or other separator means it needed quotes
  // (RFC 4475 §3.1.2.15 baddn).
  for (char c : text) {
    if (!is(c, grammar::kToken) && !grammar::is_wsp(c)) return "display name must be quoted";
  }
  out.assign(text);
  return nullptr;
}

}  // namespace

const GenericParam* find_param(const std::vector<GenericParam>& params, std::string_view name) {
  for (const auto& p : params) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is(c, grammar::kToken)) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (grammar::ascii_lower(a[i]) != grammar::ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && (grammar::is_wsp(s[b]) || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (grammar::is_wsp(s[e - 1]) || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string_view> split_header_list(std::string_view value) {
  std::vector<std::string_view> parts;
  grammar::for_each_list_element(value, [&parts](std::string_view part) { parts.push_back(part); });
  return parts;
}

bool parse_params(std::string_view text, std::vector<GenericParam>& out) {
  // *( SEMI generic-param ); SEMI = SWS ";" SWS; generic-param = token [ EQUAL gen-value ];
  // gen-value = token / host / quoted-string (§25.1).
  std::size_t pos = 0;
  while (true) {
    skip_wsp(text, pos);
    if (pos == text.size()) return true;
    if (text[pos] != ';') return false;
    ++pos;
    skip_wsp(text, pos);
    const std::string_view name = grammar::take_while(text, pos, grammar::kToken);
    if (name.empty()) return false;  // ";;" and a trailing ";" (RFC 4475 §3.1.2.1)
    GenericParam param;
    param.name = ascii_lowercase(name);
    skip_wsp(text, pos);
    if (pos < text.size() && text[pos] == '=') {
      ++pos;
      skip_wsp(text, pos);
      if (pos < text.size() && text[pos] == '"') {
        if (!grammar::parse_quoted(text, pos, param.value)) return false;
      } else {
        const std::size_t start = pos;
        while (pos < text.size() &&
               (is(text[pos], grammar::kToken) || text[pos] == '[' || text[pos] == ']' || text[pos] == ':')) {
          ++pos;
        }
        if (pos == start) return false;
        param.value.assign(text.substr(start, pos - start));
      }
      param.has_value = true;
    }
    out.push_back(std::move(param));
  }
}

std::string Via::branch() const {
  const GenericParam* p = find_param(params, "branch");
  return p == nullptr ? std::string() : p->value;
}

bool Via::has_magic_cookie() const {
  // §8.1.1.7: RFC 3261 branches start with "z9hG4bK". A branch that is only the cookie is not
  // unique (RFC 4475 §3.2.1 badbranch), so it gets RFC 2543 matching like a cookie-less one.
  const GenericParam* p = find_param(params, "branch");
  return p != nullptr && p->value.size() > 7 && p->value.starts_with("z9hG4bK");
}

std::string Via::to_string() const {
  std::string out;
  out.reserve(protocol.size() + transport.size() + host.size() + 16 + params.size() * 24);
  out += protocol;
  out.push_back('/');
  out += transport;
  out.push_back(' ');
  out += bracket_host(host);
  if (port) {
    out.push_back(':');
    out += std::to_string(*port);
  }
  append_params(params, out);
  return out;
}

const char* parse_via_into(std::string_view value, Via& via) {
  // via-parm = sent-protocol LWS sent-by *( SEMI via-params ); SLASH = SWS "/" SWS (§25.1).
  // Folded LWS has become SP already, so "SIP  /  2.0 / UDP" (RFC 4475 §3.1.1.1) parses.
  std::size_t pos = 0;
  skip_wsp(value, pos);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      skip_wsp(value, pos);
      if (pos >= value.size() || value[pos] != '/') return "bad sent-protocol";
      ++pos;
      skip_wsp(value, pos);
    }
    parts[i] = grammar::take_while(value, pos, grammar::kToken);
    if (parts[i].empty()) return "bad sent-protocol";
  }
  via.protocol.clear();
  for (char c : parts[0]) via.protocol.push_back(grammar::ascii_upper(c));
  via.protocol.push_back('/');
  via.protocol += parts[1];
  for (char c : parts[2]) via.transport.push_back(grammar::ascii_upper(c));
  if (pos >= value.size() || !grammar::is_wsp(value[pos])) return "missing sent-by";
  skip_wsp(value, pos);
  if (!parse_sent_by_host(value, pos, via.host)) return "bad sent-by host";
  std::size_t after_host = pos;
  skip_wsp(value, after_host);
  if (after_host < value.size() && value[after_host] == ':') {  // COLON = SWS ":" SWS
    pos = after_host + 1;
    skip_wsp(value, pos);
    const std::size_t start = pos;
    while (pos < value.size() && grammar::is_digit(value[pos])) ++pos;
    const auto port = grammar::parse_decimal(value.substr(start, pos - start), 65535);
    if (!port) return "bad sent-by port";
    via.port = static_cast<std::uint16_t>(*port);
  }
  if (!parse_params(value.substr(pos), via.params)) return "bad Via parameter";
  return nullptr;
}

std::expected<Via, std::string> parse_via(std::string_view value) {
  Via via;
  if (const char* err = parse_via_into(value, via)) return std::unexpected(std::string(err));
  return via;
}

std::string NameAddr::tag() const {
  const GenericParam* p = find_param(params, "tag");
  return p == nullptr ? std::string() : p->value;
}

std::string NameAddr::to_string() const {
  std::string out;
  if (wildcard) {
    out.push_back('*');
    append_params(params, out);
    return out;
  }
  if (!display_name.empty()) {
    grammar::append_quoted(display_name, out);
    out.push_back(' ');
  }
  out.push_back('<');
  // The parsed URI wins over its text so that a changed `uri` is what goes out.
  out += uri.scheme.empty() ? uri_text : uri.to_string();
  out.push_back('>');
  append_params(params, out);
  return out;
}

const char* parse_name_addr_into(std::string_view value, NameAddr& na) {
  // ( name-addr / addr-spec ) *( SEMI generic-param ) (§20.10, §25.1)
  value = trim(value);
  if (value == "*") {  // Contact: * (§10.2.2)
    na.wildcard = true;
    return nullptr;
  }
  // A '<' outside a leading quoted display name opens a name-addr.
  std::size_t laquot = std::string_view::npos;
  if (!value.empty() && value.front() == '"') {
    std::size_t pos = 0;
    if (!grammar::parse_quoted(value, pos, na.display_name)) return "unterminated quoted string";
    skip_wsp(value, pos);
    if (pos >= value.size() || value[pos] != '<') return "missing <URI> after display name";
    laquot = pos;
  } else {
    laquot = value.find('<');
    // addr-spec form ends at the first ';' (§20.10: then the params are header params).
    if (laquot != std::string_view::npos && value.substr(0, laquot).find(';') != std::string_view::npos) {
      laquot = std::string_view::npos;
    }
    if (laquot != std::string_view::npos) {
      if (const char* err = parse_display_name(value.substr(0, laquot), na.display_name)) return err;
    }
  }
  std::size_t params_start = 0;
  std::string_view uri_text;
  if (laquot != std::string_view::npos) {
    const std::size_t raquot = value.find('>', laquot);
    if (raquot == std::string_view::npos) return "missing '>'";
    // RFC 4475 §3.1.2.14 badaspec ("< sip:x >") may be refused or accepted: accepted, trimmed.
    uri_text = trim(value.substr(laquot + 1, raquot - laquot - 1));
    params_start = raquot + 1;
  } else {
    // An addr-spec carrying ?headers (RFC 4475 §3.1.2.13 regbadct, "either") is accepted.
    params_start = std::min(value.find(';'), value.size());
    uri_text = trim(value.substr(0, params_start));
    for (char c : uri_text) {
      if (grammar::is_wsp(c)) return "space in addr-spec";
    }
  }
  if (const char* err = parse_uri_into(uri_text, na.uri)) return err;
  na.uri_text.assign(uri_text);
  if (!parse_params(value.substr(params_start), na.params)) return "bad header parameter";
  return nullptr;
}

std::expected<NameAddr, std::string> parse_name_addr(std::string_view value) {
  NameAddr na;
  if (const char* err = parse_name_addr_into(value, na)) return std::unexpected(std::string(err));
  return na;
}

std::expected<CSeq, std::string> parse_cseq(std::string_view value) {
  // CSeq = 1*DIGIT LWS Method; §8.1.1.5: the number is below 2**31.
  value = trim(value);
  std::size_t pos = 0;
  while (pos < value.size() && grammar::is_digit(value[pos])) ++pos;
  const auto number = grammar::parse_decimal(value.substr(0, pos), 0x7fffffffULL);
  if (!number) return fail(pos == 0 ? "missing CSeq number" : "CSeq number too large");
  if (pos >= value.size() || !grammar::is_wsp(value[pos])) return fail("missing CSeq method");
  skip_wsp(value, pos);
  const std::string_view method = value.substr(pos);
  if (!is_token(method)) return fail("bad CSeq method");
  CSeq cseq;
  cseq.number = static_cast<std::uint32_t>(*number);
  cseq.method.assign(method);
  return cseq;
}

}  // namespace chorus::sip
