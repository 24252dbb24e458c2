// libFuzzer target: SIP message parsing (datagram and stream), serialisation and responses.
//
// Besides "no crash, no leak, no UB", it checks invariants:
//  - a parsed message serialises to text that parses again to the same typed fields;
//  - make_response() of a parsed request, or of an answerable error's partial message,
//    serialises to a response that parses;
//  - the StreamFramer, fed the same bytes in two pieces, never buffers past twice its limit.
// Seed it with ../shared/conformance/rfc4475/*.dat and rfc5118/*.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signaling/message/message_parser.hpp"

namespace {

using chorus::sip::ParseLimits;
using chorus::sip::SipMessage;

void require(bool condition) {
  if (!condition) std::abort();
}

// Serialising splits list headers one per line and expands compact names, so a re-parse may need
// more headers, longer lines and more bytes than the original limits allowed.
ParseLimits relaxed_limits() {
  ParseLimits limits;
  limits.max_message_bytes = 1 << 22;
  limits.max_headers = 1 << 20;
  limits.max_line_bytes = 1 << 22;
  return limits;
}

void check_same_typed_fields(const SipMessage& a, const SipMessage& b) {
  require(a.is_request == b.is_request);
  require(a.method == b.method && a.status == b.status);
  require(a.request_uri.to_string() == b.request_uri.to_string());
  require(a.vias.size() == b.vias.size());
  for (std::size_t i = 0; i < a.vias.size(); ++i) require(a.vias[i].to_string() == b.vias[i].to_string());
  require(a.from.to_string() == b.from.to_string());
  require(a.to.to_string() == b.to.to_string());
  require(a.call_id == b.call_id);
  require(a.cseq.number == b.cseq.number && a.cseq.method == b.cseq.method);
  require(a.max_forwards == b.max_forwards);
  require(a.contacts.size() == b.contacts.size());
  require(a.body == b.body);
}

void check_response_parses(const SipMessage& request, int status) {
  const SipMessage response = chorus::sip::make_response(request, status, "fuzz-tag");
  auto parsed = chorus::sip::parse_message(response.serialize(), relaxed_limits());
  require(parsed.has_value());
  require(parsed->status == status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto result = chorus::sip::parse_datagram(text);
  if (result) {
    auto again = chorus::sip::parse_message(result->serialize(), relaxed_limits());
    require(again.has_value());
    check_same_typed_fields(*result, *again);
    if (result->is_request) check_response_parses(*result, 200);
  } else {
    const auto& error = result.error();
    require(error.status == 400 || error.status == 505 || error.status == 513);
    require(!error.reason.empty());
    // An answerable error has a top Via; the 400 it gets must at least be readable text.
    if (error.have_response_headers) {
      require(error.is_request && !error.partial.vias.empty());
      (void)chorus::sip::make_response(error.partial, error.status).serialize();
    }
  }

  // The same bytes as a stream, in two pieces, with small limits so the bounds are exercised.
  ParseLimits limits;
  limits.max_message_bytes = 2048;
  chorus::sip::StreamFramer framer(limits);
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  for (std::string_view piece : {text.substr(0, cut), text.substr(cut)}) {
    if (!framer.feed(piece)) break;
    require(framer.buffered() <= 2 * limits.max_message_bytes);
    for (int i = 0; i < 64; ++i) {
      auto item = framer.next();
      if (item.status == chorus::sip::StreamFramer::Status::kNeedMore ||
          item.status == chorus::sip::StreamFramer::Status::kFatal) {
        break;
      }
      require(item.message.has_value() != item.error.has_value());
    }
  }
  return 0;
}
