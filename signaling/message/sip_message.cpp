// SipMessage header access, wire form, reason phrases and responses (RFC 3261 §7, §8.2.6, §21).
#include "signaling/message/sip_message.hpp"

#include <algorithm>

#include "signaling/message/header_table.hpp"

namespace chorus::sip {
namespace {

// The canonical spelling to compare stored names against: stored names are canonical already.
std::string_view lookup_name(std::string_view name) {
  const HeaderInfo* info = find_header_info(name);
  return info == nullptr ? name : info->name;
}

void append_status_code(int status, std::string& out) {
  // Status-Code = 3DIGIT (§25.1); the caller supplies 100..699.
  const int s = std::clamp(status, 0, 999);
  out.push_back(static_cast<char>('0' + s / 100));
  out.push_back(static_cast<char>('0' + s / 10 % 10));
  out.push_back(static_cast<char>('0' + s % 10));
}

}  // namespace

const std::string* SipMessage::header(std::string_view name) const {
  const std::string_view want = lookup_name(name);
  for (const auto& h : headers) {
    if (iequals(h.name, want)) return &h.value;
  }
  return nullptr;
}

std::vector<std::string_view> SipMessage::header_values(std::string_view name) const {
  const std::string_view want = lookup_name(name);
  std::vector<std::string_view> values;
  for (const auto& h : headers) {
    if (iequals(h.name, want)) values.emplace_back(h.value);
  }
  return values;
}

void SipMessage::add_header(std::string name, std::string value) {
  headers.push_back(Header{canonical_header_name(name), std::move(value)});
}

void SipMessage::set_header(std::string_view name, std::string value) {
  const std::string_view want = lookup_name(name);
  const auto first = std::find_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, want); });
  if (first == headers.end()) {
    headers.push_back(Header{canonical_header_name(name), std::move(value)});
    return;
  }
  // Keep the header where it was; drop its other values.
  first->value = std::move(value);
  const auto index = first - headers.begin();
  headers.erase(std::remove_if(headers.begin() + index + 1, headers.end(),
                               [&](const Header& h) { return iequals(h.name, want); }),
                headers.end());
}

void SipMessage::remove_header(std::string_view name) {
  const std::string_view want = lookup_name(name);
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, want); });
}

void SipMessage::prepend_header(std::string name, std::string value) {
  std::string canonical = canonical_header_name(name);
  const auto first =
      std::find_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, canonical); });
  headers.insert(first, Header{std::move(canonical), std::move(value)});
}

std::string SipMessage::serialize() const {
  std::size_t size = 64 + body.size() + method.size() + request_uri_text.size() + reason.size();
  for (const auto& h : headers) size += h.name.size() + h.value.size() + 4;
  std::string out;
  out.reserve(size);
  if (is_request) {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1)
    out += method;
    out.push_back(' ');
    out += request_uri_text.empty() ? request_uri.to_string() : request_uri_text;
    out.push_back(' ');
    out += version;
  } else {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2)
    out += version;
    out.push_back(' ');
    append_status_code(status, out);
    out.push_back(' ');
    out += reason;
  }
  out += "\r\n";
  for (const auto& h : headers) {
    if (iequals(h.name, "Content-Length")) continue;  // written from the body below
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::string canonical_header_name(std::string_view name) {
  return std::string(lookup_name(name));
}

bool is_list_header(std::string_view canonical_name) {
  const HeaderInfo* info = find_header_info(canonical_name);
  return info != nullptr && info->list;
}

std::string_view default_reason(int status) {
  switch (status) {
    // §21.1 Provisional
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 199: return "Early Dialog Terminated";  // RFC 6228
    // §21.2 Successful
    case 200: return "OK";
    case 202: return "Accepted";  // RFC 3265
    case 204: return "No Notification";  // RFC 5839
    // §21.3 Redirection
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    // §21.4 Request Failure
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 412: return "Conditional Request Failed";  // RFC 3903
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 422: return "Session Interval Too Small";  // RFC 4028
    case 423: return "Interval Too Brief";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";  // RFC 6665
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    // §21.5 Server Failure
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 580: return "Precondition Failure";  // RFC 3312
    // §21.6 Global Failures
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    default: break;
  }
  // §21: an unknown code is treated as the x00 of its class.
  if (status >= 100 && status < 200) return "Provisional";
  if (status >= 200 && status < 300) return "Successful";
  if (status >= 300 && status < 400) return "Redirection";
  if (status >= 400 && status < 500) return "Request Failure";
  if (status >= 500 && status < 600) return "Server Failure";
  if (status >= 600 && status < 700) return "Global Failure";
  return "Unknown";
}

SipMessage make_response(const SipMessage& request, int status, std::string_view to_tag, std::string_view reason) {
  // §8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq are copied from the request.
  SipMessage response;
  response.is_request = false;
  response.status = status;
  response.reason = reason.empty() ? std::string(default_reason(status)) : std::string(reason);
  response.headers.reserve(request.vias.size() + 5);

  // The typed Vias win over the raw text: the transport adds received/rport to the top one
  // (§18.2.1, RFC 3581) and the response must carry them.
  if (!request.vias.empty()) {
    for (const auto& via : request.vias) response.headers.push_back(Header{"Via", via.to_string()});
    response.vias = request.vias;
  } else {
    for (const auto& h : request.headers) {
      if (h.name == "Via" && !h.value.empty()) response.headers.push_back(Header{"Via", h.value});
    }
  }

  if (const std::string* from = request.header("From")) {
    response.headers.push_back(Header{"From", *from});
  } else if (!request.from.uri_text.empty() || !request.from.uri.scheme.empty()) {
    response.headers.push_back(Header{"From", request.from.to_string()});
  }
  response.from = request.from;

  // To: the raw value, with our tag when there is none yet (§8.2.6.2, §12.1.1).
  // An unreadable To (a 400 for a bad request) is echoed as it came, without a tag.
  response.to = request.to;
  std::string to_value;
  bool to_readable = false;
  if (const std::string* to = request.header("To")) {
    to_value = *to;
    if (auto parsed = parse_name_addr(to_value)) {
      response.to = std::move(*parsed);
      to_readable = true;
    }
  } else if (!request.to.uri_text.empty() || !request.to.uri.scheme.empty()) {
    to_value = request.to.to_string();
    to_readable = true;
  }
  if (!to_tag.empty() && to_readable && response.to.tag().empty()) {
    to_value += ";tag=";
    to_value += to_tag;
    response.to.params.push_back(GenericParam{"tag", std::string(to_tag), true});
  }
  if (!to_value.empty()) response.headers.push_back(Header{"To", std::move(to_value)});

  if (const std::string* call_id = request.header("Call-ID")) {
    response.headers.push_back(Header{"Call-ID", *call_id});
    response.call_id = *call_id;
  } else if (!request.call_id.empty()) {
    response.headers.push_back(Header{"Call-ID", request.call_id});
    response.call_id = request.call_id;
  }

  if (const std::string* cseq = request.header("CSeq")) {
    response.headers.push_back(Header{"CSeq", *cseq});
  } else if (!request.cseq.method.empty()) {
    response.headers.push_back(Header{"CSeq", std::to_string(request.cseq.number) + " " + request.cseq.method});
  }
  response.cseq = request.cseq;
  return response;
}

}  // namespace chorus::sip
