#include "rest-api/api/system_routes.hpp"

#include <nlohmann/json.hpp>

#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

void add_system_routes(Router& router, ApiServices& services) {
  // Liveness: answering at all is the signal, so nothing is checked.
  router.add(http::verb::get, "/healthz", {.summary = "Liveness", .public_route = true},
             [](const RequestContext&) { return HttpResponse::json(http::status::ok, {{"status", "ok"}}); });

  router.add(http::verb::get, "/readyz", {.summary = "Readiness", .public_route = true},
             [&services](const RequestContext&) {
               if (services.ready && services.ready()) {
                 return HttpResponse::json(http::status::ok, {{"status", "ready"}});
               }
               return service_unavailable("not ready: starting, draining or the store is unavailable");
             });

  router.add(http::verb::get, "/metrics", {.summary = "Prometheus metrics", .public_route = true},
             [&services](const RequestContext&) {
               return HttpResponse::text(http::status::ok, services.metrics.render(), kMetricsContentType);
             });

  const RouteOptions system{.scope = Scope::kSystemAdmin, .summary = "This node: its status and drain"};
  // RFC 9110 §15.3.3: 202, the drain goes on after the answer (calls end on their own).
  router.add(http::verb::post, "/v1/system/drain", system, [&services](const RequestContext&) {
    if (services.cluster_drain) {  // issue 14: the node leaves the cluster's rotation, calls go on
      services.cluster_drain(true);
      nlohmann::json body = services.system_status ? services.system_status() : nlohmann::json::object();
      body["status"] = "draining";
      return HttpResponse::json(http::status::accepted, body);
    }
    if (!services.drain) return internal_error("draining is not available in this server");
    services.drain();
    return HttpResponse::json(http::status::accepted, {{"status", "draining"}});
  });

  router.add(http::verb::delete_, "/v1/system/drain", system, [&services](const RequestContext&) {
    if (!services.cluster_drain)
      return conflict("a single node's drain ends the process and cannot be undone; only a clustered node's can");
    services.cluster_drain(false);
    return HttpResponse::json(http::status::ok,
                              services.system_status ? services.system_status() : nlohmann::json::object());
  });

  router.add(http::verb::get, "/v1/system", system, [&services](const RequestContext&) {
    if (!services.system_status) return service_unavailable("the system status is not available in this server");
    return HttpResponse::json(http::status::ok, services.system_status());
  });
}

}  // namespace chorus::rest
