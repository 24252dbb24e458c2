// One-pass SIP message parser (RFC 3261 §7, §20, §25) with the checks of §8.2 and RFC 4475.
//
// The text is read once, line by line, over string_views. Each logical header (folded lines
// joined, §7.3.1) is stored once per list element and typed on the spot when the stack needs it.
// Problems do not stop the scan: the first one is remembered and the rest of the header section is
// still read, so that a 400/505/513 can echo Via, From, To, Call-ID and CSeq (§8.2.6.1). Work is
// bounded by ParseLimits: the bytes read, the length of each line and the number of headers.
#include "signaling/message/message_parser.hpp"

#include <algorithm>

#include "signaling/message/grammar.hpp"
#include "signaling/message/header_table.hpp"
#include "signaling/message/parse_into.hpp"

namespace chorus::sip {
namespace {

using grammar::is_wsp;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" in any case (§7.1).
bool is_sip_version_syntax(std::string_view v) {
  if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return false;
  const std::size_t dot = v.find('.', 4);
  if (dot == std::string_view::npos || dot == 4 || dot + 1 == v.size()) return false;
  for (std::size_t i = 4; i < v.size(); ++i) {
    if (i != dot && !grammar::is_digit(v[i])) return false;
  }
  return true;
}

// callid = word [ "@" word ] (§25.1). Any visible ASCII is taken: stacks in the field put '=' and
// ',' in Call-IDs, and only equality matters here; whitespace and control octets are refused.
bool is_call_id(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  ParseResult run();

 private:
  void fail(int status, std::string_view reason) {
    if (!failure_) failure_ = Failure{status, std::string(reason)};
  }
  void parse_start_line(std::string_view line);
  void parse_request_line(std::string_view line);
  void parse_status_line(std::string_view line);
  // Reads the header section from `pos`; returns the offset of the body, or npos when it is cut.
  std::size_t parse_header_section(std::size_t pos);
  void add_header(std::string_view name, std::string_view value);
  void add_value(const HeaderInfo* info, std::string_view canonical, std::string_view value);
  void type_value(HeaderId id, std::string_view value);
  void check_counts();
  ParseError make_error();

  struct Failure {
    int status;
    std::string reason;
  };

  std::string_view text_;
  const ParseLimits& limits_;
  SipMessage msg_;
  std::optional<Failure> failure_;
  std::size_t header_lines_ = 0;
  int from_count_ = 0, to_count_ = 0, call_id_count_ = 0, cseq_count_ = 0, max_forwards_count_ = 0;
  int content_length_count_ = 0;
  std::optional<std::size_t> content_length_;
};

void Parser::parse_start_line(std::string_view line) {
  if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) {
    msg_.is_request = false;
    parse_status_line(line);
  } else {
    msg_.is_request = true;
    parse_request_line(line);
  }
}

void Parser::parse_request_line(std::string_view line) {
  // Request-Line = Method SP Request-URI SP SIP-Version. Runs of SP and trailing SP are taken
  // (RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws: either answer is allowed; we accept), but a
  // fourth element means the Request-URI held whitespace (§3.1.2.8 lwsruri): 400.
  std::string_view parts[3];
  std::size_t count = 0;
  std::size_t pos = 0;
  while (true) {
    grammar::skip_wsp(line, pos);
    if (pos == line.size()) break;
    const std::size_t start = pos;
    while (pos < line.size() && !is_wsp(line[pos])) ++pos;
    if (count == 3) {
      fail(400, "Bad Request-Line");
      return;
    }
    parts[count++] = line.substr(start, pos - start);
  }
  if (count != 3 || !is_token(parts[0])) {
    fail(400, "Bad Request-Line");
    return;
  }
  msg_.method.assign(parts[0]);
  msg_.request_uri_text.assign(parts[1]);
  if (!is_sip_version_syntax(parts[2])) {
    fail(400, "Bad SIP-Version");
  } else if (!iequals(parts[2], "SIP/2.0")) {
    msg_.version.assign(parts[2]);
    fail(505, "Version Not Supported");  // §21.5.6; RFC 4475 §3.1.2.16 badvers
  }
  // An unknown scheme parses (the UA answers 416, §8.2.2.1); "<sip:...>" (§3.1.2.7 ltgtruri) and an
  // unbracketed IPv6 host (RFC 5118 §4.4) do not. URI headers in a Request-URI (§3.1.2.11 escruri,
  // "either") are accepted and kept in request_uri.headers for the UA to ignore.
  auto uri = parse_uri(parts[1]);
  if (!uri) {
    fail(400, "Bad Request-URI");
    return;
  }
  msg_.request_uri = std::move(*uri);
}

void Parser::parse_status_line(std::string_view line) {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the phrase may be empty
  // (RFC 4475 §3.1.1.13 noreason) or hold any UTF-8 (§3.1.1.12 unreason).
  const std::size_t sp = line.find(' ');
  const std::string_view version = line.substr(0, sp);
  if (!is_sip_version_syntax(version)) {
    fail(400, "Bad Status-Line");
    return;
  }
  if (!iequals(version, "SIP/2.0")) {
    msg_.version.assign(version);
    fail(505, "Version Not Supported");
  }
  const std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  std::size_t digits = 0;
  while (digits < rest.size() && grammar::is_digit(rest[digits])) ++digits;
  // 3DIGIT in 100..699 (§7.2); RFC 4475 §3.1.2.19 bigcode has ten digits.
  if (digits != 3 || (digits < rest.size() && rest[digits] != ' ') || rest[0] < '1' || rest[0] > '6') {
    fail(400, "Bad Status-Line");
    return;
  }
  msg_.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (rest.size() > 4) msg_.reason.assign(trim_right(rest.substr(4)));
}

std::size_t Parser::parse_header_section(std::size_t pos) {
  std::string_view name;
  std::string_view value;
  std::string folded;  // only used when a header spans several lines
  bool have_header = false;
  bool is_folded = false;
  auto flush = [&] {
    if (have_header) add_header(name, is_folded ? std::string_view(folded) : value);
    have_header = false;
    is_folded = false;
  };
  while (pos < text_.size()) {
    std::size_t eol = text_.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? text_.size() : eol + 1;
    if (eol == std::string_view::npos) eol = text_.size();
    std::string_view line = text_.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF, or a bare LF
    pos = next;
    if (line.size() > limits_.max_line_bytes) {
      fail(400, "Line too long");
      continue;
    }
    if (line.empty()) {
      if (eol == text_.size()) break;  // no line break: the section was cut
      flush();
      return pos;
    }
    if (is_wsp(line[0])) {  // §7.3.1: a line starting with SP/HT continues the previous header
      if (!have_header) {
        fail(400, "Bad header folding");
        continue;
      }
      if (!is_folded) {
        folded.assign(value);
        is_folded = true;
      }
      const std::string_view more = trim(line);
      if (!more.empty()) {
        if (!folded.empty()) folded.push_back(' ');  // the LWS becomes one SP
        folded.append(more);
      }
      continue;
    }
    flush();
    if (++header_lines_ > limits_.max_headers || msg_.headers.size() >= limits_.max_headers) {
      fail(400, "Too many headers");
      return std::string_view::npos;
    }
    const std::size_t colon = line.find(':');
    const std::string_view header_name = trim_right(line.substr(0, colon));
    if (colon == std::string_view::npos || !is_token(header_name)) {
      fail(400, "Malformed header line");
      continue;
    }
    name = header_name;
    value = trim(line.substr(colon + 1));
    have_header = true;
  }
  flush();
  fail(400, "Missing empty line after headers");
  return std::string_view::npos;
}

void Parser::add_header(std::string_view name, std::string_view value) {
  const HeaderInfo* info = find_header_info(name);
  const std::string_view canonical = info == nullptr ? name : info->name;
  if (info == nullptr || !info->list) {
    add_value(info, canonical, value);
    return;
  }
  bool any = false;
  grammar::for_each_list_element(value, [&](std::string_view part) {
    any = true;
    // Empty elements (",,") are dropped from untyped lists and refused in typed ones (badinv01).
    if (!part.empty() || info->id != HeaderId::kOther) add_value(info, canonical, part);
  });
  if (!any) add_value(info, canonical, value);  // "Via:" with nothing: kept so a typed one is refused
}

void Parser::add_value(const HeaderInfo* info, std::string_view canonical, std::string_view value) {
  // The header limit counts stored values, so "Allow: a,a,a,..." cannot turn 64 KiB into
  // tens of thousands of entries either.
  if (msg_.headers.size() >= limits_.max_headers) {
    fail(400, "Too many headers");
    return;
  }
  msg_.headers.push_back(Header{std::string(canonical), std::string(value)});
  if (info != nullptr && info->id != HeaderId::kOther) type_value(info->id, value);
}

void Parser::type_value(HeaderId id, std::string_view value) {
  switch (id) {
    case HeaderId::kVia: {
      if (parse_via_into(value, msg_.vias.emplace_back()) == nullptr) return;
      msg_.vias.pop_back();
      fail(400, "Bad Via header");
      // For the 400 itself: the sent-protocol and sent-by alone still say where to answer.
      if (parse_via_into(value.substr(0, value.find(';')), msg_.vias.emplace_back()) != nullptr) msg_.vias.pop_back();
      return;
    }
    case HeaderId::kFrom:
    case HeaderId::kTo: {
      int& count = id == HeaderId::kFrom ? from_count_ : to_count_;
      if (++count > 1) return;
      NameAddr& na = id == HeaderId::kFrom ? msg_.from : msg_.to;
      if (parse_name_addr_into(value, na) != nullptr || na.wildcard) {
        na = NameAddr();
        fail(400, id == HeaderId::kFrom ? "Bad From header" : "Bad To header");
      }
      return;
    }
    case HeaderId::kCallId:
      if (++call_id_count_ > 1) return;
      if (!is_call_id(value)) fail(400, "Bad Call-ID header");
      msg_.call_id.assign(value);
      return;
    case HeaderId::kCSeq: {
      if (++cseq_count_ > 1) return;
      auto cseq = parse_cseq(value);
      if (!cseq) {
        fail(400, "Bad CSeq header");  // RFC 4475 §3.1.2.4 scalar02: 2^65 does not fit
        return;
      }
      msg_.cseq = std::move(*cseq);
      return;
    }
    case HeaderId::kMaxForwards: {
      if (++max_forwards_count_ > 1) return;
      const auto hops = grammar::parse_decimal(value, 255);  // 1*DIGIT, 0..255 (§20.22)
      if (!hops) {
        fail(400, "Bad Max-Forwards header");
        return;
      }
      msg_.max_forwards = static_cast<int>(*hops);
      return;
    }
    case HeaderId::kContentLength: {
      if (++content_length_count_ > 1) return;
      // 1*DIGIT (§20.14): a sign (RFC 4475 §3.1.2.3 ncl) or a length past the message limit is refused.
      content_length_ = grammar::parse_decimal(value, limits_.max_message_bytes);
      if (!content_length_) fail(400, "Bad Content-Length header");
      return;
    }
    case HeaderId::kContact:
      if (parse_name_addr_into(value, msg_.contacts.emplace_back()) != nullptr) {
        msg_.contacts.pop_back();
        fail(400, "Bad Contact header");
      }
      return;
    case HeaderId::kRoute:
    case HeaderId::kRecordRoute: {
      NameAddr na;
      if (parse_name_addr_into(value, na) != nullptr || na.wildcard) {
        fail(400, id == HeaderId::kRoute ? "Bad Route header" : "Bad Record-Route header");
      }
      return;
    }
    case HeaderId::kOther:
      return;
  }
}

void Parser::check_counts() {
  // §8.1.1: To, From, CSeq, Call-ID and Via are mandatory; Max-Forwards is not enforced here
  // (RFC 2543 peers omit it, RFC 4475 §3.4.1 inv2543). §7.3.1: single-valued headers appear once
  // (RFC 4475 §3.3.8 multi01, §3.3.9 mcl01).
  struct Required {
    int count;
    std::string_view missing;
    std::string_view multiple;
  };
  const Required checks[] = {
      {from_count_, "Missing From header", "Multiple From headers"},
      {to_count_, "Missing To header", "Multiple To headers"},
      {call_id_count_, "Missing Call-ID header", "Multiple Call-ID headers"},
      {cseq_count_, "Missing CSeq header", "Multiple CSeq headers"},
  };
  for (const auto& c : checks) {
    if (c.count == 0) fail(400, c.missing);
    if (c.count > 1) fail(400, c.multiple);
  }
  if (msg_.vias.empty() && !msg_.has_header("Via")) fail(400, "Missing Via header");
  if (max_forwards_count_ > 1) fail(400, "Multiple Max-Forwards headers");
  if (content_length_count_ > 1) fail(400, "Multiple Content-Length headers");
  // §8.1.1.5: the CSeq method matches the request method (RFC 4475 §3.1.2.17 mismatch01).
  if (msg_.is_request && cseq_count_ == 1 && !msg_.cseq.method.empty() && !msg_.method.empty() &&
      msg_.cseq.method != msg_.method) {
    fail(400, "Bad CSeq header: method does not match the Request-Line");
  }
}

ParseError Parser::make_error() {
  ParseError error;
  error.status = failure_->status;
  error.reason = std::move(failure_->reason);
  error.is_request = msg_.is_request;
  // Answerable when a top Via says where to send (§18.2.2); make_response copies whichever of
  // From, To, Call-ID and CSeq could be read (RFC 4475 §3.3.1 insuf lacks some and still gets 400).
  error.have_response_headers = msg_.is_request && !msg_.vias.empty();
  error.partial = std::move(msg_);
  return error;
}

ParseResult Parser::run() {
  std::string_view text = text_;
  if (text.size() > limits_.max_message_bytes) {
    // §21.5.8 513. Read the head anyway (bounded by the limit) so the 513 can be addressed.
    fail(513, "Message Too Large");
    text = text.substr(0, limits_.max_message_bytes);
  }
  // §7.5: CRLFs before the start-line are ignored (also RFC 5626 keep-alives).
  std::size_t pos = 0;
  while (pos < text.size() && (text[pos] == '\r' || text[pos] == '\n')) ++pos;
  text_ = text;
  if (pos == text.size()) {
    fail(400, "Empty message");
    return std::unexpected(make_error());
  }
  std::size_t eol = text.find('\n', pos);
  if (eol == std::string_view::npos) eol = text.size();
  const std::string_view start_line = trim_right(text.substr(pos, eol - pos));
  // The start line decides request or response; parse it even when too long, for is_request.
  if (start_line.size() > limits_.max_line_bytes) fail(400, "Line too long");
  parse_start_line(start_line);
  msg_.headers.reserve(24);
  const std::size_t body_start = parse_header_section(std::min(eol + 1, text.size()));
  check_counts();
  if (body_start != std::string_view::npos) {
    const std::string_view available = text.substr(body_start);
    // §18.3: octets past Content-Length are ignored (RFC 4475 §3.1.1.8 dblreq); fewer than it
    // announces is a 400 for a datagram (§3.1.2.2 clerr). Without one, the rest is the body.
    if (content_length_ && *content_length_ > available.size()) {
      fail(400, "Bad Content-Length header: longer than the message");
    } else {
      msg_.body.assign(available.substr(0, content_length_.value_or(available.size())));
    }
  }
  if (failure_) return std::unexpected(make_error());
  return std::move(msg_);
}

}  // namespace

ParseResult parse_message(std::string_view text, const ParseLimits& limits) {
  Parser parser(text, limits);
  ParseResult result = parser.run();
  if (result) result->wire_size = text.size();
  return result;
}

ParseResult parse_datagram(std::string_view datagram, const ParseLimits& limits) {
  // §18.3: one datagram is one message, its extent known; the same rules as parse_message apply.
  return parse_message(datagram, limits);
}

}  // namespace chorus::sip
