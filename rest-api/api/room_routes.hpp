// /v1/rooms: create, list, read, change (JSON merge patch with If-Match) and delete rooms.
//
//   POST   /v1/rooms        rooms:write  201 + Location + ETag; 409 when the id or dial-in number is taken
//   GET    /v1/rooms        rooms:read   paged list (limit, page_token)
//   GET    /v1/rooms/{id}   rooms:read   200 + ETag
//   PATCH  /v1/rooms/{id}   rooms:write  RFC 7396 merge patch; If-Match required (428 / 412)
//   DELETE /v1/rooms/{id}   rooms:write  204; 409 while participants are in it; If-Match honoured
//
// Each write goes to the store first (durable before the 2xx), then to the RoomDirectory the SIP
// path reads (and the MeetingCalendar on delete), then becomes an event (room.created,
// room.updated, room.deleted; meeting.deleted for each meeting a room deletion takes with it).
// Event payloads carry the room without its PINs; answers carry them only to the admin token and
// keys with rooms:secrets (others see "pin_set" / "moderator_pin_set"). A PIN a request sets must
// have at least min_pin_digits digits (422); one below 6 that the setting allows is logged as a
// warning (without the PIN).
//
// GET /v1/rooms with ApiServices::room_list set (a single node, issue 13) answers from that
// snapshot (room_list_snapshot.hpp): on the HTTP thread while it is current, else on the control
// loop after rebuilding it from the store; the bytes are those of the store path.
//
// Threading: the handlers run on the control loop (router.hpp), where ApiServices may be used; the
// snapshot's local answer on the HTTP thread.
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

// `services` outlives the router.
void add_room_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
