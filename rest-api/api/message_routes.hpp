// Chat in live conferences (issue 15; the SIP side is conference/chat/chat_service.hpp).
//   GET  /v1/conferences/{id}/messages[?since=<seq>]         rooms:read
//        → 200 {"messages": [{"seq", "sent_at", "from": {"participant_id", "display_name"}, "text",
//          "origin": "sip" | "api"}], "last_seq"}: the conference's history (at most its last 200),
//          newest last; `since` keeps the ones after that seq (poll with the last seq seen)
//   POST /v1/conferences/{id}/messages  {"text": "…", "from": "Operator"}   conferences:moderate
//        → 201 the message: delivered to every MESSAGE-capable SIP participant as "<from>: <text>"
//          (CPIM From "<from>" <sip:<room>@host> to those that take CPIM) and published as chat.message
// 404: no conference runs in the room (a conference exists while its room has participants, and
// its history ends with it); 422: text missing, empty, over 4096 bytes or with control characters
// other than tab and line ends, from over 128 bytes or with control characters, unknown members;
// 400: a `since` that is not a non-negative integer; 503: chat is not wired in this server.
// Issue 14: a conference running on another node is answered 307 to that node.
// Threading: the handlers run on the control loop (Router).
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_message_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
