// What the admin and system routes (api_key_routes, webhook_routes, event_routes) share: cursor
// paging from `limit` / `page_token`, store errors as problem+json, new record ids and the
// RFC 3339 times of the JSON bodies.
//
// Threading: pure functions, any thread; the handlers that use them run on the control loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "conference/store/store.hpp"
#include "rest-api/http_message.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest::admin_api {

// One page request: `page_token` is the last id of the previous page (empty: from the start),
// `limit` is 1..kMaxPageSize (kDefaultPageSize when absent). A bad limit is a 400 naming it.
struct PageRequest {
  std::string after;
  std::size_t limit = 0;
};
std::expected<PageRequest, HttpResponse> parse_page(const RequestContext& context);

// 404, 409, 412 or 500 (kIo: the detail stays generic, the cause goes to the log).
HttpResponse store_error_response(const conference::StoreError& error, std::string_view what);

// A new record id: `prefix` + 20 characters of [A-Za-z0-9] (ids need uniqueness, not secrecy).
std::string new_id(std::string_view prefix);

// RFC 3339 UTC, seconds precision: "2026-11-26T09:00:00Z".
std::string json_time(std::chrono::system_clock::time_point at);

}  // namespace chorus::rest::admin_api
