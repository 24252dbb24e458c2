// In-place forms of the typed parsers, for the message parser: they fill an existing object instead
// of returning a new one through std::expected, which saves moving ~1 KiB structs per header on
// the hot path. Each returns nullptr on success or a static text saying what is wrong; on failure
// the object is left partly filled. Internal to signaling/message.
#pragma once

#include <string_view>

#include "signaling/message/header_types.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::sip {

const char* parse_uri_into(std::string_view text, SipUri& uri);
const char* parse_via_into(std::string_view value, Via& via);
const char* parse_name_addr_into(std::string_view value, NameAddr& na);

}  // namespace chorus::sip
