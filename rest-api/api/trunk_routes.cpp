#include "rest-api/api/trunk_routes.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/log.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/api/trunk_json.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
using conference::Trunk;

constexpr std::string_view kTrunkIdPrefix = "trk_";

std::string trunk_name(std::string_view id) {
  return "trunk " + std::string(id);
}

std::optional<conference::RegistrationStatus> status_of(const ApiServices& services, const Trunk& trunk) {
  if (services.trunks == nullptr || !trunk.registration) return std::nullopt;
  return services.trunks->status(trunk.id);
}

HttpResponse trunk_response(const ApiServices& services, http::status status, const Trunk& trunk) {
  auto response = HttpResponse::json(status, trunk_to_json(trunk, status_of(services, trunk)));
  response.message.set(http::field::cache_control, "no-store");  // RFC 9111 §5.2.2.5: about credentials
  return with_etag(std::move(response), trunk.version);
}

HttpResponse name_taken(const Trunk& trunk) {
  return conflict("a trunk named '" + trunk.name + "' exists");
}

void apply_live(ApiServices& services, const Trunk& trunk) {
  if (services.trunks != nullptr) services.trunks->replace(trunk);
}

HttpResponse create_trunk(ApiServices& services, const RequestContext& context) {
  auto body = parse_json_body(context);
  if (!body) return std::move(body.error());
  Trunk trunk;
  if (auto errors = apply_trunk_json(*body, trunk, true); !errors.empty()) return validation_failed(std::move(errors));
  auto existing = services.store.list_trunks("", kMaxTrunks);
  if (!existing) return store_error_response(existing.error(), "the trunks");
  if (existing->size() >= kMaxTrunks) {
    return conflict("at most " + std::to_string(kMaxTrunks) + " trunks; delete one first");
  }
  trunk.id = generate_id(kTrunkIdPrefix);
  trunk.created_at = services.now();
  trunk.updated_at = trunk.created_at;
  auto created = services.store.create_trunk(trunk);
  if (!created) {
    if (created.error().kind == conference::StoreErrorKind::kConflict) return name_taken(trunk);
    return store_error_response(created.error(), "the trunk");
  }
  apply_live(services, *created);
  CHORUS_LOG(kInfo, "rest", "trunk created", {"trunk_id", created->id}, {"name", created->name});
  auto response = trunk_response(services, http::status::created, *created);
  response.message.set(http::field::location, "/v1/trunks/" + created->id);
  return response;
}

HttpResponse list_trunks(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  auto trunks = services.store.list_trunks(page->after_id, page->limit + 1);  // one more: is there a next page?
  if (!trunks) return store_error_response(trunks.error(), "the trunks");
  auto response = HttpResponse::json(http::status::ok, page_body(*trunks, page->limit, [&services](const Trunk& trunk) {
                                       return trunk_to_json(trunk, status_of(services, trunk));
                                     }));
  response.message.set(http::field::cache_control, "no-store");
  return response;
}

HttpResponse get_trunk(ApiServices& services, const RequestContext& context) {
  const auto trunk = services.store.get_trunk(context.param("id"));
  if (!trunk) return store_error_response(trunk.error(), trunk_name(context.param("id")));
  return trunk_response(services, http::status::ok, *trunk);
}

HttpResponse patch_trunk(ApiServices& services, const RequestContext& context) {
  const auto id = context.param("id");
  const auto current = services.store.get_trunk(id);
  if (!current) return store_error_response(current.error(), trunk_name(id));
  if (auto refused = precondition_error(context, current->version, true)) return std::move(*refused);
  auto body = parse_json_body(context);
  if (!body) return std::move(body.error());
  Trunk trunk = *current;
  if (auto errors = apply_trunk_json(*body, trunk, false); !errors.empty()) return validation_failed(std::move(errors));
  trunk.updated_at = services.now();
  const auto version = services.store.update_trunk(trunk, current->version);
  if (!version) {
    if (version.error().kind == conference::StoreErrorKind::kConflict) return name_taken(trunk);
    return store_error_response(version.error(), trunk_name(id));
  }
  trunk.version = *version;
  apply_live(services, trunk);
  CHORUS_LOG(kInfo, "rest", "trunk updated", {"trunk_id", trunk.id}, {"name", trunk.name});
  return trunk_response(services, http::status::ok, trunk);
}

HttpResponse delete_trunk(ApiServices& services, const RequestContext& context) {
  const auto id = context.param("id");
  const auto current = services.store.get_trunk(id);
  if (!current) return store_error_response(current.error(), trunk_name(id));
  if (auto refused = precondition_error(context, current->version, false)) return std::move(*refused);
  if (auto deleted = services.store.delete_trunk(id); !deleted) {
    return store_error_response(deleted.error(), trunk_name(id));
  }
  if (services.trunks != nullptr) services.trunks->remove(id);
  CHORUS_LOG(kInfo, "rest", "trunk deleted", {"trunk_id", id});
  return HttpResponse::empty(http::status::no_content);
}

}  // namespace

void add_trunk_routes(Router& router, ApiServices& services) {
  const auto bind = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) { return handler(services, context); };
  };
  const auto options = [](const char* summary) {
    return RouteOptions{.scope = Scope::kSystemAdmin, .summary = summary};
  };
  router.add(http::verb::post, "/v1/trunks", options("Create a SIP trunk"), bind(create_trunk));
  router.add(http::verb::get, "/v1/trunks", options("List SIP trunks"), bind(list_trunks));
  router.add(http::verb::get, "/v1/trunks/{id}", options("Get a SIP trunk and its registration status"),
             bind(get_trunk));
  router.add(http::verb::patch, "/v1/trunks/{id}", options("Update a SIP trunk"), bind(patch_trunk));
  router.add(http::verb::delete_, "/v1/trunks/{id}", options("Delete a SIP trunk"), bind(delete_trunk));
}

}  // namespace chorus::rest
