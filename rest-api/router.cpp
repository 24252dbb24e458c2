#include "rest-api/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

namespace {

struct Segment {
  std::string prefix;  // the literal itself when !is_param
  std::string name;
  std::string suffix;
  bool is_param = false;

  // Higher is more specific: literal 2, affixed parameter 1, bare parameter 0.
  [[nodiscard]] int rank() const {
    if (!is_param) return 2;
    return prefix.empty() && suffix.empty() ? 0 : 1;
  }
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Segment parse_segment(std::string_view text, std::string_view pattern) {
  const auto open = text.find('{');
  const auto close = text.find('}');
  if (open == std::string_view::npos && close == std::string_view::npos) return Segment{std::string(text), {}, {}};
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2 ||
      text.find('{', open + 1) != std::string_view::npos || text.find('}', close + 1) != std::string_view::npos) {
    throw std::invalid_argument("malformed route pattern " + std::string(pattern));
  }
  return Segment{std::string(text.substr(0, open)), std::string(text.substr(open + 1, close - open - 1)),
                 std::string(text.substr(close + 1)), true};
}

std::string_view verb_name(http::verb method) {
  return std_view(http::to_string(method));
}

}  // namespace

struct Router::Route {
  RouteInfo info;
  RouteHandler handler;
  std::optional<LocalRoute> local;
  std::vector<Segment> segments;
  std::vector<int> specificity;

  // The decoded parameters when the path's segments fit; nullopt when they do not. `bad` is set
  // when they fit but a parameter is badly percent-encoded.
  std::optional<PathParams> bind(const std::vector<std::string_view>& parts, bool& bad) const {
    if (parts.size() != segments.size()) return std::nullopt;
    PathParams params;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& segment = segments[i];
      const auto part = parts[i];
      if (!segment.is_param) {
        if (part != segment.prefix) return std::nullopt;
        continue;
      }
      if (part.size() <= segment.prefix.size() + segment.suffix.size() || !part.starts_with(segment.prefix) ||
          !part.ends_with(segment.suffix)) {
        return std::nullopt;
      }
      auto value = percent_decode(
          part.substr(segment.prefix.size(), part.size() - segment.prefix.size() - segment.suffix.size()));
      if (!value) {
        bad = true;
        return std::nullopt;
      }
      params.emplace_back(segment.name, std::move(*value));
    }
    return params;
  }
};

std::string_view RequestContext::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::string_view RequestContext::header(http::field field) const {
  const auto it = request.message.find(field);
  return it == request.message.end() ? std::string_view{} : std_view(it->value());
}

std::string_view RequestContext::header(std::string_view name) const {
  const auto it = request.message.find(beast_view(name));
  return it == request.message.end() ? std::string_view{} : std_view(it->value());
}

std::expected<nlohmann::json, HttpResponse> parse_json_body(const RequestContext& context) {
  auto type = context.header(http::field::content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  const std::string lower = ascii_lowercase(type);
  if (lower != "application/json" && !(lower.starts_with("application/") && lower.ends_with("+json"))) {
    return std::unexpected(unsupported_media_type("application/json"));
  }
  if (context.body().empty()) return std::unexpected(invalid_json("the body is empty"));
  bool too_deep = false;
  // `depth` counts the containers around the one being started: kMaxJsonDepth levels are allowed.
  const nlohmann::json::parser_callback_t limit_depth = [&too_deep](int depth, nlohmann::json::parse_event_t event,
                                                                    nlohmann::json&) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::array_start || event == Event::object_start) && depth >= kMaxJsonDepth) too_deep = true;
    return !too_deep;
  };
  try {
    auto value = nlohmann::json::parse(context.body(), limit_depth);
    if (too_deep) return std::unexpected(invalid_json("nested deeper than " + std::to_string(kMaxJsonDepth)));
    return value;
  } catch (const nlohmann::json::parse_error& error) {
    return std::unexpected(invalid_json(error.what()));
  }
}

Router::Router(const Authenticator& authenticator, RateLimiter& limiter)
    : authenticator_(&authenticator), limiter_(&limiter) {}

Router::~Router() = default;

void Router::add(http::verb method, std::string_view pattern, RouteOptions options, RouteHandler handler) {
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route pattern must start with /");
  for (const auto& route : routes_) {
    if (route->info.method == method && route->info.pattern == pattern) {
      throw std::invalid_argument("route added twice: " + std::string(verb_name(method)) + " " + std::string(pattern));
    }
  }
  auto route = std::make_unique<Route>();
  route->info = RouteInfo{method, std::string(pattern), std::move(options)};
  route->handler = std::move(handler);
  for (const auto part : split_path(pattern)) {
    route->segments.push_back(parse_segment(part, pattern));
    route->specificity.push_back(route->segments.back().rank());
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(http::verb method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path.front() != '/') return result;
  const auto parts = split_path(path);
  const Route* best = nullptr;
  std::vector<http::verb> allowed;
  bool bad_encoding = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& route = *routes_[i];
    auto params = route.bind(parts, bad_encoding);
    if (!params) continue;
    if (std::find(allowed.begin(), allowed.end(), route.info.method) == allowed.end()) {
      allowed.push_back(route.info.method);
    }
    if (route.info.method != method) continue;
    if (best == nullptr || route.specificity > best->specificity) {
      best = &route;
      result.route = i;
      result.params = std::move(*params);
    }
  }
  if (best != nullptr) {
    result.outcome = RouteMatch::Outcome::kFound;
  } else if (bad_encoding) {
    result.outcome = RouteMatch::Outcome::kBadEncoding;
  } else if (!allowed.empty()) {
    result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    std::sort(allowed.begin(), allowed.end());
    for (const auto verb : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += verb_name(verb);
    }
  }
  return result;
}

void Router::set_local(http::verb method, std::string_view pattern, LocalRoute local) {
  for (auto& route : routes_) {
    if (route->info.method == method && route->info.pattern == pattern) {
      route->local = std::move(local);
      return;
    }
  }
  throw std::invalid_argument("no route " + std::string(verb_name(method)) + " " + std::string(pattern));
}

namespace {

std::string_view authorization_of(const HttpRequest& request) {
  const auto it = request.message.find(http::field::authorization);
  return it == request.message.end() ? std::string_view{} : std_view(it->value());
}

}  // namespace

std::expected<Principal, HttpResponse> Router::admit(const RouteInfo& route,
                                                     std::expected<Principal, AuthFailure> principal) const {
  if (!principal) {
    return std::unexpected(principal.error() == AuthFailure::kMissing
                               ? unauthorized("send Authorization: Bearer <token>", false)
                               : unauthorized("the token is not valid", true));
  }
  // The per-key rate (issue: "429 past a per-key rate"); the admin token has its own bucket and
  // settings (RateLimitConfig::admin_requests_per_second, off by default: the operator's own).
  const auto caller = principal->admin ? RateLimiter::Caller::kAdmin : RateLimiter::Caller::kApiKey;
  if (const auto retry_after = limiter_->admit(principal->id, caller)) {
    return std::unexpected(too_many_requests(*retry_after));
  }
  if (route.options.admin_only && !principal->admin) {
    return std::unexpected(forbidden("this route needs the admin token"));
  }
  if (route.options.scope && !principal->has(*route.options.scope)) {
    const auto scope = scope_name(*route.options.scope);
    return std::unexpected(forbidden("the token lacks the " + std::string(scope) + " scope", scope));
  }
  return std::move(*principal);
}

HttpResponse Router::run(const Route& route, const RouteHandler& handler, const HttpRequest& request,
                         std::string_view path, const PathParams& params, const QueryParams& query,
                         const Principal* principal) const {
  const RequestContext context{request, request.message.method(), path, route.info.pattern, params, query, principal};
  try {
    return handler(context);
  } catch (const std::exception& error) {
    // DESIGN §5: the control path may throw; this is the one boundary that turns it into HTTP.
    CHORUS_LOG(kError, "rest", "handler failed", {"route", route.info.pattern}, {"error", error.what()});
    return internal_error("the server could not complete the request");
  }
}

HttpResponse Router::handle(const HttpRequest& request) const {
  const auto target = split_target(std_view(request.message.target()));
  if (!target) return bad_request("the request-target must be an absolute path");
  auto found = match(request.message.method(), target->path);
  switch (found.outcome) {
    case RouteMatch::Outcome::kNotFound:
      return not_found("no resource at " + std::string(target->path));
    case RouteMatch::Outcome::kMethodNotAllowed:
      return method_not_allowed(found.allow);
    case RouteMatch::Outcome::kBadEncoding:
      return bad_request("the path is badly percent-encoded");
    case RouteMatch::Outcome::kFound:
      break;
  }
  const auto query = QueryParams::parse(target->query);
  if (!query) return bad_request(query.error());
  const auto& route = *routes_[found.route];
  std::optional<Principal> principal;
  if (!route.info.options.public_route) {
    auto admitted = admit(route.info, authenticator_->authenticate(authorization_of(request)));
    if (!admitted) return std::move(admitted.error());
    principal = std::move(*admitted);
  }
  return run(route, route.handler, request, target->path, found.params, *query, principal ? &*principal : nullptr);
}

std::optional<HttpResponse> Router::handle_local(const HttpRequest& request) const {
  const auto target = split_target(std_view(request.message.target()));
  if (!target) return std::nullopt;
  auto found = match(request.message.method(), target->path);
  if (found.outcome != RouteMatch::Outcome::kFound) return std::nullopt;
  const auto& route = *routes_[found.route];
  if (!route.local || route.info.options.public_route || !route.local->ready()) return std::nullopt;
  const auto query = QueryParams::parse(target->query);
  if (!query) return std::nullopt;
  // Decided before admission, so a request that goes on to the control loop is counted once there.
  auto authenticated = authenticator_->authenticate_local(authorization_of(request));
  if (!authenticated) return std::nullopt;
  auto admitted = admit(route.info, std::move(*authenticated));
  if (!admitted) return std::move(admitted.error());
  return run(route, route.local->answer, request, target->path, found.params, *query, &*admitted);
}

bool Router::joins_write_group(const HttpRequest& request) const {
  const auto target = split_target(std_view(request.message.target()));
  if (!target) return false;
  const auto found = match(request.message.method(), target->path);
  return found.outcome == RouteMatch::Outcome::kFound && routes_[found.route]->info.options.write_group;
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(route->info);
  return out;
}

}  // namespace chorus::rest
