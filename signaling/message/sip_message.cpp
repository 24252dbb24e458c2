// SipMessage header access, wire form, reason phrases and responses (RFC 3261 §7, §8.2.6, §21).
#include "signaling/message/sip_message.hpp"

#include <algorithm>
#include <iterator>

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

struct ReasonPhrase {
  int status;
  std::string_view reason;
};

// RFC 3261 §21 and the extensions' codes, ascending.
constexpr ReasonPhrase kReasonPhrases[] = {
    // §21.1 Provisional
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {199, "Early Dialog Terminated"},  // RFC 6228
    // §21.2 Successful
    {200, "OK"},
    {202, "Accepted"},         // RFC 3265
    {204, "No Notification"},  // RFC 5839
    // §21.3 Redirection
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},  // §21.4 Request Failure
    // §21.4 Request Failure
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {412, "Conditional Request Failed"},  // RFC 3903
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},  // RFC 4028
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},  // RFC 6665
    {491, "Request Pending"},
    {493, "Undecipherable"},  // §21.5 Server Failure
    // §21.5 Server Failure
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {580, "Precondition Failure"},  // RFC 3312
    // §21.6 Global Failures
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
};

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
  const auto first =
      std::find_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, want); });
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
  const auto* end = std::end(kReasonPhrases);
  const auto* it = std::lower_bound(std::begin(kReasonPhrases), end, status,
                                    [](const ReasonPhrase& r, int code) { return r.status < code; });
  if (it != end && it->status == status) return it->reason;
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
