// Recordings of live conferences (conference/recording/recording_service.hpp):
//   POST   /v1/conferences/{id}/recordings                 start: 201, Location /v1/recordings/{rid}
//   GET    /v1/recordings[?conference_id=&limit=&page_token=]  newest first
//   GET    /v1/recordings/{id}
//   PATCH  /v1/recordings/{id}            {"state":"stopped"}  202: stopping; recording.stopped follows
//   PATCH  /v1/conferences/{cid}/recordings/{id}              the same
//   GET    /v1/recordings/{id}/media      the file, with Range (RFC 9110 §14): 200, 206, 416
//   DELETE /v1/recordings/{id}            204; 409 while it runs
// Every route needs conferences:moderate: a recording is the meeting itself.
// Refusals: 404 (no one in the conference, unknown recording), 409 (already recording, or still
// running on DELETE), 507 (quota used up, RFC 4918 §11.5), 503 (too many running, or recording is
// not configured), 500 (the recorder could not start).
// Threading: handlers run on the control loop (Router).
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_recording_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
