// libFuzzer target: the URI and header-value grammar (RFC 3261 §25.1, RFC 5118).
//
// Each input is tried as a URI, a name-addr, a Via and a CSeq. Invariants: what parses, printed
// with to_string(), parses again and prints the same (escaping and quoting are stable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signaling/message/header_types.hpp"
#include "signaling/message/sip_uri.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto uri = chorus::sip::parse_uri(text)) {
    const std::string printed = uri->to_string();
    auto again = chorus::sip::parse_uri(printed);
    require(again.has_value());
    require(again->to_string() == printed);
    require(again->user == uri->user && again->host == uri->host && again->port == uri->port);
  }

  if (auto na = chorus::sip::parse_name_addr(text)) {
    const std::string printed = na->to_string();
    auto again = chorus::sip::parse_name_addr(printed);
    require(again.has_value());
    require(again->to_string() == printed);
    require(again->display_name == na->display_name && again->tag() == na->tag());
  }

  if (auto via = chorus::sip::parse_via(text)) {
    const std::string printed = via->to_string();
    auto again = chorus::sip::parse_via(printed);
    require(again.has_value());
    require(again->to_string() == printed);
    require(again->branch() == via->branch() && again->params.size() == via->params.size());
  }

  if (auto cseq = chorus::sip::parse_cseq(text)) {
    require(cseq->number <= 0x7fffffffU && chorus::sip::is_token(cseq->method));
  }

  for (std::string_view part : chorus::sip::split_header_list(text)) {
    require(part.size() <= text.size());
  }
  return 0;
}
