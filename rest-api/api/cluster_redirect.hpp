// Issue 14: REST about a live conference that runs on another node of the cluster (several chorusd
// nodes on one PostgreSQL store; conference/cluster/) is answered 307 Temporary Redirect (RFC 9110
// §15.4.8) with Location: <that node's node_http_url><this request's path and query, as sent>. The
// method and body are kept by a client that follows it (curl -L, browsers, most HTTP libraries),
// and the request reaches the node that holds the conference's participants and engines. Chosen
// over proxying: no node ever forwards another client's bearer token or body, and a node that is
// down is not hidden behind a healthy one. The caller is authenticated and its scope checked first
// (the route's own), so a 307 tells nothing to whoever may not ask.
// Used by the routes under /v1/conferences/{id}: the conference, its participants (list, PATCH,
// DELETE, dial-out) and its recordings (start, stop). A room live on this node, on no node, or a
// node that is not clustered answers as it always did.
// Threading: control loop (a route handler).
#pragma once

#include <optional>
#include <string_view>

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

// The 307 when the conference in `room_id` runs on another node; nullopt otherwise.
std::optional<HttpResponse> conference_elsewhere(const ApiServices& services, const RequestContext& context,
                                                 std::string_view room_id);

// The Location: `node_url` (no trailing '/') followed by the request-target as it was sent.
std::string redirect_location(std::string_view node_url, std::string_view request_target);

}  // namespace chorus::rest
