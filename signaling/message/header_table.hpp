// The header names the stack knows: canonical spelling, compact form, whether the value is a
// comma-separated list (RFC 3261 §7.3.1, §20), and which ones the parser types. Internal to
// signaling/message; the public face is canonical_header_name() / is_list_header().
#pragma once

#include <cstdint>
#include <string_view>

namespace chorus::sip {

// Headers the message parser turns into typed fields or checks (RFC 3261 §8.1.1, §20).
enum class HeaderId : std::uint8_t {
  kOther,
  kVia,
  kFrom,
  kTo,
  kCallId,
  kCSeq,
  kMaxForwards,
  kContentLength,
  kContact,
  kRoute,
  kRecordRoute,
};

struct HeaderInfo {
  std::string_view name;  // canonical long form
  HeaderId id = HeaderId::kOther;
  bool list = false;  // comma-separated values are split into one entry each
  char compact = 0;   // compact form (§7.3.3 and the extensions that define one), 0 if none
};

// Looks `name` (any case, long or compact form) up; nullptr for a header the table does not know.
const HeaderInfo* find_header_info(std::string_view name);

}  // namespace chorus::sip
