// SipMessage: one SIP request or response (RFC 3261 §7).
//
// Headers are kept as an ordered list of (canonical name, value) with comma-separated list headers
// split into one entry per value, so a message serialises in the order it was built or received.
// For received messages the parser also fills the typed fields below (vias, from, to, cseq, ...)
// after checking them; code that builds outgoing messages writes headers only, then serialises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/message/header_types.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::sip {

struct Header {
  std::string name;   // canonical long form, e.g. "Via", "Call-ID", "Content-Type"
  std::string value;  // unfolded and trimmed
};

class SipMessage {
 public:
  // ---- start line
  bool is_request = true;
  std::string method;            // requests
  std::string request_uri_text;  // requests, as received / to be sent
  SipUri request_uri;            // requests, parsed (parser fills it)
  int status = 0;                // responses
  std::string reason;            // responses
  std::string version = "SIP/2.0";

  std::vector<Header> headers;
  std::string body;

  // ---- typed fields, filled by the parser for received messages (see message_parser.hpp)
  std::vector<Via> vias;
  NameAddr from;
  NameAddr to;
  CSeq cseq;
  std::string call_id;
  std::optional<int> max_forwards;
  std::vector<NameAddr> contacts;
  // Received messages: the octets the message took on the wire (the whole datagram for UDP), the
  // measure of what a sender spent when we bound what we send back (user_agent.cpp's 2xx budget).
  std::size_t wire_size = 0;

  // ---- header access (names compare case-insensitively; compact forms are canonicalised on parse)
  [[nodiscard]] const std::string* header(std::string_view name) const;  // first value or nullptr
  [[nodiscard]] std::vector<std::string_view> header_values(std::string_view name) const;
  [[nodiscard]] bool has_header(std::string_view name) const { return header(name) != nullptr; }
  void add_header(std::string name, std::string value);
  void set_header(std::string_view name, std::string value);  // replaces every value of `name`
  void remove_header(std::string_view name);
  // Puts `value` before any existing `name` headers (a new top Via, a Record-Route, ...).
  void prepend_header(std::string name, std::string value);

  [[nodiscard]] bool is_response() const { return !is_request; }
  [[nodiscard]] const std::string& cseq_method() const { return cseq.method; }
  [[nodiscard]] std::string top_branch() const { return vias.empty() ? std::string() : vias.front().branch(); }

  // Wire form. Content-Length is written from body.size() (any stored one is replaced).
  [[nodiscard]] std::string serialize() const;
};

// Maps a compact or any-case header name to its canonical long form ("v" → "Via",
// "call-id" → "Call-ID"); unknown names keep their spelling.
std::string canonical_header_name(std::string_view name);

// Whether a header's value is a comma-separated list that the parser splits (§7.3.1).
bool is_list_header(std::string_view canonical_name);

// Default reason phrase for a status code (§21).
std::string_view default_reason(int status);

// A response to `request` as §8.2.6.2 says: the same Via, From, To, Call-ID and CSeq. When `to_tag`
// is not empty and To has no tag yet, it is added.
SipMessage make_response(const SipMessage& request, int status, std::string_view to_tag = {},
                         std::string_view reason = {});

}  // namespace chorus::sip
