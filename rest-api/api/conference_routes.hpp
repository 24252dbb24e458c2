// /v1/conferences: the live side of rooms — who is in a room now, lock it, end it, kick someone.
// A conference exists while its room has participants; its id is the room id.
//   GET    /v1/conferences                              rooms:read
//   GET    /v1/conferences/{id}                         rooms:read
//   PATCH  /v1/conferences/{id}          {"locked"}     conferences:moderate
//   DELETE /v1/conferences/{id}          BYE to all     conferences:moderate
//   GET    /v1/conferences/{id}/participants            rooms:read
//   DELETE /v1/conferences/{id}/participants/{pid}      conferences:moderate (BYE)
// Audio controls (guests_muted, audio_muted, talking) and dial-out arrive with the audio engine.
// Threading: handlers run on the control loop (Router).
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_conference_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
