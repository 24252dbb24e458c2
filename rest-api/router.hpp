// Router: the REST API's route table and the synchronous request pipeline that runs on the control
// loop (DESIGN §3 "REST": request → auth → route → domain → JSON or problem+json).
//
// Patterns are absolute paths whose segments are literals or hold one parameter, optionally with a
// literal prefix/suffix: "/v1/rooms/{id}", "/v1/meetings/{id}.ics". When several patterns match a
// path, the most specific wins, segment by segment: literal > affixed parameter > bare parameter.
// A path that matches some pattern but no route for the method gets 405 with Allow (RFC 9110
// §15.5.6); one that matches none gets 404. Parameter values and query items are percent-decoded.
//
// handle() then authenticates (unless the route is public), applies the per-caller rate limit,
// checks the route's scope, and calls the handler; an exception from a handler becomes 500.
//
// handle_local() is the same pipeline for the few routes that can answer from thread-safe state
// alone (set_local: the GET /v1/rooms snapshot), run on the HTTP thread without the hop to the
// control loop (issue 13). It answers only when the route's snapshot is current and the caller is
// known without the store (the admin token, or an API key in the ApiKeyCache); otherwise nullopt,
// and the request takes handle() on the control loop. Either way it is authenticated, rate limited
// (once) and scope-checked.
//
// Threading: add()/set_local() before serving; handle() on the control loop (the handlers touch the
// domain); handle_local() on any thread (the route table is fixed by then, the limiter and the key
// cache are thread-safe).
#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <expected>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rest-api/auth.hpp"
#include "rest-api/http_message.hpp"
#include "rest-api/rate_limiter.hpp"
#include "rest-api/request_target.hpp"

namespace chorus::rest {

struct RouteOptions {
  std::optional<Scope> scope;  // the caller's token must carry it (the admin token carries all)
  std::string summary;         // one line, for the OpenAPI check and logs
  bool admin_only = false;     // API keys, webhooks: the admin token only
  bool public_route = false;   // /healthz, /readyz, /metrics, /v1/openapi.json: no token at all
  // Runs in a store write group (write_group.hpp): the handler's side effects go through
  // CommitEffects::after_commit, and it reads nothing a side effect of another grouped request updates.
  bool write_group = false;
};

using PathParams = std::vector<std::pair<std::string, std::string>>;

// What a handler sees. References point into the request, valid during the handler call only.
struct RequestContext {
  const HttpRequest& request;
  boost::beast::http::verb method;
  std::string_view path;       // as sent (percent-encoded), without the query
  std::string_view pattern;    // the route that matched, e.g. "/v1/rooms/{id}"
  const PathParams& params;    // decoded
  const QueryParams& query;    // decoded
  const Principal* principal;  // nullptr on public routes

  // The parameter's decoded value; empty when the pattern has no such parameter.
  [[nodiscard]] std::string_view param(std::string_view name) const;
  [[nodiscard]] std::string_view header(boost::beast::http::field field) const;
  [[nodiscard]] std::string_view header(std::string_view name) const;
  [[nodiscard]] std::string_view body() const { return request.message.body(); }
};

// The body as JSON: 415 unless the Content-Type is application/json (or another `+json` type),
// 400 (invalid-json) when it is empty, malformed or nested deeper than kMaxJsonDepth.
inline constexpr int kMaxJsonDepth = 64;
std::expected<nlohmann::json, HttpResponse> parse_json_body(const RequestContext& context);

using RouteHandler = std::function<HttpResponse(const RequestContext&)>;

// A route's answer off the control loop: `ready` says whether `answer` can be given now without the
// domain (its snapshot is current); `answer` then always answers. Both run on the HTTP thread.
struct LocalRoute {
  std::function<bool()> ready;
  RouteHandler answer;
};

struct RouteInfo {
  boost::beast::http::verb method;
  std::string pattern;
  RouteOptions options;
};

struct RouteMatch {
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed, kBadEncoding };
  Outcome outcome = Outcome::kNotFound;
  std::size_t route = 0;  // kFound: index into routes()
  PathParams params;      // kFound: decoded
  std::string allow;      // kMethodNotAllowed: "GET, PATCH, DELETE"
};

class Router {
 public:
  // Both outlive the router.
  Router(const Authenticator& authenticator, RateLimiter& limiter);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Throws std::invalid_argument for a malformed pattern or a (method, pattern) added twice:
  // route tables are built at startup, where that is a programming error.
  void add(boost::beast::http::verb method, std::string_view pattern, RouteOptions options, RouteHandler handler);

  [[nodiscard]] RouteMatch match(boost::beast::http::verb method, std::string_view path) const;
  // Gives the route (method, pattern), which must have been added, an answer off the control loop.
  void set_local(boost::beast::http::verb method, std::string_view pattern, LocalRoute local);

  // The whole pipeline for one request; always returns a response (errors as problem+json).
  [[nodiscard]] HttpResponse handle(const HttpRequest& request) const;
  // The pipeline on the calling thread for a route with a LocalRoute that is ready and a caller
  // known without the store; nullopt: use handle() on the control loop.
  [[nodiscard]] std::optional<HttpResponse> handle_local(const HttpRequest& request) const;
  // Whether the request's route runs in a write group (RouteOptions::write_group); false for a
  // request that matches no route.
  [[nodiscard]] bool joins_write_group(const HttpRequest& request) const;
  // (method, pattern, options) in the order they were added.
  [[nodiscard]] std::vector<RouteInfo> routes() const;

 private:
  struct Route;
  std::expected<Principal, HttpResponse> admit(const RouteInfo& route,
                                               std::expected<Principal, AuthFailure> authenticated) const;
  HttpResponse run(const Route& route, const RouteHandler& handler, const HttpRequest& request, std::string_view path,
                   const PathParams& params, const QueryParams& query, const Principal* principal) const;

  const Authenticator* authenticator_;
  RateLimiter* limiter_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace chorus::rest
