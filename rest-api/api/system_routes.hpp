// The operational routes, all outside /v1 except the drain (DESIGN §4):
//   GET  /healthz           public   200 {"status":"ok"} while the process can answer at all
//   GET  /readyz            public   200 {"status":"ready"} when services.ready(), else 503
//                                    problem+json (a load balancer stops sending new work)
//   GET  /metrics           public   Prometheus text format 0.0.4 (services.metrics.render())
//   POST /v1/system/drain   admin    services.drain(), 202 {"status":"draining"}; /readyz turns 503
// GET /v1/openapi.json is added by the server wiring.
//
// Threading: add before serving; the handlers run on the control loop like every route.
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_system_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
