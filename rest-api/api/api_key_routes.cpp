#include "rest-api/api/api_key_routes.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/api_key_cache.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace {

namespace http = boost::beast::http;
using conference::ApiKey;

constexpr std::string_view kApiKeyIdPrefix = "k_";

nlohmann::json key_json(const ApiKey& key) {
  return {{"id", key.id}, {"name", key.name}, {"scopes", key.scopes}, {"created_at", format_rfc3339(key.created_at)}};
}

struct NewKey {
  std::string name;
  ScopeSet scopes;
};

// {name, scopes[]}: every problem is reported, each at its JSON Pointer (RFC 6901).
std::expected<NewKey, HttpResponse> parse_new_key(const nlohmann::json& body) {
  if (!body.is_object()) return std::unexpected(validation_failed({{"", "the body must be a JSON object"}}));
  std::vector<FieldError> errors;
  NewKey key;
  const auto name = body.find("name");
  if (name == body.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    errors.push_back({"/name", "name is required: a non-empty string"});
  } else if (name->get_ref<const std::string&>().size() > kMaxApiKeyNameLength) {
    errors.push_back({"/name", "name is longer than " + std::to_string(kMaxApiKeyNameLength) + " bytes"});
  } else {
    key.name = name->get<std::string>();
  }
  const auto scopes = body.find("scopes");
  if (scopes == body.end() || !scopes->is_array() || scopes->empty()) {
    errors.push_back({"/scopes", "scopes is required: a non-empty array of scope names"});
  } else {
    for (std::size_t i = 0; i < scopes->size(); ++i) {
      const auto& item = (*scopes)[i];
      const auto scope = item.is_string() ? parse_scope(item.get_ref<const std::string&>()) : std::nullopt;
      if (!scope) {
        errors.push_back({"/scopes/" + std::to_string(i),
                          "unknown scope; one of rooms:read, rooms:write, meetings:write, conferences:moderate"});
        continue;
      }
      key.scopes.insert(*scope);
    }
  }
  if (!errors.empty()) return std::unexpected(validation_failed(std::move(errors)));
  return key;
}

HttpResponse create_key(ApiServices& services, const RequestContext& context) {
  auto body = parse_json_body(context);
  if (!body) return std::move(body.error());
  auto input = parse_new_key(*body);
  if (!input) return std::move(input.error());
  const std::string token = generate_token();
  ApiKey key{.id = generate_id(kApiKeyIdPrefix),
             .name = std::move(input->name),
             .scopes = input->scopes.names(),
             .token_hash = hash_token(token),
             .created_at = services.now()};
  if (auto created = services.store.create_api_key(key); !created) {
    return store_error_response(created.error(), "the API key");
  }
  CHORUS_LOG(kInfo, "rest", "api key created", {"key_id", key.id}, {"name", key.name});
  nlohmann::json out = key_json(key);
  out["token"] = token;  // the only time it is ever shown
  auto response = HttpResponse::json(http::status::created, out);
  response.message.set(http::field::location, "/v1/api-keys/" + key.id);
  response.message.set(http::field::cache_control, "no-store");  // RFC 9111 §5.2.2.5: it holds a secret
  return response;
}

HttpResponse list_keys(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  // One more than asked tells whether another page exists.
  auto keys = services.store.list_api_keys(page->after_id, page->limit + 1);
  if (!keys) return store_error_response(keys.error(), "the API keys");
  return HttpResponse::json(http::status::ok, page_body(*keys, page->limit, key_json));
}

}  // namespace

void add_api_key_routes(Router& router, ApiServices& services) {
  router.add(http::verb::post, "/v1/api-keys", {.summary = "Create an API key", .admin_only = true},
             [&services](const RequestContext& context) { return create_key(services, context); });
  router.add(http::verb::get, "/v1/api-keys", {.summary = "List API keys", .admin_only = true},
             [&services](const RequestContext& context) { return list_keys(services, context); });
  router.add(http::verb::get, "/v1/api-keys/{id}", {.summary = "Get an API key", .admin_only = true},
             [&services](const RequestContext& context) {
               const auto key = services.store.get_api_key(context.param("id"));
               if (!key) return store_error_response(key.error(), "the API key");
               return HttpResponse::json(http::status::ok, key_json(*key));
             });
  router.add(http::verb::delete_, "/v1/api-keys/{id}", {.summary = "Delete an API key", .admin_only = true},
             [&services](const RequestContext& context) {
               const auto id = context.param("id");
               auto deleted = services.store.delete_api_key(id);
               // Whatever the outcome (kIo: unknown), no request may be admitted by a cached copy
               // of a key the store may no longer hold: the next one asks the store again.
               if (services.key_cache != nullptr) services.key_cache->clear();
               if (!deleted) return store_error_response(deleted.error(), "the API key");
               CHORUS_LOG(kInfo, "rest", "api key deleted", {"key_id", id});
               return HttpResponse::empty(http::status::no_content);
             });
}

std::optional<ApiKeyPrincipal> StoreApiKeyLookup::find_by_hash(const std::string& token_hash) {
  auto key = store_.find_api_key_by_token_hash(token_hash);
  if (!key) {
    if (key.error().kind != conference::StoreErrorKind::kNotFound) {
      CHORUS_LOG(kError, "rest", "api key lookup failed", {"error", key.error().message});
    }
    return std::nullopt;
  }
  ApiKeyPrincipal principal{.id = std::move(key->id), .name = std::move(key->name), .scopes = {}};
  for (const auto& name : key->scopes) {
    if (const auto scope = parse_scope(name)) principal.scopes.insert(*scope);
  }
  return principal;
}

}  // namespace chorus::rest
