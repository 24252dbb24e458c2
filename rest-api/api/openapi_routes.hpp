// GET /v1/openapi.json: the OpenAPI 3.1 document of this API (rest-api/api/openapi.json, compiled
// in). Its paths and methods must be exactly the router's routes: undocumented_routes() and
// unrouted_operations() say where they differ, and a unit test keeps both lists empty.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rest-api/router.hpp"

namespace chorus::rest {

std::string_view openapi_document_text();

void add_openapi_routes(Router& router);

// "GET /v1/rooms" lines: routes the document lacks, and documented operations no route serves.
std::vector<std::string> undocumented_routes(const Router& router);
std::vector<std::string> unrouted_operations(const Router& router);

}  // namespace chorus::rest
