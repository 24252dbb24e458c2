#include "rest-api/api/dial_out_route.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "conference/trunks/number_normalization.hpp"
#include "rest-api/api/cluster_redirect.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/problem.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::size_t kMaxTargetLength = 512;       // bytes; a SIP URI longer than this is not a phone's
constexpr std::size_t kMaxDisplayNameLength = 200;  // bytes, as room names

// The body's fields, each checked; every problem is named by its JSON Pointer (RFC 9457 errors[]).
std::expected<conference::DialOutRequest, HttpResponse> read_request(const RequestContext& context,
                                                                     std::string room_id) {
  auto body = parse_json_body(context);
  if (!body) return std::unexpected(body.error());
  if (!body->is_object()) return std::unexpected(validation_failed({{"", "the body must be a JSON object"}}));
  std::vector<FieldError> errors;
  std::string trunk_id;
  for (const auto& [key, value] : body->items())
    if (key != "to" && key != "display_name" && key != "trunk")
      errors.push_back({pointer_to(key), "unknown field (to, display_name, trunk)"});
  // Issue 15: through a trunk, `to` is a number the trunk's numbering reads ("+4930…", "030…").
  if (const auto trunk = body->find("trunk"); trunk != body->end() && !trunk->is_null()) {
    if (!trunk->is_string() || trunk->get_ref<const std::string&>().empty() ||
        trunk->get_ref<const std::string&>().size() > kMaxIdLength) {
      errors.push_back({"/trunk", "trunk must be a trunk's id"});
    } else {
      trunk_id = trunk->get<std::string>();
    }
  }
  conference::DialOutRequest request{std::move(room_id), {}, {}, std::move(trunk_id)};
  const auto to = body->find("to");
  if (to == body->end()) {
    errors.push_back({"/to", "to is required"});
  } else if (!to->is_string()) {
    errors.push_back({"/to", "to must be a string"});
  } else {
    request.target = to->get<std::string>();
    auto uri = sip::parse_uri(request.target);
    if (request.target.size() > kMaxTargetLength || has_control_characters(request.target)) {
      errors.push_back({"/to", "to must be a SIP URI of at most 512 bytes"});
    } else if (!request.trunk_id.empty() && conference::looks_like_number(request.target)) {
      // A number for the trunk: the conference normalises it with the trunk's numbering.
    } else if (!uri || !uri->is_sip() || uri->host.empty()) {
      errors.push_back({"/to", "to must be a sip: or sips: URI such as sip:alice@192.0.2.10:5060" +
                                   (uri ? std::string() : " (" + uri.error() + ")")});
    }
  }
  if (const auto name = body->find("display_name"); name != body->end() && !name->is_null()) {
    if (!name->is_string()) {
      errors.push_back({"/display_name", "display_name must be a string"});
    } else {
      request.display_name = name->get<std::string>();
      if (request.display_name.size() > kMaxDisplayNameLength || has_control_characters(request.display_name))
        errors.push_back({"/display_name", "display_name must be at most 200 bytes without control characters"});
    }
  }
  if (!errors.empty()) return std::unexpected(validation_failed(std::move(errors)));
  return request;
}

HttpResponse dial_out(ApiServices& services, const RequestContext& context) {
  auto request = read_request(context, std::string(context.param("id")));
  if (!request) return request.error();
  if (!services.dial_out) return service_unavailable("dial-out is not available in this server");
  auto started = services.dial_out(*request);
  if (!started) {
    const auto& error = started.error();
    switch (error.refusal) {
      case conference::DialOutRefusal::kRoomNotFound:
        return not_found(error.detail);
      case conference::DialOutRefusal::kRoomLocked:
      case conference::DialOutRefusal::kRoomFull:
        return conflict(error.detail);
      case conference::DialOutRefusal::kBadTarget:
        return validation_failed({{"/to", error.detail}}, "the target cannot be dialled");
      case conference::DialOutRefusal::kForbidden:
        // Issue 12: the egress policy, not the caller's scopes: no WWW-Authenticate (RFC 6750 §3.1).
        return problem_response(Problem{.status = http::status::forbidden,
                                        .slug = kProblemEgressRefused,
                                        .title = "Target refused by the egress policy",
                                        .detail = error.detail,
                                        .instance = {},
                                        .errors = {{"/to", error.detail}}});
      case conference::DialOutRefusal::kUnavailable:
        break;
    }
    return service_unavailable(error.detail, std::chrono::seconds(10));
  }
  // RFC 9110 §15.3.3: accepted, the outcome comes later (participant.joined or .dial_failed).
  return HttpResponse::json(http::status::accepted, json{{"id", std::to_string(started->participant_id)},
                                                         {"to", request->target},
                                                         {"display_name", request->display_name},
                                                         {"call_id", started->call_id},
                                                         {"state", "dialing"}});
}

}  // namespace

void add_dial_out_route(Router& router, ApiServices& services) {
  router.add(http::verb::post, "/v1/conferences/{id}/participants",
             {.scope = Scope::kCallsDialOut, .summary = "Call someone into the room (dial-out)"},
             [&services](const RequestContext& context) {
               // Issue 14: a conference running on another node is called into there.
               if (auto moved = conference_elsewhere(services, context, context.param("id"))) return std::move(*moved);
               return dial_out(services, context);
             });
}

}  // namespace chorus::rest
