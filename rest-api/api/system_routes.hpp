// The operational routes, all outside /v1 except the drain (DESIGN §4):
//   GET  /healthz           public   200 {"status":"ok"} while the process can answer at all
//   GET  /readyz            public   200 {"status":"ready"} when services.ready(), else 503
//                                    problem+json (a load balancer stops sending new work)
//   GET  /metrics           public   Prometheus text format 0.0.4 (services.metrics.render())
//   POST /v1/system/drain   system:admin   services.drain(), 202 {"status":"draining"}; /readyz turns 503
//                                    (SIGTERM's drain: every call is hung up and the process ends)
//   GET  /v1/system         system:admin   200 services.system_status(): {"node_id", "draining",
//                                    "live_conferences", "clustered"}
//   DELETE /v1/system/drain system:admin   clustered only (409 otherwise): the drain ends, 200 status
// Issue 14, clustered (services.cluster_drain set): POST is the node's drain instead — it takes no
// new conference (SIP OPTIONS 503, INVITEs for rooms not live here 503), its live conferences go
// on, and it answers 202 {"status":"draining"} with the system status (/readyz is 503 meanwhile);
// DELETE ends it.
// GET /v1/openapi.json is added by the server wiring.
//
// Threading: add before serving; the handlers run on the control loop like every route.
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_system_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
