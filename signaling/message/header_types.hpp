// Typed views of the SIP header fields the stack acts upon, one type per grammar rule (RFC 3261 §25.1).
// Each parse_* function takes one header value (already unfolded and split at top-level commas)
// and returns the type, or a short reason naming what is wrong.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/message/sip_uri.hpp"

namespace chorus::sip {

struct GenericParam {
  std::string name;   // lower-cased
  std::string value;  // quotes kept off; empty for a flag
  bool has_value = false;
};

const GenericParam* find_param(const std::vector<GenericParam>& params, std::string_view name);

// Via: SIP/2.0/UDP host:port;branch=...;received=...;rport (§20.42, RFC 3581)
struct Via {
  std::string protocol = "SIP/2.0";
  std::string transport;  // upper-cased: UDP, TCP, TLS, WS, WSS, SCTP, or an unknown token
  std::string host;       // IPv6 without brackets
  std::optional<std::uint16_t> port;
  std::vector<GenericParam> params;

  [[nodiscard]] std::string branch() const;
  [[nodiscard]] bool has_magic_cookie() const;  // branch starts with "z9hG4bK" (§8.1.1.7)
  [[nodiscard]] std::string to_string() const;
};

// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route (§20.10)
struct NameAddr {
  std::string display_name;  // unquoted
  SipUri uri;
  std::string uri_text;   // the URI as written
  bool wildcard = false;  // Contact: *
  std::vector<GenericParam> params;

  [[nodiscard]] std::string tag() const;
  [[nodiscard]] std::string to_string() const;  // always in <> form
};

struct CSeq {
  std::uint32_t number = 0;
  std::string method;
};

std::expected<Via, std::string> parse_via(std::string_view value);
std::expected<NameAddr, std::string> parse_name_addr(std::string_view value);
std::expected<CSeq, std::string> parse_cseq(std::string_view value);

// Splits a header value at commas that are outside quotes and <> (§7.3.1). Each part is trimmed.
std::vector<std::string_view> split_header_list(std::string_view value);

// Parameters after a ';' as in ";a=b;c" with quoted values; false when the text is malformed.
bool parse_params(std::string_view text, std::vector<GenericParam>& out);

// Helpers that the grammar uses everywhere.
bool is_token(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);

}  // namespace chorus::sip
