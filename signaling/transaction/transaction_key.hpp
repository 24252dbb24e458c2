// Transaction matching keys (RFC 3261 §17.1.3, §17.2.3) and the random tokens the layer hands out.
// Keys are written into a caller-owned buffer so a lookup allocates nothing once it has grown.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

// RFC 3261 §8.1.1.7: a branch made by an RFC 3261 element starts with this cookie.
inline constexpr std::string_view kMagicCookie = "z9hG4bK";

// The server-side key of `request` (whose vias are not empty), matched as if its method were
// `method` (the caller passes "INVITE" for an ACK or for the INVITE a CANCEL targets).
//  - §17.2.3 with the magic cookie: top Via branch + sent-by + method.
//  - RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and the top Via. (The To tag
//    is left out so an ACK finds its INVITE; the layer compares it separately.)
// Returns whether the key is an RFC 2543 one.
bool make_server_key(const SipMessage& request, std::string_view method, std::string& out);

// The client-side key (§17.1.3): the top Via branch and the CSeq method.
void make_client_key(std::string_view branch, std::string_view cseq_method, std::string& out);

// `length` characters from [A-Za-z0-9] from the CSPRNG (common/random.hpp; RFC 3261 §19.3 tags).
std::string random_token(std::size_t length);

}  // namespace chorus::sip
