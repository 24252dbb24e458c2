#include "rest-api/api/openapi_routes.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;

std::string operation_key(std::string_view method, std::string_view path) {
  std::string key(method);
  std::ranges::transform(key, key.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return key + " " + std::string(path);
}

std::set<std::string> documented() {
  static constexpr std::string_view kMethods[] = {"get", "put", "post", "delete", "patch", "head", "options"};
  std::set<std::string> out;
  const auto document = nlohmann::json::parse(openapi_document_text());
  for (const auto& [path, item] : document.at("paths").items())
    for (auto method : kMethods)
      if (item.contains(method)) out.insert(operation_key(method, path));
  return out;
}

std::set<std::string> routed(const Router& router) {
  std::set<std::string> out;
  for (const auto& route : router.routes()) {
    const auto verb = http::to_string(route.method);
    out.insert(operation_key(std::string_view(verb.data(), verb.size()), route.pattern));
  }
  return out;
}

}  // namespace

void add_openapi_routes(Router& router) {
  router.add(http::verb::get, "/v1/openapi.json", {.summary = "This API's OpenAPI document", .public_route = true},
             [](const RequestContext&) {
               return HttpResponse::text(http::status::ok, std::string(openapi_document_text()), "application/json");
             });
}

std::vector<std::string> undocumented_routes(const Router& router) {
  const auto docs = documented();
  std::vector<std::string> out;
  for (const auto& key : routed(router))
    if (!docs.contains(key)) out.push_back(key);
  return out;
}

std::vector<std::string> unrouted_operations(const Router& router) {
  const auto routes = routed(router);
  std::vector<std::string> out;
  for (const auto& key : documented())
    if (!routes.contains(key)) out.push_back(key);
  return out;
}

}  // namespace chorus::rest
